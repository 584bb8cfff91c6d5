import Authority
import Foundation
import Postgres

/// The statements of an apology slip (form 04). The department's worker records it (migration 028): the coordinator
/// moves the deadline when it reads the worker's `apology-issued` event, and writes no `apologies` row.
package enum ApologyStore {
    /// What the worker reads of a dossier step's deadline (no lock: the deadlines are the coordinator's).
    package struct DeadlineState: Sendable {
        package var status: String
        package var dueDate: LocalDate
        package var department: String?
    }

    /// The step's deadline and whether it already has its apology.
    package static func state(
        _ dossierId: String, step: Int, in tx: PostgresConnection
    ) throws -> (deadline: DeadlineState?, issued: Bool) {
        let rows = try tx.query(
            """
            SELECT d.status, d.due_date::text AS due_date, d.department,
                   EXISTS (SELECT 1 FROM apologies a WHERE a.dossier_id = $1 AND a.step = $2) AS issued
            FROM (SELECT 1) AS one LEFT JOIN deadlines d ON d.dossier_id = $1 AND d.step = $2
            """, [dossierId, step])
        guard let row = rows.first else { return (nil, false) }
        let issued = try row.decode(Bool.self, "issued")
        guard let status = try row.decodeIfPresent(String.self, "status"),
            let due = try row.decodeIfPresent(String.self, "due_date").flatMap(LocalDate.init)
        else { return (nil, issued) }
        return (DeadlineState(status: status, dueDate: due, department: try row.decodeIfPresent(String.self, "department")),
                issued)
    }

    /// Records the slip (write-once: no role updates it); false when one was already issued for the step. `command`
    /// is the signed command's bytes as read from the topic (nil for an approved draft: its approval is the draft's
    /// signed command, and `commandId` names it).
    package static func record(
        _ dossierId: String, step: Int, reason: String, previousDate: LocalDate, newDate: LocalDate,
        issuedBy: String?, department: String? = nil, commandId: UUID? = nil, command: [UInt8]? = nil,
        at now: Date, in tx: PostgresConnection
    ) throws -> Bool {
        try tx.execute(
            """
            INSERT INTO apologies (dossier_id, step, reason, previous_date, new_date, issued_by, issued_at, department,
                                   command_id, command)
            VALUES (\(dossierId), \(step), \(reason), \(previousDate.description, as: "date"),
                    \(newDate.description, as: "date"), \(issuedBy as String?), \(now), \(department as String?),
                    \(commandId), \(command.map(PostgresBytes.init)))
            ON CONFLICT DO NOTHING
            """) == 1
    }

    /// Moves a paused deadline to its new date without resuming it; every level fires again (the tests' reference
    /// projection, statement by statement).
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

    /// The projected date an apology moved: the whole procedure's, or the current step's.
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

    /// A recorded apology, as the audit replay reads it.
    package struct Recorded: Sendable {
        package var dossierId: String
        package var step: Int
        package var reason: String
        package var previousDate: String
        package var newDate: String
        package var issuedBy: String?
        package var issuedAt: Date
        package var department: String?
        package var commandId: UUID?
        package var command: [UInt8]?
        /// Recorded before migration 028, by the coordinator: no slip stored.
        package var before028: Bool
    }

    /// Every recorded apology of `departments` (all when empty), and those of no department (written before 028, or
    /// by hand).
    package static func all(departments: [DepartmentID], in connection: PostgresConnection) throws -> [Recorded] {
        let names = departments.map(\.rawValue)
        return try connection.query(
            """
            SELECT dossier_id, step, reason, previous_date::text AS previous_date, new_date::text AS new_date, issued_by,
                   issued_at, department, command_id::text AS command_id, command, before_028
            FROM apologies
            WHERE cardinality($1::text[]) = 0 OR department IS NULL OR department = ANY ($1::text[])
            ORDER BY issued_at, dossier_id, step
            """, [names]
        ).map { row in
            Recorded(
                dossierId: try row.decode(String.self, "dossier_id"), step: try row.decode(Int.self, "step"),
                reason: try row.decode(String.self, "reason"), previousDate: try row.decode(String.self, "previous_date"),
                newDate: try row.decode(String.self, "new_date"), issuedBy: try row.decodeIfPresent(String.self, "issued_by"),
                issuedAt: try row.decode(Date.self, "issued_at"),
                department: try row.decodeIfPresent(String.self, "department"),
                commandId: try row.decodeIfPresent(String.self, "command_id").flatMap(UUID.init(uuidString:)),
                command: try row.decodeIfPresent(PostgresBytes.self, "command")?.bytes,
                before028: try row.decode(Bool.self, "before_028"))
        }
    }
}
