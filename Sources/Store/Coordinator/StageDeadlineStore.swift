import Authority
import Foundation
import Messages
import Postgres

/// The SQL of the stage deadlines and in-department escalations (migration 023): statement by statement for the
/// per-event reference projection, and the deadline timer's claim and record.
package enum StageDeadlineStore {
    /// The step is at `stage`, due at `deadline.dueAt` (see ``ProjectionRows/moveStage``): the same open stage with
    /// the same round and due instant keeps its row; anything else starts it afresh.
    /// While the step is paused (`paused`) the row fires nothing until the pause ends.
    package static func move(
        _ dossierId: String, step: Int, round: Int, department: String, stage: String, deadline: StageDeadline,
        paused: Bool = false, at: Date, in tx: PostgresConnection
    ) throws {
        try tx.execute(
            """
            INSERT INTO stage_deadlines AS s (dossier_id, step, round, department, stage, entered_at, due_at, head_at,
                                              director_at, fired, next_fire_at, status)
            VALUES (\(dossierId), \(step), \(round), \(department), \(stage), \(at), \(deadline.dueAt),
                    \(deadline.headAt), \(deadline.directorAt), 0, \(paused ? nil : deadline.nextFire(fired: 0)),
                    'open')
            ON CONFLICT (dossier_id, step) DO UPDATE SET
                round = EXCLUDED.round, department = EXCLUDED.department, stage = EXCLUDED.stage,
                entered_at = EXCLUDED.entered_at, due_at = EXCLUDED.due_at, head_at = EXCLUDED.head_at,
                director_at = EXCLUDED.director_at, fired = 0, next_fire_at = EXCLUDED.next_fire_at, status = 'open',
                closed_at = NULL
            WHERE NOT (s.status = 'open' AND s.round = EXCLUDED.round AND s.stage = EXCLUDED.stage
                       AND s.due_at = EXCLUDED.due_at)
            """)
    }

    /// The step is paused (a supplement, a fee): the dossier's open stages fire nothing until it resumes.
    package static func pause(_ dossierId: String, in tx: PostgresConnection) throws {
        try tx.execute(
            "UPDATE stage_deadlines SET next_fire_at = NULL WHERE dossier_id = \(dossierId) AND status = 'open'")
    }

    /// The pause that began at `since` ends at `at`: each open stage's deadline moves
    /// (``resumed(_:enteredAt:since:at:calendar:)``) and its levels not yet fired are due again.
    package static func resume(
        _ dossierId: String, since: Date, at: Date, calendar: WorkingCalendar, in tx: PostgresConnection
    ) throws {
        let open = try tx.query(
            """
            SELECT step, entered_at, due_at, head_at, director_at, fired FROM stage_deadlines
            WHERE dossier_id = \(dossierId) AND status = 'open'
            """)
        for row in open {
            let moved = resumed(
                StageDeadline(
                    dueAt: try row.decode(Date.self, "due_at"), headAt: try row.decode(Date.self, "head_at"),
                    directorAt: try row.decode(Date.self, "director_at")),
                enteredAt: try row.decode(Date.self, "entered_at"), since: since, at: at, calendar: calendar)
            let step = try row.decode(Int.self, "step")
            let next = moved.nextFire(fired: try row.decode(Int.self, "fired"))
            try tx.execute(
                """
                UPDATE stage_deadlines SET due_at = \(moved.dueAt), head_at = \(moved.headAt),
                    director_at = \(moved.directorAt), next_fire_at = \(next)
                WHERE dossier_id = \(dossierId) AND step = \(step)
                """)
        }
    }

    /// A stage deadline after the step's pause from `since` to `at`: moved by the working days the stage itself was
    /// paused — from its entry when it was entered during the pause — counted as the step's deadline counts them
    /// (``DeadlinePolicy/pausedWorkingDays(since:until:calendar:)``).
    package static func resumed(
        _ deadline: StageDeadline, enteredAt: Date, since: Date, at: Date, calendar: WorkingCalendar
    ) -> StageDeadline {
        let days = DeadlinePolicy.pausedWorkingDays(since: max(since, enteredAt), until: at, calendar: calendar)
        return deadline.moved(byWorkingDays: days, calendar: calendar)
    }

    /// The step's open stage (every step's when `step` is nil) closes; with `beforeRound`, only a stage of an
    /// earlier round (a supplement opened a new one, decided afresh).
    package static func close(
        _ dossierId: String, step: Int?, beforeRound: Int? = nil, at: Date, in tx: PostgresConnection
    ) throws {
        try tx.execute(
            """
            UPDATE stage_deadlines SET status = 'closed', closed_at = \(at), next_fire_at = NULL
            WHERE dossier_id = \(dossierId) AND status = 'open' AND (\(step)::int4 IS NULL OR step = \(step))
              AND (\(beforeRound)::int4 IS NULL OR round < \(beforeRound))
            """)
    }

    /// A stage deadline whose next level is due, claimed (`FOR UPDATE SKIP LOCKED`) for the open transaction, with
    /// the stage's role and division as the department's worker recorded them (`stages`).
    package struct Due: Sendable {
        package var dossierId: String
        package var step: Int
        package var round: Int
        package var department: String
        package var stage: String
        package var enteredAt: Date
        package var deadline: StageDeadline
        package var fired: Int
        package var role: StageRole?
        package var division: String?
    }

    /// The open stage deadlines whose next level is due at `now`, oldest first, at most `limit`, locked for this
    /// transaction (other timers, and the projection, wait or skip).
    package static func claimDue(now: Date, limit: Int, in tx: PostgresConnection) throws -> [Due] {
        try tx.query(
            """
            SELECT d.dossier_id, d.step, d.round, d.department, d.stage, d.entered_at, d.due_at, d.head_at,
                   d.director_at, d.fired, s.role, s.division
            FROM (SELECT * FROM stage_deadlines WHERE status = 'open' AND next_fire_at <= \(now)
                  ORDER BY next_fire_at LIMIT \(limit) FOR UPDATE SKIP LOCKED) AS d
            LEFT JOIN stages s ON s.dossier_id = d.dossier_id AND s.step = d.step AND s.round = d.round
            ORDER BY d.next_fire_at, d.dossier_id
            """
        ).map { row in
            Due(
                dossierId: try row.decode(String.self, "dossier_id"), step: try row.decode(Int.self, "step"),
                round: try row.decode(Int.self, "round"), department: try row.decode(String.self, "department"),
                stage: try row.decode(String.self, "stage"), enteredAt: try row.decode(Date.self, "entered_at"),
                deadline: StageDeadline(
                    dueAt: try row.decode(Date.self, "due_at"), headAt: try row.decode(Date.self, "head_at"),
                    directorAt: try row.decode(Date.self, "director_at")),
                fired: try row.decode(Int.self, "fired"),
                role: try row.decodeIfPresent(String.self, "role").flatMap(StageRole.init(rawValue:)),
                division: try row.decodeIfPresent(String.self, "division"))
        }
    }

    /// An in-department escalation the timer opens.
    package struct Escalation: Sendable {
        package var due: Due
        package var level: StageEscalationLevel
        package var reason: String
        package var recipient: String

        package init(due: Due, level: StageEscalationLevel, reason: String, recipient: String) {
            self.due = due
            self.level = level
            self.reason = reason
            self.recipient = recipient
        }
    }

    /// Records a timer round: the levels fired and the next instants, and the escalations (each once: a replayed
    /// round inserts nothing twice).
    package static func record(
        _ claimed: [Due], fired: [Int], next: [Date?], escalations: [Escalation], at now: Date,
        in tx: PostgresConnection
    ) throws {
        guard !claimed.isEmpty else { return }
        try tx.execute(
            """
            UPDATE stage_deadlines AS d SET fired = u.fired::int2, next_fire_at = NULLIF(u.next, '')::timestamptz
            FROM unnest(\(claimed.map(\.dossierId), as: "text[]"), \(claimed.map { String($0.step) }, as: "text[]"),
                        \(fired.map(String.init), as: "text[]"),
                        \(next.map { $0.map(PostgresTimestamp.format) ?? "" }, as: "text[]")) AS u(dossier_id, step, fired, next)
            WHERE d.dossier_id = u.dossier_id AND d.step = u.step::int4
            """)
        guard !escalations.isEmpty else { return }
        func column(_ values: [String?]) -> PostgresNullableTextArray { PostgresNullableTextArray(values) }
        try tx.execute(
            """
            INSERT INTO stage_escalations (dossier_id, step, round, stage, entered_at, level, reason, department,
                                           division, recipient, due_at, opened_at)
            SELECT dossier_id, step::int4, round::int4, stage, entered_at::timestamptz, level, reason, department,
                   division, recipient, due_at::timestamptz, $11::timestamptz
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                        $8::text[], $9::text[], $10::text[], $12::text[])
                 AS u(dossier_id, step, round, stage, entered_at, level, reason, department, division, recipient,
                      due_at)
            ON CONFLICT DO NOTHING
            """,
            [
                column(escalations.map(\.due.dossierId)), column(escalations.map { String($0.due.step) }),
                column(escalations.map { String($0.due.round) }), column(escalations.map(\.due.stage)),
                column(escalations.map { PostgresTimestamp.format($0.due.enteredAt) }),
                column(escalations.map(\.level.rawValue)), column(escalations.map(\.reason)),
                column(escalations.map(\.due.department)), column(escalations.map(\.due.division)),
                column(escalations.map(\.recipient)), PostgresTimestamp.format(now),
                column(escalations.map { PostgresTimestamp.format($0.due.deadline.dueAt) }),
            ])
    }
}

extension StageDeadlineStore {
    /// What a `stage-moved` event means for the step's stage deadline.
    package enum Movement: Sendable, Hashable {
        /// Nothing (no stage or due instant: an event the projection cannot place).
        case none
        /// The last stage finished: signed or refused.
        case close
        /// The step is at `stage` now, with this deadline.
        case move(stage: String, deadline: StageDeadline)

        package init(_ event: DossierEvent, calendar: WorkingCalendar) {
            if event.data.action == "sign" || event.data.action == "refuse" {
                self = .close
            } else if let stage = event.data.stage, let dueAt = event.data.dueAt {
                self = .move(stage: stage, deadline: StageDeadline(dueAt: dueAt, calendar: calendar))
            } else {
                self = .none
            }
        }
    }
}
