import Authority
import Foundation
import Postgres

/// The statements of officials' and applicants' commands on a department's rows: the latest decision of a step,
/// withdrawals, signatures and supplemented bodies.
package enum CommandStore {
    /// The latest round of one dossier step.
    package struct LatestRound: Sendable {
        package var round: Int
        package var outcome: Outcome
        package var review: Review
        package var delegationId: String?
        package var signedAt: Date?
        package var procedure: String
        package var ruleVersion: String
    }

    /// The latest decision of any step of a dossier.
    package struct LatestDecision: Sendable {
        package var step: Int
        package var outcome: Outcome
        package var review: Review
        package var signed: Bool
    }

    /// What reception stored of a dossier.
    package struct StoredDossier: Sendable {
        package var code: String
        package var body: String
        package var receivedAt: Date
        /// Whether the dossier came with the hash of an applicant's receipt secret.
        package var hasReceiptSecret: Bool
        /// The catalogue version reception recorded (nil: received before migration 021).
        package var catalogueVersion: String?
    }

    package static func latestRound(_ dossierId: String, step: Int, in tx: PostgresConnection) throws -> LatestRound? {
        try tx.query(
            """
            SELECT round, outcome, review, delegation_id, signed_at, procedure, rule_version FROM decisions
            WHERE dossier_id = \(dossierId) AND step = \(step) ORDER BY round DESC LIMIT 1
            """
        ).first.map { row in
            LatestRound(
                round: try row.decode(Int.self, "round"), outcome: try row.decode(Outcome.self, "outcome"),
                review: try row.decode(Review.self, "review"),
                delegationId: try row.decodeIfPresent(String.self, "delegation_id"),
                signedAt: try row.decodeIfPresent(Date.self, "signed_at"),
                procedure: try row.decode(String.self, "procedure"), ruleVersion: try row.decode(String.self, "rule_version"))
        }
    }

    package static func latestDecision(_ dossierId: String, in tx: PostgresConnection) throws -> LatestDecision? {
        try tx.query(
            """
            SELECT step, outcome, review, signed_outcome FROM decisions WHERE dossier_id = \(dossierId)
            ORDER BY step DESC, round DESC LIMIT 1
            """
        ).first.map { row in
            LatestDecision(
                step: try row.decode(Int.self, "step"), outcome: try row.decode(Outcome.self, "outcome"),
                review: try row.decode(Review.self, "review"),
                signed: try row.decodeIfPresent(String.self, "signed_outcome") != nil)
        }
    }

    /// Whether the applicant has withdrawn the dossier.
    package static func isWithdrawn(_ dossierId: String, in tx: PostgresConnection) throws -> Bool {
        try !tx.query("SELECT 1 FROM withdrawals WHERE dossier_id = \(dossierId)").isEmpty
    }

    /// Records a withdrawal; false when the dossier was already withdrawn.
    package static func recordWithdrawal(
        _ dossierId: String, department: DepartmentID, step: Int, reason: String?, at now: Date, sourceTopic: String,
        sourcePartition: Int, sourceOffset: Int64, in tx: PostgresConnection
    ) throws -> Bool {
        try !tx.query(
            """
            INSERT INTO withdrawals (dossier_id, department, step, reason, withdrawn_at, source_topic,
                                     source_partition, source_offset)
            VALUES (\(dossierId), \(department), \(step), \(reason as String?), \(now), \(sourceTopic), \(sourcePartition),
                    \(sourceOffset))
            ON CONFLICT (dossier_id) DO NOTHING RETURNING dossier_id
            """
        ).isEmpty
    }

    /// Records an official's signature on a round.
    package static func sign(
        _ dossierId: String, step: Int, round: Int, official: String, at now: Date, outcome: Outcome, reason: String?,
        in tx: PostgresConnection
    ) throws {
        try tx.execute(
            """
            UPDATE decisions SET signed_by = \(official), signed_at = \(now), signed_outcome = \(outcome.rawValue),
                signed_reason = \(reason as String?)
            WHERE dossier_id = \(dossierId) AND step = \(step) AND round = \(round)
            """)
    }

    package static func storedDossier(_ dossierId: String, in tx: PostgresConnection) throws -> StoredDossier? {
        try tx.query(
            """
            SELECT code, body, received_at, receipt_secret_sha256 IS NOT NULL AS has_secret, catalogue_version FROM dossiers
            WHERE id = \(dossierId)
            """
        ).first.map { row in
            StoredDossier(
                code: try row.decode(String.self, "code"), body: try row.decode(PostgresJSON.self, "body").text,
                receivedAt: try row.decode(Date.self, "received_at"), hasReceiptSecret: try row.decode(Bool.self, "has_secret"),
                catalogueVersion: try row.decodeIfPresent(String.self, "catalogue_version"))
        }
    }

    /// Replaces the stored body (a supplement merged into it).
    package static func updateBody(_ dossierId: String, json: String, at now: Date, in tx: PostgresConnection) throws {
        try tx.execute(
            "UPDATE dossiers SET body = \(PostgresJSON(json)), updated_at = \(now) WHERE id = \(dossierId)")
    }
}
