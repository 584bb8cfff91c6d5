import Authority
import Foundation
import Postgres

/// The fees paid (`fee_payments`, migration 020): written by the department worker that holds the dossier, when a
/// registered payment gateway's confirmation is accepted.
package enum FeeStore {
    /// A recorded payment.
    package struct Payment: Sendable {
        package var dossierId: String
        package var amountVND: Int
        package var channel: String
        package var receiptNumber: String
    }

    /// Whether the dossier's fee is paid.
    package static func isPaid(_ dossierId: String, in tx: PostgresConnection) throws -> Bool {
        try !tx.query("SELECT 1 FROM fee_payments WHERE dossier_id = \(dossierId)").isEmpty
    }

    /// The payment recorded under a gateway's receipt number, if any.
    package static func payment(channel: String, receipt: String, in tx: PostgresConnection) throws -> Payment? {
        try tx.query(
            """
            SELECT dossier_id, amount_vnd, channel, receipt_number FROM fee_payments
            WHERE channel = \(channel) AND receipt_number = \(receipt)
            """
        ).first.map { row in
            Payment(
                dossierId: try row.decode(String.self, "dossier_id"), amountVND: try row.decode(Int.self, "amount_vnd"),
                channel: try row.decode(String.self, "channel"), receiptNumber: try row.decode(String.self, "receipt_number"))
        }
    }

    /// Records a payment; false when the dossier is already paid or the receipt already used (nothing written).
    package static func record(
        _ dossierId: String, department: DepartmentID, step: Int, procedure: String, amountVND: Int, channel: String,
        receipt: String, principal: String, commandId: UUID, at now: Date, sourceTopic: String, sourcePartition: Int,
        sourceOffset: Int64, in tx: PostgresConnection
    ) throws -> Bool {
        try !tx.query(
            """
            INSERT INTO fee_payments (dossier_id, department, step, procedure, amount_vnd, channel, receipt_number,
                                      principal, command_id, paid_at, source_topic, source_partition, source_offset)
            VALUES (\(dossierId), \(department), \(step), \(procedure), \(Int64(amountVND)), \(channel), \(receipt),
                    \(principal), \(commandId), \(now), \(sourceTopic), \(sourcePartition), \(sourceOffset))
            ON CONFLICT DO NOTHING RETURNING dossier_id
            """
        ).isEmpty
    }
}

/// Electronic result files (`result_files`, migration 020), recorded with an official's approval.
package enum ResultFileStore {
    /// Records the result file of a dossier's approval; false when one is already recorded (nothing written).
    package static func record(
        _ dossierId: String, department: DepartmentID, step: Int, documentId: String, sha256: String, link: String,
        signedBy: String, at now: Date, in tx: PostgresConnection
    ) throws -> Bool {
        try !tx.query(
            """
            INSERT INTO result_files (dossier_id, department, step, document_id, sha256, link, signed_by, recorded_at)
            VALUES (\(dossierId), \(department), \(step), \(documentId), \(sha256), \(link), \(signedBy), \(now))
            ON CONFLICT (dossier_id) DO NOTHING RETURNING dossier_id
            """
        ).isEmpty
    }
}

/// Ratings and complaints (`ratings`, `complaints`, migration 020), recorded by the department worker from a
/// channel's signed command.
package enum FeedbackStore {
    /// Records a rating; false when the dossier is already rated (nothing written).
    package static func recordRating(
        _ dossierId: String, department: DepartmentID, scores: [String: Int], channel: String, commandId: UUID,
        at now: Date, in tx: PostgresConnection
    ) throws -> Bool {
        try !tx.query(
            """
            INSERT INTO ratings (dossier_id, department, timeliness, attitude, guidance, result, channel, command_id,
                                 rated_at)
            VALUES (\(dossierId), \(department), \(scores["timeliness"] ?? 0), \(scores["attitude"] ?? 0),
                    \(scores["guidance"] ?? 0), \(scores["result"] ?? 0), \(channel), \(commandId), \(now))
            ON CONFLICT (dossier_id) DO NOTHING RETURNING dossier_id
            """
        ).isEmpty
    }

    /// Records a complaint; false when this command's complaint is already recorded.
    package static func recordComplaint(
        _ dossierId: String, department: DepartmentID, category: String, reference: String, channel: String,
        commandId: UUID, at now: Date, in tx: PostgresConnection
    ) throws -> Bool {
        try !tx.query(
            """
            INSERT INTO complaints (complaint_id, dossier_id, department, category, reference, channel, recorded_at)
            VALUES (\(commandId), \(dossierId), \(department), \(category), \(reference), \(channel), \(now))
            ON CONFLICT DO NOTHING RETURNING dossier_id
            """
        ).isEmpty
    }
}

extension FeeStore {
    /// A dossier whose fee is requested and not paid (the status projection's `fee-requested`).
    package struct Awaiting: Sendable {
        package var dossierId: String
        package var procedure: String
        package var applicantKind: String
        package var department: DepartmentID
        package var since: Date
    }

    /// Dossiers waiting for their fee, oldest first (the demo's simulated payers).
    package static func awaitingPayment(limit: Int, in connection: PostgresConnection) throws -> [Awaiting] {
        try connection.query(
            """
            SELECT s.dossier_id, d.procedure, d.applicant_kind, s.department, s.updated_at
            FROM dossier_status s JOIN dossiers d ON d.id = s.dossier_id
            WHERE s.status = 'fee-requested' AND s.department IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM fee_payments f WHERE f.dossier_id = s.dossier_id)
            ORDER BY s.updated_at LIMIT \(limit)
            """
        ).map { row in
            Awaiting(
                dossierId: try row.decode(String.self, "dossier_id"), procedure: try row.decode(String.self, "procedure"),
                applicantKind: try row.decode(String.self, "applicant_kind"),
                department: DepartmentID(try row.decode(String.self, "department")),
                since: try row.decode(Date.self, "updated_at"))
        }
    }
}
