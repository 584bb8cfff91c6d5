import Authority
import Foundation
import Postgres

extension AuditStore {
    /// A stored signature on a decision round, with what the audit checks it against.
    package struct StoredSignature: Sendable {
        package var dossierId: String
        package var step: Int
        package var round: Int
        package var department: DepartmentID
        package var procedure: String
        package var outcome: String
        package var ruleVersion: String
        package var signedBy: String
        package var signedAt: Date
        package var signedOutcome: String?
    }

    /// Every signed decision of `departments` (signatures are a fraction of the decisions: one query).
    package static func signatures(departments: [DepartmentID], on connection: PostgresConnection) throws -> [StoredSignature] {
        let departments = departments.map(\.rawValue)
        return try connection.query(
            """
            SELECT dossier_id, step, round, department, procedure, outcome, rule_version, signed_by, signed_at,
                   signed_outcome
            FROM decisions WHERE signed_at IS NOT NULL AND department = ANY(\(departments, as: "text[]"))
            """
        ).map { (row: PostgresRow) throws -> StoredSignature in
            let signedBy: String = try row.decodeIfPresent(String.self, at: 7) ?? ""
            return StoredSignature(
                dossierId: try row.decode(String.self, at: 0), step: try row.decode(Int.self, at: 1),
                round: try row.decode(Int.self, at: 2), department: DepartmentID(try row.decode(String.self, at: 3)),
                procedure: try row.decode(String.self, at: 4), outcome: try row.decode(String.self, at: 5),
                ruleVersion: try row.decode(String.self, at: 6), signedBy: signedBy,
                signedAt: try row.decode(Date.self, at: 8), signedOutcome: try row.decodeIfPresent(String.self, at: 9))
        }
    }
}
