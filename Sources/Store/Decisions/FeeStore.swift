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
