import Authority
import Foundation
import Postgres

/// The statements of an apology slip (form 04): the slip, the moved deadline, the projected date.
package enum ApologyStore {
    /// Records the slip; false when one was already issued for the step (a deadline moves once).
    package static func record(
        _ dossierId: String, step: Int, reason: String, previousDate: LocalDate, newDate: LocalDate,
        issuedBy: String?, at now: Date, in tx: PostgresConnection
    ) throws -> Bool {
        try tx.execute(
            """
            INSERT INTO apologies (dossier_id, step, reason, previous_date, new_date, issued_by, issued_at)
            VALUES (\(dossierId), \(step), \(reason), \(previousDate.description, as: "date"),
                    \(newDate.description, as: "date"), \(issuedBy as String?), \(now))
            ON CONFLICT DO NOTHING
            """) == 1
    }

    /// Moves a paused deadline to its new date without resuming it; every level fires again.
    package static func movePaused(
        _ dossierId: String, step: Int, to newDate: LocalDate, schedule: DeadlineSchedule, in tx: PostgresConnection
    ) throws {
        try tx.execute(
            """
            UPDATE deadlines SET due_date = \(newDate.description, as: "date"), soon_at = \(schedule.soonAt),
                due_at = \(schedule.dueAt), level2_at = \(schedule.level2At), fired = 0
            WHERE dossier_id = \(dossierId) AND step = \(step)
            """)
    }

    /// The projected date the slip moved: the whole procedure's, or the current step's.
    package static func moveProjectedDate(
        _ dossierId: String, overall: Bool, to newDate: LocalDate, in tx: PostgresConnection
    ) throws {
        if overall {
            try tx.execute(
                "UPDATE dossier_status SET due_date = \(newDate.description, as: "date") WHERE dossier_id = \(dossierId)")
        } else {
            try tx.execute(
                "UPDATE dossier_status SET step_due_date = \(newDate.description, as: "date") WHERE dossier_id = \(dossierId)")
        }
    }
}
