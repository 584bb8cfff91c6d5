import Authority
import Foundation
import Postgres

/// One row of `decisions`.
package struct DecisionRow: Sendable {
    package var dossierId: String
    package var step: Int
    package var round: Int
    package var department: DepartmentID
    package var procedure: String
    package var outcome: Outcome
    package var review: Review
    package var ruleId: String?
    package var ruleVersion: String
    package var delegationId: String?
    package var delegationVersion: String?
    package var escalationReason: EscalationReason?
    package var forwardTo: DepartmentID?
    package var decidedAt: Date
    package var sourceTopic: String
    package var sourcePartition: Int32
    package var sourceOffset: Int64
    /// The position of its explanation among the texts given to ``storeExplanations(_:in:)``.
    package var explanation: Int

    package var identity: String { "\(dossierId)/\(step)/\(round)" }

    package static let columns =
        "dossier_id, step, round, department, procedure, outcome, review, rule_id, rule_version, delegation_id, "
        + "delegation_version, escalation_reason, forward_to, decided_at, source_topic, source_partition, "
        + "source_offset, explanation_id"

    package init(
        dossierId: String, step: Int, round: Int, department: DepartmentID, procedure: String, outcome: Outcome,
        review: Review, ruleId: String?, ruleVersion: String, delegationId: String?, delegationVersion: String?,
        escalationReason: EscalationReason?, forwardTo: DepartmentID?, decidedAt: Date, sourceTopic: String, sourcePartition: Int32,
        sourceOffset: Int64, explanation: Int
    ) {
        self.dossierId = dossierId
        self.step = step
        self.round = round
        self.department = department
        self.procedure = procedure
        self.outcome = outcome
        self.review = review
        self.ruleId = ruleId
        self.ruleVersion = ruleVersion
        self.delegationId = delegationId
        self.delegationVersion = delegationVersion
        self.escalationReason = escalationReason
        self.forwardTo = forwardTo
        self.decidedAt = decidedAt
        self.sourceTopic = sourceTopic
        self.sourcePartition = sourcePartition
        self.sourceOffset = sourceOffset
        self.explanation = explanation
    }

    /// Stores the explanations not stored yet, in the open transaction; returns the ids of all, in order.
    package static func storeExplanations(_ texts: [String], in tx: PostgresConnection) throws -> [Int64] {
        guard !texts.isEmpty else { return [] }
        let ids = try tx.query(
            "SELECT id FROM unnest(motcua_explanation_ids($1::text[]::jsonb[])) WITH ORDINALITY AS t (id, n) ORDER BY n",
            [texts]
        ).map { try $0.decode(Int64.self, "id") }
        guard ids.count == texts.count else {
            throw PostgresError(.query, context: "motcua_explanation_ids: \(ids.count) ids for \(texts.count) explanations")
        }
        return ids
    }

    /// COPY in binary format: the server parses no text (BENCHMARKS.md: ~3 µs a row less than text for this table).
    /// With `savepoint`, that savepoint is set first, in the same round trip.
    package static func copy(
        _ rows: [DecisionRow], explanationIds: [Int64], into tx: PostgresConnection, savepoint: String? = nil
    ) throws {
        guard !rows.isEmpty else { return }
        let copy = "COPY decisions (\(columns)) FROM STDIN (FORMAT binary)"
        try tx.copyInBinary(savepoint.map { "SAVEPOINT \($0); \(copy)" } ?? copy) { writer in
            for row in rows {
                guard let step = Int32(exactly: row.step), let round = Int32(exactly: row.round) else {
                    throw PostgresError(
                        .copy, context: "COPY decisions", message: "step \(row.step), round \(row.round) beyond int4")
                }
                try writer.beginRow()
                writer.text(row.dossierId)
                writer.int32(step)
                writer.int32(round)
                writer.text(row.department.rawValue)
                writer.text(row.procedure)
                writer.text(row.outcome.rawValue)
                writer.text(row.review.rawValue)
                writer.text(row.ruleId)
                writer.text(row.ruleVersion)
                writer.text(row.delegationId)
                writer.text(row.delegationVersion)
                writer.text(row.escalationReason?.rawValue)
                writer.text(row.forwardTo?.rawValue)
                writer.timestamp(row.decidedAt)
                writer.text(row.sourceTopic)
                writer.int32(row.sourcePartition)
                writer.int64(row.sourceOffset)
                writer.int64(explanationIds[row.explanation])
            }
        }
    }
}
