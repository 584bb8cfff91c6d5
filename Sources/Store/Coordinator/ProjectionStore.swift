import Authority
import Foundation
import Postgres

/// The status projection's statements on `processed_events`, `dossier_status`, `deadlines`, `deadline_pauses` and
/// `escalations` (deadline rows themselves: ``DeadlineStore``).
///
/// The projection applies a batch by sets (``ProjectionRows``); the per-event statements below (with
/// ``DeadlineStore``'s `open`, `close` and `timeline`) are the readable reference it is checked against, event by
/// event, in the differential tests — keep each in step with its ``ProjectionRows`` counterpart.
package enum ProjectionStore {
    /// Records event ids as processed by `consumer`; returns those not seen before.
    package static func claim(_ eventIds: [UUID], consumer: String, in tx: PostgresConnection) throws -> Set<UUID> {
        guard !eventIds.isEmpty else { return [] }
        let ids = eventIds.map { $0.uuidString.lowercased() }
        let rows = try tx.query(
            """
            INSERT INTO processed_events (consumer, event_id) SELECT \(consumer), id FROM unnest(\(ids, as: "uuid[]")) AS id
            ON CONFLICT DO NOTHING RETURNING event_id
            """)
        return Set(try rows.map { try $0.decode(UUID.self, "event_id") })
    }

    /// Pauses the dossier's open deadlines (not the delegator's) and records when each pause started.
    package static func pause(_ dossierId: String, at: Date, in tx: PostgresConnection) throws {
        let paused = try tx.query(
            """
            UPDATE deadlines SET status = 'paused', paused_since = \(at), next_fire_at = NULL
            WHERE dossier_id = \(dossierId) AND status = 'open' AND kind <> 'authority' RETURNING step
            """)
        for row in paused {
            let step = try row.decode(Int.self, "step")
            try tx.execute(
                """
                INSERT INTO deadline_pauses (dossier_id, step, started_at) VALUES (\(dossierId), \(step), \(at))
                ON CONFLICT DO NOTHING
                """)
        }
    }

    /// Ends a step's open pause, with the working days it lasted.
    package static func endPause(
        _ dossierId: String, step: Int, at: Date, workingDays: Int, in tx: PostgresConnection
    ) throws {
        try tx.execute(
            """
            UPDATE deadline_pauses SET ended_at = \(at), working_days = \(workingDays)
            WHERE dossier_id = \(dossierId) AND step = \(step) AND ended_at IS NULL
            """)
    }

    /// The projected due date of the whole procedure.
    package static func setDueDate(_ dossierId: String, _ due: LocalDate, in tx: PostgresConnection) throws {
        try tx.execute("UPDATE dossier_status SET due_date = \(due.description, as: "date") WHERE dossier_id = \(dossierId)")
    }

    /// The projected due date of the current step.
    package static func setStepDueDate(
        _ dossierId: String, step: Int, _ due: LocalDate, in tx: PostgresConnection
    ) throws {
        try tx.execute(
            """
            UPDATE dossier_status SET step_due_date = \(due.description, as: "date")
            WHERE dossier_id = \(dossierId) AND step = \(step)
            """)
    }

    /// The unclosed deadline of `step` now belongs to `department` (a forwarded dossier's overall deadline).
    package static func moveDeadline(
        _ dossierId: String, step: Int, to department: DepartmentID?, in tx: PostgresConnection
    ) throws {
        try tx.execute(
            """
            UPDATE deadlines SET department = \(department as DepartmentID?)
            WHERE dossier_id = \(dossierId) AND step = \(step) AND status <> 'closed'
            """)
    }

    /// Closes the dossier's open escalations: it was decided, withdrawn, or its result returned.
    package static func closeEscalations(
        _ dossierId: String, by cause: String, at: Date, in tx: PostgresConnection
    ) throws {
        try tx.execute(
            """
            UPDATE escalations SET closed_at = \(at), closed_by = \(cause)
            WHERE dossier_id = \(dossierId) AND closed_at IS NULL
            """)
    }

    /// Opens the level-2 authority escalation (once), and clears a closed authority deadline of the step so that
    /// a new one can open.
    package static func openAuthorityEscalation(
        _ dossierId: String, step: Int, reason: String, department: DepartmentID?, recipient: String, at: Date,
        in tx: PostgresConnection
    ) throws {
        try tx.execute(
            """
            INSERT INTO escalations (dossier_id, step, kind, level, reason, department, recipient, opened_at)
            VALUES (\(dossierId), \(step), 'authority', 2, \(reason), \(department as DepartmentID?), \(recipient), \(at))
            ON CONFLICT DO NOTHING
            """)
        try tx.execute(
            """
            DELETE FROM deadlines WHERE dossier_id = \(dossierId) AND step = \(DeadlineKind.authorityStep)
              AND status = 'closed'
            """)
    }

    /// The `dossier_status` columns an event sets (nil: unchanged).
    package struct StatusChange: Sendable {
        package var status: String?
        package var at: Date
        package var code: String?
        package var procedure: String?
        package var department: DepartmentID?
        package var step: Int?
        package var receivedAt: Date?
        package var dueDate: LocalDate?
        package var stepDueDate: LocalDate?
        package var outcome: Outcome?
        package var decidedAt: Date?

        package init(_ status: String, at: Date) {
            self.status = status
            self.at = at
        }
    }

    /// Applies a status change to the dossier's row (creating it).
    package static func upsert(_ dossierId: String, _ change: StatusChange, in tx: PostgresConnection) throws {
        try tx.execute(
            """
            INSERT INTO dossier_status (dossier_id, status, code, procedure, department, step, received_at, due_date,
                                        step_due_date, outcome, decided_at, updated_at)
            VALUES (\(dossierId), COALESCE(\(change.status), 'unknown'), \(change.code), \(change.procedure),
                    \(change.department), \(change.step), \(change.receivedAt), \(change.dueDate?.description, as: "date"),
                    \(change.stepDueDate?.description, as: "date"), \(change.outcome?.rawValue), \(change.decidedAt), \(change.at))
            ON CONFLICT (dossier_id) DO UPDATE SET
                status = COALESCE(\(change.status), dossier_status.status),
                code = COALESCE(EXCLUDED.code, dossier_status.code),
                procedure = COALESCE(EXCLUDED.procedure, dossier_status.procedure),
                department = COALESCE(EXCLUDED.department, dossier_status.department),
                step = COALESCE(EXCLUDED.step, dossier_status.step),
                received_at = COALESCE(EXCLUDED.received_at, dossier_status.received_at),
                due_date = COALESCE(EXCLUDED.due_date, dossier_status.due_date),
                step_due_date = COALESCE(EXCLUDED.step_due_date, dossier_status.step_due_date),
                outcome = COALESCE(EXCLUDED.outcome, dossier_status.outcome),
                decided_at = COALESCE(EXCLUDED.decided_at, dossier_status.decided_at),
                updated_at = EXCLUDED.updated_at
            """)
    }
}
