import Authority
import Foundation
import Messages
import Postgres

/// One row of `deadlines`, as the coordinator reads it.
package struct DeadlineRow: Sendable, Hashable {
    package var step: Int
    package var kind: DeadlineKind
    package var department: DepartmentID?
    var procedure: String?
    package var dueDate: LocalDate
    var dueAt: Date
    package var status: String
    package var pausedSince: Date?
    package var fired: Int
}

/// The SQL of `deadlines`, `dossier_timeline` and `escalations` shared by the projection, the apology desk and
/// the timer. Every function runs inside the caller's transaction.
package enum DeadlineStore {
    /// The deadlines of a dossier, locked for the rest of the transaction.
    package static func load(_ dossierId: String, in tx: PostgresConnection) throws -> [Int: DeadlineRow] {
        var result: [Int: DeadlineRow] = [:]
        for row in try tx.query(
            """
            SELECT step, kind, department, procedure, due_date::text AS due_date, due_at, status, paused_since, fired
            FROM deadlines WHERE dossier_id = $1 FOR UPDATE
            """, [dossierId])
        {
            let step = try row.decode(Int.self, "step")
            result[step] = DeadlineRow(
                step: step, kind: DeadlineKind(rawValue: try row.decode(String.self, "kind")) ?? .step,
                department: try row.decodeIfPresent(DepartmentID.self, "department"),
                procedure: try row.decodeIfPresent(String.self, "procedure"),
                dueDate: LocalDate(try row.decode(String.self, "due_date")) ?? LocalDate(dayNumber: 0),
                dueAt: try row.decode(Date.self, "due_at"), status: try row.decode(String.self, "status"),
                pausedSince: try row.decodeIfPresent(Date.self, "paused_since"), fired: try row.decode(Int.self, "fired"))
        }
        return result
    }

    /// Opens a deadline; a deadline already there (a replayed event) stays as it is.
    package static func open(
        _ dossierId: String, step: Int, kind: DeadlineKind, department: DepartmentID?, procedure: String?,
        schedule: DeadlineSchedule, at: Date, in tx: PostgresConnection
    ) throws {
        try tx.execute(
            """
            INSERT INTO deadlines (dossier_id, step, kind, department, procedure, opened_at, due_date, soon_at, due_at,
                                   level2_at, next_fire_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7::date, $8, $9, $10, $11)
            ON CONFLICT (dossier_id, step) DO NOTHING
            """,
            [dossierId, step, kind.rawValue, department, procedure, at, schedule.dueDate.description, schedule.soonAt,
             schedule.dueAt, schedule.level2At, schedule.nextFire(fired: 0)])
    }

    /// Moves a deadline to a new schedule and opens it (resume, apology).
    package static func reschedule(
        _ dossierId: String, step: Int, schedule: DeadlineSchedule, fired: Int, pausedDays: Int = 0,
        in tx: PostgresConnection
    ) throws {
        try tx.execute(
            """
            UPDATE deadlines SET due_date = $3::date, soon_at = $4, due_at = $5, level2_at = $6, fired = $7,
                next_fire_at = $8, status = 'open', paused_since = NULL, paused_days = paused_days + $9
            WHERE dossier_id = $1 AND step = $2
            """,
            [dossierId, step, schedule.dueDate.description, schedule.soonAt, schedule.dueAt, schedule.level2At,
             fired, schedule.nextFire(fired: fired), pausedDays])
    }

    /// Closes deadlines (all of the dossier's when `steps` is nil), on time when `at` is not after their due instant.
    /// `counted: false` (a withdrawal) leaves
    /// `closed_on_time` NULL, so the on-time statistics count the step as neither on time nor late.
    package static func close(
        _ dossierId: String, steps: [Int]?, at: Date, counted: Bool = true, in tx: PostgresConnection
    ) throws {
        try tx.execute(
            """
            UPDATE deadlines SET status = 'closed', closed_at = $2, next_fire_at = NULL, paused_since = NULL,
                closed_on_time = CASE WHEN $4 THEN $2 <= due_at END
            WHERE dossier_id = $1 AND status <> 'closed' AND ($3::int8[] IS NULL OR step = ANY($3::int8[]))
            """, [dossierId, at, steps.map { PostgresIntArray($0.map(Int64.init)) }, counted])
    }

    /// One timeline entry; a replayed event id is ignored.
    package static func timeline(
        _ dossierId: String, eventId: UUID, type: String, step: Int?, at: Date, from: String?, to: String?,
        due: LocalDate?, detail: String? = nil, in tx: PostgresConnection
    ) throws {
        try tx.execute(
            """
            INSERT INTO dossier_timeline (dossier_id, event_id, type, step, at, from_department, to_department,
                                          due_date, timing, detail)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8::date, $9, $10) ON CONFLICT (event_id) DO NOTHING
            """,
            [dossierId, eventId, type, step, at, from, to, due?.description, due.map { timing(at, due: $0) }, detail])
    }

    /// `before`, `on` or `after` the due date, by local day.
    package static func timing(_ at: Date, due: LocalDate) -> String {
        let day = DeadlinePolicy.localDay(at)
        return day < due ? "before" : day == due ? "on" : "after"
    }
}
