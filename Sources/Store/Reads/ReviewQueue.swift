import Authority
import Foundation
import Postgres

/// The decisions awaiting an official's signature: prepared for official review (approve or refuse), unsigned, the
/// latest round of their step, and of a dossier that is not withdrawn, decided or returned.
///
/// One definition for everyone who asks: `motcua review list`, the simulated officials and `motcua status`.
package enum ReviewQueue {
    /// A decision awaiting a signature. No personal data.
    package struct Item: Sendable, Hashable {
        package var dossierId: String
        /// The dossier's code, when the coordinator's projection has it.
        package var code: String?
        package var step: Int
        package var round: Int
        package var department: DepartmentID
        package var procedure: String
        /// What was prepared: ``Outcome/approve`` or ``Outcome/refuse``.
        package var prepared: Outcome
        package var ruleId: String?
        package var ruleVersion: String
        package var delegationId: String?
        package var decidedAt: Date
        /// The current step's due date, else the dossier's (`YYYY-MM-DD`), when the projection has one.
        package var dueDate: String?
        package var overdue: Bool
    }

    /// The awaiting decisions, oldest prepared first (then by dossier id), at most `limit`.
    ///
    /// `departments`: only decisions of these departments (nil: all). `dossierId`: only that dossier's (nil: all).
    package static func awaiting(
        departments: [DepartmentID]?, dossierId: String? = nil, limit: Int, in connection: PostgresConnection
    ) throws -> [Item] {
        let departments = departments?.map(\.rawValue)
        return try connection.query(
            """
            SELECT d.dossier_id, s.code, d.step, d.round, d.department, d.procedure, d.outcome, d.rule_id,
                   d.rule_version, d.delegation_id, d.decided_at, COALESCE(s.step_due_date, s.due_date)::text AS due_date,
                   COALESCE(s.overdue, false) AS overdue
            FROM decisions d LEFT JOIN dossier_status s ON s.dossier_id = d.dossier_id
            WHERE (\(departments, as: "text[]") IS NULL OR d.department = ANY(\(departments, as: "text[]")))
              AND (\(dossierId, as: "text") IS NULL OR d.dossier_id = \(dossierId, as: "text"))
              AND d.review = 'official' AND d.signed_at IS NULL
              AND d.outcome IN ('approve', 'refuse')
              AND COALESCE(s.status, '') NOT IN ('withdrawn', 'decided', 'result-returned')
              AND NOT EXISTS (SELECT 1 FROM decisions n WHERE n.dossier_id = d.dossier_id AND n.step = d.step
                              AND n.round > d.round)
            ORDER BY d.decided_at, d.dossier_id LIMIT \(limit)
            """
        ).map { row in
            Item(
                dossierId: try row.decode(String.self, "dossier_id"),
                code: try row.decodeIfPresent(String.self, "code"),
                step: try row.decode(Int.self, "step"), round: try row.decode(Int.self, "round"),
                department: try row.decode(DepartmentID.self, "department"),
                procedure: try row.decode(String.self, "procedure"),
                prepared: try row.decode(Outcome.self, "outcome"),
                ruleId: try row.decodeIfPresent(String.self, "rule_id"),
                ruleVersion: try row.decode(String.self, "rule_version"),
                delegationId: try row.decodeIfPresent(String.self, "delegation_id"),
                decidedAt: try row.decode(Date.self, "decided_at"),
                dueDate: try row.decodeIfPresent(String.self, "due_date"),
                overdue: try row.decode(Bool.self, "overdue"))
        }
    }
}
