import Authority
import Foundation
import Postgres

/// Reception's statements: which dossiers are known, dossier codes, and the received dossiers themselves.
package enum ReceptionStore {
    /// One row of `dossiers` as reception writes it.
    package struct Row: Sendable {
        package var id: String
        package var code: String?
        package var procedure: String
        package var channel: String
        package var commune: String
        package var applicantKind: String
        package var submittedAt: Date
        package var receivedAt: Date
        package var status: String
        package var department: DepartmentID?
        package var dueDate: String?
        /// The intake JSON as received.
        package var body: String
        /// SHA-256 of the dossier as sent in its first step task (`MessageCoding.digest(of:encoder:)`).
        package var bodySha256: [UInt8]?
        /// SHA-256 of the applicant's receipt secret, when the channel sent one.
        package var receiptSecretSha256: [UInt8]?
        /// The catalogue version (`catalogue_versions`) the dossier was received under (migration 021).
        package var catalogueVersion: String?
        /// The intake's optional `digitised` and `vneidVerified`, as sent (nil: not said; migration 030).
        package var digitised: Bool?
        package var vneidVerified: Bool?

        package init(
            id: String, code: String?, procedure: String, channel: String, commune: String, applicantKind: String,
            submittedAt: Date, receivedAt: Date, status: String, department: DepartmentID?, dueDate: String?, body: String,
            bodySha256: [UInt8]? = nil, receiptSecretSha256: [UInt8]? = nil, catalogueVersion: String? = nil
        ) {
            self.catalogueVersion = catalogueVersion
            self.bodySha256 = bodySha256
            self.receiptSecretSha256 = receiptSecretSha256
            self.id = id
            self.code = code
            self.procedure = procedure
            self.channel = channel
            self.commune = commune
            self.applicantKind = applicantKind
            self.submittedAt = submittedAt
            self.receivedAt = receivedAt
            self.status = status
            self.department = department
            self.dueDate = dueDate
            self.body = body
        }
    }

    /// The ids among `ids` that reception already recorded.
    package static func known(_ ids: [String], in tx: PostgresConnection) throws -> Set<String> {
        Set(try tx.query("SELECT id FROM dossiers WHERE id = ANY(\(ids, as: "text[]"))")
            .map { try $0.decode(String.self, "id") })
    }

    /// Reserves `count` consecutive numbers of each agency's codes for a local day, in one statement (the rows are
    /// locked in agency order, as every reception locks them); returns the last number of each agency.
    package static func reserveCodes(
        _ counts: [String: Int], day: String, in tx: PostgresConnection
    ) throws -> [String: Int] {
        guard !counts.isEmpty else { return [:] }
        let sorted = counts.sorted { $0.key < $1.key }
        var last: [String: Int] = [:]
        for row in try tx.query(
            """
            INSERT INTO dossier_code_sequences (agency_code, day, last_value)
            SELECT agency, \(day, as: "date"), n FROM unnest(\(sorted.map(\.key), as: "text[]"),
                                                       \(PostgresIntArray(sorted.map { Int64($0.value) }))) AS u(agency, n)
            ORDER BY agency
            ON CONFLICT (agency_code, day) DO UPDATE SET last_value = dossier_code_sequences.last_value + EXCLUDED.last_value
            RETURNING agency_code, last_value
            """)
        {
            last[try row.decode(String.self, "agency_code")] = try row.decode(Int.self, "last_value")
        }
        return last
    }

    /// Stores the applicants' chosen channels and contacts (dossier id, channel, address), apart from the dossiers:
    /// only the notifier role reads them, through `notification_contacts` (migration 020). One statement.
    package static func insertContacts(
        _ rows: [(dossierId: String, channel: String, address: String)], at now: Date, in tx: PostgresConnection
    ) throws {
        guard !rows.isEmpty else { return }
        try tx.execute(
            """
            INSERT INTO applicant_contacts (dossier_id, channel, address, recorded_at)
            SELECT id, channel, address, \(now)
            FROM unnest(\(rows.map(\.dossierId), as: "text[]"), \(rows.map(\.channel), as: "text[]"),
                        \(rows.map(\.address), as: "text[]")) AS c(id, channel, address)
            ON CONFLICT DO NOTHING
            """)
    }

    /// Writes the received dossiers with one COPY.
    package static func insert(_ rows: [Row], in tx: PostgresConnection) throws {
        try tx.copyIn(
            "COPY dossiers (id, code, procedure, channel, commune, applicant_kind, submitted_at, received_at, status, "
                + "department, due_date, body, received_sha256, body_sha256, receipt_secret_sha256, catalogue_version, "
                + "digitised, vneid_verified) FROM STDIN"
        ) { writer in
            for row in rows {
                try writer.row(text: [
                    row.id, row.code, row.procedure, row.channel, row.commune, row.applicantKind,
                    PostgresTimestamp.format(row.submittedAt), PostgresTimestamp.format(row.receivedAt), row.status,
                    row.department?.rawValue, row.dueDate, row.body, row.bodySha256.map { PostgresBytes($0).postgresText },
                    row.bodySha256.map { PostgresBytes($0).postgresText },
                    row.receiptSecretSha256.map { PostgresBytes($0).postgresText }, row.catalogueVersion,
                    row.digitised.map { $0 ? "t" : "f" }, row.vneidVerified.map { $0 ? "t" : "f" },
                ])
            }
        }
    }
}
