import Authority
import Foundation
import Postgres

extension StageQueue {
    /// The open stages of `departments` (the simulated officials' work), soonest due first, at most `limit`.
    package static func open(departments: [DepartmentID], limit: Int, in connection: PostgresConnection) throws -> [Item] {
        try items(
            connection.query(
                """
                SELECT s.dossier_id, NULL::text AS code, s.step, s.round, s.department, s.division, s.procedure, s.stage,
                       s.role, s.assignee, s.entered_at, s.due_at
                FROM stages s
                WHERE s.department = ANY(\(PostgresTextArray(departments.map(\.rawValue)))) AND s.closed_at IS NULL
                ORDER BY s.due_at, s.dossier_id LIMIT \(limit)
                """))
    }
}
