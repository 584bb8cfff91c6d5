import Authority
import Foundation
import Postgres

/// The deadline timer's statements: claiming due deadlines, recording what fired, and the gauges.
package enum TimerStore {
    /// A due deadline, claimed (`FOR UPDATE SKIP LOCKED`) for the open transaction.
    package struct Due: Sendable {
        package var dossierId: String
        package var step: Int
        package var kind: String
        package var department: DepartmentID?
        package var dueDate: String
        package var soonAt: Date?
        package var dueAt: Date
        package var level2At: Date?
        package var fired: Int
    }

    /// What one firing round writes.
    package struct Fired: Sendable {
        package var ids: [String] = []
        package var steps: [String] = []
        package var fired: [String] = []
        /// The next instant a level fires, `""` for none.
        package var next: [String] = []
        /// `escalations` rows (dossier_id, step, kind, level, reason, department, recipient, opened_at) as text.
        package var escalations: [[String?]] = []
        /// `dossier_timeline` rows as text.
        package var timeline: [[String?]] = []
        package var overdue: [String] = []

        package init() {}
    }

    /// The open deadlines whose next level is due at `now`, oldest first, at most `limit`, locked for this
    /// transaction (other timers skip them).
    package static func claimDue(now: Date, limit: Int, in tx: PostgresConnection) throws -> [Due] {
        try tx.query(
            """
            SELECT dossier_id, step, kind, department, due_date::text AS due_date, soon_at, due_at, level2_at, fired
            FROM deadlines WHERE status = 'open' AND next_fire_at <= \(now)
            ORDER BY next_fire_at LIMIT \(limit) FOR UPDATE SKIP LOCKED
            """
        ).map { row in
            Due(
                dossierId: try row.decode(String.self, "dossier_id"), step: try row.decode(Int.self, "step"),
                kind: try row.decode(String.self, "kind"), department: try row.decodeIfPresent(DepartmentID.self, "department"),
                dueDate: try row.decode(String.self, "due_date"), soonAt: try row.decodeIfPresent(Date.self, "soon_at"),
                dueAt: try row.decode(Date.self, "due_at"), level2At: try row.decodeIfPresent(Date.self, "level2_at"),
                fired: try row.decode(Int.self, "fired"))
        }
    }

    /// Records a round: the levels fired and the next instants, the escalations, the timeline, the overdue flags.
    package static func record(_ round: Fired, in tx: PostgresConnection) throws {
        try tx.execute(
            """
            UPDATE deadlines AS d SET fired = u.fired::int2, next_fire_at = NULLIF(u.next, '')::timestamptz
            FROM unnest(\(round.ids, as: "text[]"), \(round.steps, as: "text[]"), \(round.fired, as: "text[]"),
                        \(round.next, as: "text[]")) AS u(dossier_id, step, fired, next)
            WHERE d.dossier_id = u.dossier_id AND d.step = u.step::int4
            """)
        if !round.escalations.isEmpty {
            try tx.copyIn(
                "COPY escalations (dossier_id, step, kind, level, reason, department, recipient, opened_at) FROM STDIN"
            ) { writer in
                for row in round.escalations { try writer.row(text: row) }
            }
        }
        if !round.timeline.isEmpty {
            try tx.copyIn(
                """
                COPY dossier_timeline (dossier_id, event_id, type, step, at, from_department, to_department, due_date,
                                       timing, detail) FROM STDIN
                """
            ) { writer in
                for row in round.timeline { try writer.row(text: row) }
            }
        }
        if !round.overdue.isEmpty {
            try tx.execute("UPDATE dossier_status SET overdue = true WHERE dossier_id = ANY(\(round.overdue, as: "text[]"))")
        }
    }

    /// The figures of the timer's gauges.
    package struct Gauges: Sendable {
        package var openDossiers: Int
        package var overdueByDepartment: [String: Int]
        package var openEscalationsByLevel: [Int: Int]
        /// The due instant of the oldest unfired timer.
        package var oldestDue: Date?
    }

    package static func gauges(on database: PostgresConnection) throws -> Gauges {
        let open = try database.query(
            """
            SELECT count(*) AS n FROM dossier_status
            WHERE status NOT IN ('decided', 'intake-refused', 'intake-incomplete')
            """)[0].decode(Int.self, "n")
        var overdue: [String: Int] = [:]
        for row in try database.query(
            """
            SELECT COALESCE(department, '') AS department, count(*) AS n FROM deadlines
            WHERE status <> 'closed' AND kind <> 'overall' AND fired & 2 <> 0 GROUP BY 1
            """)
        {
            overdue[try row.decode(String.self, "department")] = try row.decode(Int.self, "n")
        }
        var escalations: [Int: Int] = [:]
        for row in try database.query(
            "SELECT level, count(*) AS n FROM escalations WHERE closed_at IS NULL GROUP BY level")
        {
            escalations[try row.decode(Int.self, "level")] = try row.decode(Int.self, "n")
        }
        let oldest = try database.query(
            "SELECT min(next_fire_at) AS t FROM deadlines WHERE status = 'open' AND next_fire_at IS NOT NULL"
        )[0].decodeIfPresent(Date.self, "t")
        return Gauges(
            openDossiers: open, overdueByDepartment: overdue, openEscalationsByLevel: escalations, oldestDue: oldest)
    }
}
