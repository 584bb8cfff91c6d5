import Authority
import Foundation
import Postgres

/// The department worker's statements on `decisions`, `withdrawals`, `rule_versions` and `delegation_versions`.
package enum DecisionStore {
    /// Stores the exact text of a rule version every decision of it cites (once).
    package static func storeRuleVersion(
        _ version: String, department: DepartmentID, canonicalText: String, on connection: PostgresConnection
    ) throws {
        try connection.execute(
            """
            INSERT INTO rule_versions (version, department, canonical_text) VALUES (\(version), \(department), \(canonicalText))
            ON CONFLICT DO NOTHING
            """)
    }

    /// Stores the exact text of a delegation version decisions cite (once).
    package static func storeDelegationVersion(
        _ version: String, delegationId: String, canonicalJSON: String, on connection: PostgresConnection
    ) throws {
        try connection.execute(
            """
            INSERT INTO delegation_versions (version, delegation_id, canonical_json) VALUES (\(version), \(delegationId), \(canonicalJSON))
            ON CONFLICT DO NOTHING
            """)
    }

    /// Which of `dossierIds` the applicant has withdrawn (one indexed lookup).
    package static func withdrawn(among dossierIds: [String], in tx: PostgresConnection) throws -> Set<String> {
        Set(try tx.query("SELECT dossier_id FROM withdrawals WHERE dossier_id = ANY(\(dossierIds, as: "text[]"))")
            .map { try $0.decode(String.self, "dossier_id") })
    }

    /// `dossier/step/round` of every decision already stored for `dossierIds`.
    package static func decidedSteps(of dossierIds: [String], in tx: PostgresConnection) throws -> Set<String> {
        var taken = Set<String>()
        for row in try tx.query(
            "SELECT dossier_id, step, round FROM decisions WHERE dossier_id = ANY(\(dossierIds, as: "text[]"))")
        {
            taken.insert("\(try row.decode(String.self, "dossier_id"))/\(try row.decode(Int.self, "step"))/\(try row.decode(Int.self, "round"))")
        }
        return taken
    }

    /// The message a stored decision was made from (topic, partition, offset), if the decision exists.
    package static func source(
        of dossierId: String, step: Int, round: Int, in tx: PostgresConnection
    ) throws -> (topic: String, partition: Int32, offset: Int64)? {
        try tx.query(
            """
            SELECT source_topic, source_partition, source_offset FROM decisions
            WHERE dossier_id = \(dossierId) AND step = \(step) AND round = \(round)
            """
        ).first.map { row in
            (try row.decode(String.self, "source_topic"), try row.decode(Int32.self, "source_partition"),
             try row.decode(Int64.self, "source_offset"))
        }
    }

    /// Undoes what followed `savepoint` in the open transaction.
    package static func rollback(to savepoint: StaticString, in tx: PostgresConnection) throws {
        try tx.execute("ROLLBACK TO SAVEPOINT \(unescaped: savepoint)")
    }
}
