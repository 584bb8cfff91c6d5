import Authority
import Foundation
import Postgres

/// `catalogue_versions` (migration 021): the terms of every catalogue version a dossier was received under.
package enum CatalogueVersionStore {
    /// Whether the version is stored (committed by any reception).
    package static func isStored(_ version: String, on connection: PostgresConnection) throws -> Bool {
        !(try connection.query("SELECT 1 AS one FROM catalogue_versions WHERE version = \(version)").isEmpty)
    }

    /// Stores the exact text of a catalogue version (once; a concurrent or earlier store is kept).
    package static func store(_ version: CatalogueVersion, in tx: PostgresConnection) throws {
        try tx.execute(
            """
            INSERT INTO catalogue_versions (version, canonical_text) VALUES (\(version.version), \(version.canonicalText))
            ON CONFLICT DO NOTHING
            """)
    }

    /// The stored text of one version, if stored.
    package static func text(of version: String, on connection: PostgresConnection) throws -> String? {
        try connection.query("SELECT canonical_text FROM catalogue_versions WHERE version = \(version)").first?
            .decode(String.self, "canonical_text")
    }

    /// Every stored version's text, by version (few: one per correction of the catalogue).
    package static func all(on connection: PostgresConnection) throws -> [String: String] {
        var out: [String: String] = [:]
        for row in try connection.query("SELECT version, canonical_text FROM catalogue_versions") {
            out[try row.decode(String.self, "version")] = try row.decode(String.self, "canonical_text")
        }
        return out
    }

    /// The catalogue version reception recorded on each of `ids` it received (nil: before migration 021); ids the
    /// reader may not see (row-level security) are absent. Through `motcua_recorded_catalogue_versions` (migration
    /// 031): the same read with the reader's rights, planned by key whatever the number of ids.
    package static func recorded(of ids: [String], in tx: PostgresConnection) throws -> [String: String?] {
        var out: [String: String?] = [:]
        for row in try tx.query(
            "SELECT id, catalogue_version FROM motcua_recorded_catalogue_versions(\(ids, as: "text[]"))")
        {
            out[try row.decode(String.self, "id")] = .some(try row.decodeIfPresent(String.self, "catalogue_version"))
        }
        return out
    }

    /// A received dossier's terms as reception recorded them: no personal data.
    package struct Receipt: Sendable {
        package var dossierId: String
        package var code: String?
        package var procedure: String
        package var department: DepartmentID?
        package var receivedAt: Date
        package var dueDate: String?
        package var catalogueVersion: String?
    }

    /// The dossiers reception received and gave a due date, with the catalogue version each recorded.
    package static func receipts(on connection: PostgresConnection) throws -> [Receipt] {
        try connection.query(
            """
            SELECT id, code, procedure, department, received_at, due_date::text AS due, catalogue_version
            FROM dossiers WHERE due_date IS NOT NULL
            """
        ).map { row in
            Receipt(
                dossierId: try row.decode(String.self, "id"), code: try row.decodeIfPresent(String.self, "code"),
                procedure: try row.decode(String.self, "procedure"),
                department: try row.decodeIfPresent(DepartmentID.self, "department"),
                receivedAt: try row.decode(Date.self, "received_at"), dueDate: try row.decodeIfPresent(String.self, "due"),
                catalogueVersion: try row.decodeIfPresent(String.self, "catalogue_version"))
        }
    }
}
