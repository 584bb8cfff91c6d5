import Authority
import Foundation
import Postgres

/// The open stages of an official or of a division: who holds which dossier step, at which stage, due when.
/// Ordered by due instant, so overdue and due-soon come first; served by the partial indexes of migration 019.
package enum StageQueue {
    /// An open stage. No personal data.
    package struct Item: Sendable, Hashable {
        package var dossierId: String
        package var code: String?
        package var step: Int
        package var round: Int
        package var department: DepartmentID
        package var division: String
        package var procedure: String
        package var stage: String
        package var role: String
        package var assignee: String?
        package var enteredAt: Date
        package var dueAt: Date
    }

    /// The open stages held by `official`, soonest due first, at most `limit`.
    package static func held(by official: String, limit: Int, in connection: PostgresConnection) throws -> [Item] {
        try items(
            connection.query(
                """
                SELECT s.dossier_id, st.code, s.step, s.round, s.department, s.division, s.procedure, s.stage, s.role,
                       s.assignee, s.entered_at, s.due_at
                FROM (SELECT * FROM stages WHERE assignee = \(official) AND closed_at IS NULL
                      ORDER BY due_at, dossier_id LIMIT \(limit)) s
                LEFT JOIN dossier_status st ON st.dossier_id = s.dossier_id
                ORDER BY s.due_at, s.dossier_id
                """))
    }

    /// The open stages of a division of `department`, soonest due first, at most `limit`.
    package static func division(
        _ division: String, of department: DepartmentID, limit: Int, in connection: PostgresConnection
    ) throws -> [Item] {
        try items(
            connection.query(
                """
                SELECT s.dossier_id, st.code, s.step, s.round, s.department, s.division, s.procedure, s.stage, s.role,
                       s.assignee, s.entered_at, s.due_at
                FROM (SELECT * FROM stages WHERE department = \(department.rawValue) AND division = \(division)
                        AND closed_at IS NULL
                      ORDER BY due_at, dossier_id LIMIT \(limit)) s
                LEFT JOIN dossier_status st ON st.dossier_id = s.dossier_id
                ORDER BY s.due_at, s.dossier_id
                """))
    }

    static func items(_ rows: PostgresRows) throws -> [Item] {
        try rows.map { row in
            Item(
                dossierId: try row.decode(String.self, "dossier_id"), code: try row.decodeIfPresent(String.self, "code"),
                step: try row.decode(Int.self, "step"), round: try row.decode(Int.self, "round"),
                department: try row.decode(DepartmentID.self, "department"),
                division: try row.decode(String.self, "division"), procedure: try row.decode(String.self, "procedure"),
                stage: try row.decode(String.self, "stage"), role: try row.decode(String.self, "role"),
                assignee: try row.decodeIfPresent(String.self, "assignee"),
                enteredAt: try row.decode(Date.self, "entered_at"), dueAt: try row.decode(Date.self, "due_at"))
        }
    }
}
