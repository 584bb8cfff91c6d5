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
        /// The canonical JSON of the delegation version the decision relied on (its delegate signs), if any.
        package var delegationSnapshot: String?
        /// The decision's own instant (the batch that prepared it): a signature cannot come before it.
        package var decidedAt: Date
    }

    /// Every signed decision of `departments` (signatures are a fraction of the decisions: one query).
    package static func signatures(departments: [DepartmentID], on connection: PostgresConnection) throws -> [StoredSignature] {
        let departments = departments.map(\.rawValue)
        return try connection.query(
            """
            SELECT d.dossier_id, d.step, d.round, d.department, d.procedure, d.outcome, d.rule_version, d.signed_by,
                   d.signed_at, d.signed_outcome, v.canonical_json, d.decided_at
            FROM decisions d LEFT JOIN delegation_versions v ON v.version = d.delegation_version
            WHERE d.signed_at IS NOT NULL AND d.department = ANY(\(departments, as: "text[]"))
            """
        ).map { (row: PostgresRow) throws -> StoredSignature in
            let signedBy: String = try row.decodeIfPresent(String.self, at: 7) ?? ""
            return StoredSignature(
                dossierId: try row.decode(String.self, at: 0), step: try row.decode(Int.self, at: 1),
                round: try row.decode(Int.self, at: 2), department: DepartmentID(try row.decode(String.self, at: 3)),
                procedure: try row.decode(String.self, at: 4), outcome: try row.decode(String.self, at: 5),
                ruleVersion: try row.decode(String.self, at: 6), signedBy: signedBy,
                signedAt: try row.decode(Date.self, at: 8), signedOutcome: try row.decodeIfPresent(String.self, at: 9),
                delegationSnapshot: try row.decodeIfPresent(String.self, at: 10), decidedAt: try row.decode(Date.self, at: 11))
        }
    }
}
