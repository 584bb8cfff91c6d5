import Authority
import Foundation
import Postgres

/// A dossier's deadlines and escalations, as `motcua status` shows them.
package enum DossierDeadlinesRead {
    /// One row of `deadlines`.
    package struct Deadline: Sendable, Hashable {
        package var step: Int
        package var kind: DeadlineKind
        package var department: DepartmentID?
        /// `YYYY-MM-DD`.
        package var dueDate: String
        /// `open`, `paused` or `closed`.
        package var status: String
        /// The levels fired, a bit set of ``DeadlineLevel`` (as `deadlines.fired`).
        package var fired: Int
        package var closedOnTime: Bool?
        package var pausedDays: Int
    }

    /// One row of `escalations`.
    package struct Escalation: Sendable, Hashable {
        package var step: Int
        /// `deadline` or `authority`.
        package var kind: String
        package var level: Int
        package var reason: String
        package var recipient: String
        package var openedAt: Date
        package var closedAt: Date?
    }

    /// The dossier's deadlines by step.
    package static func deadlines(of dossierId: String, in connection: PostgresConnection) throws -> [Deadline] {
        try connection.query(
            """
            SELECT step, kind, department, due_date::text AS due_date, status, fired, closed_on_time, paused_days
            FROM deadlines WHERE dossier_id = \(dossierId) ORDER BY step
            """
        ).map { row in
            Deadline(
                step: try row.decode(Int.self, "step"), kind: try row.decode(DeadlineKind.self, "kind"),
                department: try row.decodeIfPresent(DepartmentID.self, "department"),
                dueDate: try row.decode(String.self, "due_date"), status: try row.decode(String.self, "status"),
                fired: try row.decode(Int.self, "fired"),
                closedOnTime: try row.decodeIfPresent(Bool.self, "closed_on_time"),
                pausedDays: try row.decode(Int.self, "paused_days"))
        }
    }

    /// The dossier's escalations in the order they were opened.
    package static func escalations(of dossierId: String, in connection: PostgresConnection) throws -> [Escalation] {
        try connection.query(
            """
            SELECT step, kind, level, reason, recipient, opened_at, closed_at FROM escalations
            WHERE dossier_id = \(dossierId) ORDER BY opened_at, id
            """
        ).map { row in
            Escalation(
                step: try row.decode(Int.self, "step"), kind: try row.decode(String.self, "kind"),
                level: try row.decode(Int.self, "level"), reason: try row.decode(String.self, "reason"),
                recipient: try row.decode(String.self, "recipient"), openedAt: try row.decode(Date.self, "opened_at"),
                closedAt: try row.decodeIfPresent(Date.self, "closed_at"))
        }
    }
}
