import Authority
import Foundation
import Postgres

/// The portal sync's rows: the records produced (`portal_sync_records`) and the gateway's acknowledgements
/// (`portal_sync_acks`); see `schemas/postgres/016_scorecard.sql`.
package enum PortalStore {
    /// What a portal record carries besides its status, as the dossier stands.
    package struct Context: Sendable, Hashable {
        package var code: String?
        package var procedure: String?
        package var department: String?
        package var channel: String?
        package var receivedAt: Date?
        package var dueDate: String?
        package var decidedAt: Date?
        package var outcome: String?
        /// The fee paid (`fee_payments`), its channel, and the result file (`result_files`), if any.
        package var feePaid: Int?
        package var paymentChannel: String?
        package var resultDocument: String?
        package var resultLink: String?
        /// The intake's `digitised` and `vneidVerified` (nil: not said).
        package var digitised: Bool?
        package var vneidVerified: Bool?
    }

    /// The last status code sent per dossier, of `dossierIds`.
    package static func lastCodes(_ dossierIds: [String], in tx: PostgresConnection) throws -> [String: Int] {
        var codes: [String: Int] = [:]
        for row in try tx.query(
            """
            SELECT DISTINCT ON (dossier_id) dossier_id, status_code FROM portal_sync_records
            WHERE dossier_id = ANY(\(dossierIds, as: "text[]")) ORDER BY dossier_id, id DESC
            """)
        {
            codes[try row.decode(String.self, "dossier_id")] = try row.decode(Int.self, "status_code")
        }
        return codes
    }

    /// The dossiers' projected status and intake fields (no personal data), in one statement.
    package static func context(_ dossierIds: [String], in tx: PostgresConnection) throws -> [String: Context] {
        var result: [String: Context] = [:]
        for row in try tx.query(
            """
            SELECT s.dossier_id, COALESCE(s.code, d.code) AS code, COALESCE(s.procedure, d.procedure) AS procedure,
                   COALESCE(s.department, d.department) AS department, d.channel,
                   COALESCE(s.received_at, d.received_at) AS received_at,
                   COALESCE(s.due_date, d.due_date)::text AS due_date, s.decided_at, s.outcome,
                   f.amount_vnd AS fee_paid, f.channel AS payment_channel, r.document_id AS result_document,
                   r.link AS result_link, d.digitised, d.vneid_verified
            FROM dossier_status s LEFT JOIN dossiers d ON d.id = s.dossier_id
            LEFT JOIN fee_payments f ON f.dossier_id = s.dossier_id
            LEFT JOIN result_files r ON r.dossier_id = s.dossier_id
            WHERE s.dossier_id = ANY(\(dossierIds, as: "text[]"))
            """)
        {
            result[try row.decode(String.self, "dossier_id")] = Context(
                code: try row.decodeIfPresent(String.self, "code"),
                procedure: try row.decodeIfPresent(String.self, "procedure"),
                department: try row.decodeIfPresent(String.self, "department"),
                channel: try row.decodeIfPresent(String.self, "channel"),
                receivedAt: try row.decodeIfPresent(Date.self, "received_at"),
                dueDate: try row.decodeIfPresent(String.self, "due_date"),
                decidedAt: try row.decodeIfPresent(Date.self, "decided_at"),
                outcome: try row.decodeIfPresent(String.self, "outcome"),
                feePaid: try row.decodeIfPresent(Int.self, "fee_paid"),
                paymentChannel: try row.decodeIfPresent(String.self, "payment_channel"),
                resultDocument: try row.decodeIfPresent(String.self, "result_document"),
                resultLink: try row.decodeIfPresent(String.self, "result_link"),
                digitised: try row.decodeIfPresent(Bool.self, "digitised"),
                vneidVerified: try row.decodeIfPresent(Bool.self, "vneid_verified"))
        }
        return result
    }

    /// One produced record.
    package struct Record: Sendable, Hashable {
        package var recordId: UUID
        package var dossierId: String
        package var statusCode: Int
        package var statusAt: Date

        package init(recordId: UUID, dossierId: String, statusCode: Int, statusAt: Date) {
            self.recordId = recordId
            self.dossierId = dossierId
            self.statusCode = statusCode
            self.statusAt = statusAt
        }
    }

    /// Stores produced records, in their order; a record already stored (a re-processed event) is kept as it was.
    package static func insert(_ records: [Record], in tx: PostgresConnection) throws {
        guard !records.isEmpty else { return }
        try tx.execute(
            """
            INSERT INTO portal_sync_records (record_id, dossier_id, status_code, status_at)
            SELECT r::uuid, d, c, a::timestamptz
            FROM unnest(\(records.map(\.recordId.uuidString), as: "text[]"), \(records.map(\.dossierId), as: "text[]"),
                        \(records.map { String($0.statusCode) }, as: "int[]"),
                        \(records.map { ISO8601Instant.format($0.statusAt) }, as: "text[]"))
                 WITH ORDINALITY AS x(r, d, c, a, n)
            ORDER BY n
            ON CONFLICT (record_id) DO NOTHING
            """)
    }

    /// The produced records among `recordIds`.
    package static func records(_ recordIds: [UUID], in tx: PostgresConnection) throws -> [UUID: Record] {
        var result: [UUID: Record] = [:]
        for row in try tx.query(
            """
            SELECT record_id, dossier_id, status_code, status_at FROM portal_sync_records
            WHERE record_id = ANY(\(recordIds.map(\.uuidString), as: "text[]")::uuid[])
            """)
        {
            let record = Record(
                recordId: try row.decode(UUID.self, "record_id"), dossierId: try row.decode(String.self, "dossier_id"),
                statusCode: try row.decode(Int.self, "status_code"), statusAt: try row.decode(Date.self, "status_at"))
            result[record.recordId] = record
        }
        return result
    }

    /// One acknowledgement to record, with where it was read.
    package struct Ack: Sendable, Hashable {
        package var recordId: UUID
        package var dossierId: String
        package var statusCode: Int
        package var accepted: Bool
        package var reason: String?
        package var at: Date
        package var topic: String
        package var partition: Int32
        package var offset: Int64

        package init(
            recordId: UUID, dossierId: String, statusCode: Int, accepted: Bool, reason: String?, at: Date,
            topic: String, partition: Int32, offset: Int64
        ) {
            self.recordId = recordId
            self.dossierId = dossierId
            self.statusCode = statusCode
            self.accepted = accepted
            self.reason = reason
            self.at = at
            self.topic = topic
            self.partition = partition
            self.offset = offset
        }
    }

    /// Records acknowledgements (each of a produced record); the first one of a record stands.
    package static func record(_ acks: [Ack], in tx: PostgresConnection) throws {
        for ack in acks {
            try tx.execute(
                """
                INSERT INTO portal_sync_acks (record_id, dossier_id, status_code, accepted, reason, acknowledged_at,
                                              source_topic, source_partition, source_offset)
                VALUES (\(ack.recordId), \(ack.dossierId), \(ack.statusCode), \(ack.accepted), \(ack.reason),
                        \(ack.at), \(ack.topic), \(Int(ack.partition)), \(ack.offset))
                ON CONFLICT (record_id) DO NOTHING
                """)
        }
    }

    /// A dossier whose status changed on the day, with what PostgreSQL says and what the portal acknowledged.
    package struct Reconciliation: Sendable, Hashable {
        package var dossierId: String
        package var code: String?
        /// `dossier_status.status`.
        package var status: String
        /// The last record produced, and the last one the portal accepted (nil: none).
        package var lastSent: Int?
        package var lastAcknowledged: Int?
    }

    /// Dossiers whose projected status changed on the local `day` (`YYYY-MM-DD`).
    package static func reconciliation(day: String, in connection: PostgresConnection) throws -> [Reconciliation] {
        try connection.query(
            """
            SELECT s.dossier_id, s.code, s.status,
                   (SELECT r.status_code FROM portal_sync_records r WHERE r.dossier_id = s.dossier_id
                    ORDER BY r.id DESC LIMIT 1) AS last_sent,
                   (SELECT r.status_code FROM portal_sync_records r JOIN portal_sync_acks a USING (record_id)
                    WHERE r.dossier_id = s.dossier_id AND a.accepted ORDER BY r.id DESC LIMIT 1) AS last_acknowledged
            FROM dossier_status s
            WHERE (s.updated_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date = \(day, as: "date")
            ORDER BY s.code, s.dossier_id
            """
        ).map { row in
            Reconciliation(
                dossierId: try row.decode(String.self, "dossier_id"), code: try row.decodeIfPresent(String.self, "code"),
                status: try row.decode(String.self, "status"), lastSent: try row.decodeIfPresent(Int.self, "last_sent"),
                lastAcknowledged: try row.decodeIfPresent(Int.self, "last_acknowledged"))
        }
    }
}
