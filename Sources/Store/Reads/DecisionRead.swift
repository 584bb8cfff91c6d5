import Authority
import Foundation
import Postgres

/// Reads of `decisions` for the officials' commands: the decision an action is about, and whether it was signed.
package enum DecisionRead {
    /// The latest decision of a dossier (or of one of its steps).
    package struct Latest: Sendable, Hashable {
        package var step: Int
        package var round: Int
        package var department: DepartmentID
        package var outcome: Outcome
        package var review: Review
        package var signedAt: Date?
        package var ruleVersion: String
    }

    /// A decision's signature, once an official has signed it.
    package struct Signature: Sendable, Hashable {
        package var signedBy: String
        /// ``Outcome/approve`` or ``Outcome/refuse``; nil if the row holds none.
        package var outcome: Outcome?
    }

    /// The dossier's latest decision (highest step, then round); with `step`, the latest round of that step.
    package static func latest(dossierId: String, step: Int?, in connection: PostgresConnection) throws -> Latest? {
        try connection.query(
            """
            SELECT step, round, department, outcome, review, signed_at, rule_version FROM decisions
            WHERE dossier_id = \(dossierId) AND (\(step, as: "integer") IS NULL OR step = \(step))
            ORDER BY step DESC, round DESC LIMIT 1
            """
        ).first.map { row in
            Latest(
                step: try row.decode(Int.self, "step"), round: try row.decode(Int.self, "round"),
                department: try row.decode(DepartmentID.self, "department"),
                outcome: try row.decode(Outcome.self, "outcome"),
                review: try row.decode(Review.self, "review"),
                signedAt: try row.decodeIfPresent(Date.self, "signed_at"),
                ruleVersion: try row.decode(String.self, "rule_version"))
        }
    }

    /// The signature of one decision (dossier, step, round); nil while it is unsigned or when there is no such row.
    package static func signature(
        dossierId: String, step: Int, round: Int, in connection: PostgresConnection
    ) throws -> Signature? {
        guard let row = try connection.query(
            """
            SELECT signed_by, signed_outcome FROM decisions
            WHERE dossier_id = \(dossierId) AND step = \(step) AND round = \(round)
            """
        ).first, let signedBy = try row.decodeIfPresent(String.self, "signed_by") else { return nil }
        return Signature(signedBy: signedBy, outcome: try row.decodeIfPresent(Outcome.self, "signed_outcome"))
    }

    /// How many decisions relied on delegation `delegationId` and were made at or after `since` (the decisions a
    /// revocation recorded late should have escalated).
    package static func count(
        relyingOn delegationId: String, decidedSince since: Date, in connection: PostgresConnection
    ) throws -> Int {
        try connection.query(
            """
            SELECT count(*) FROM decisions
            WHERE delegation_id = \(delegationId) AND outcome <> 'escalate' AND decided_at >= \(since)
            """
        )[0].decode(Int.self, at: 0)
    }
}
