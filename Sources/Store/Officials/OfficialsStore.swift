import Authority
import Foundation
import Messages
import Postgres
import Synchronization

/// The registry of officials and service principals in PostgreSQL (`official_changes`, migration 012): append-only
/// rows that add a principal (with its verified certificate), revoke one, or record a work authorisation.
public enum OfficialsStore {
    /// What an `add` row holds besides the certificate.
    public struct PrincipalRecord: Codable, Sendable, Hashable {
        public var id: String
        public var displayName: String
        public var department: String
        public var division: String?
        public var role: PrincipalRole
        public var algorithm: CommandSignature.Algorithm
        /// SubjectPublicKeyInfo, base64.
        public var publicKey: String
        public var certificateSHA256: String
        public var validFrom: Date
        public var validTo: Date

        public init(
            id: String, displayName: String, department: String, division: String?, role: PrincipalRole,
            algorithm: CommandSignature.Algorithm, publicKey: String, certificateSHA256: String, validFrom: Date,
            validTo: Date
        ) {
            self.id = id
            self.displayName = displayName
            self.department = department
            self.division = division
            self.role = role
            self.algorithm = algorithm
            self.publicKey = publicKey
            self.certificateSHA256 = certificateSHA256
            self.validFrom = validFrom
            self.validTo = validTo
        }
    }

    public struct RevocationRecord: Codable, Sendable, Hashable {
        public var at: Date
        public var reason: String
        public init(at: Date, reason: String) {
            self.at = at
            self.reason = reason
        }
    }

    /// One row of the history.
    public struct Change: Sendable {
        public var seq: Int64
        public var principalId: String
        public var kind: String
        public var record: String
        public var recordedAt: Date
        public var recordedBy: String
    }

    /// A change that cannot be made, with what to do instead.
    public struct Refusal: Error, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    /// Every change, oldest first.
    public static func changes(in connection: PostgresConnection) throws -> [Change] {
        try connection.query(
            "SELECT seq, principal_id, kind, record::text AS record, recorded_at, recorded_by FROM official_changes ORDER BY seq"
        ).map { (row: PostgresRow) throws -> Change in
            Change(
                seq: try row.decode(Int64.self, "seq"), principalId: try row.decode(String.self, "principal_id"),
                kind: try row.decode(String.self, "kind"), record: try row.decode(String.self, "record"),
                recordedAt: try row.decode(Date.self, "recorded_at"), recordedBy: try row.decode(String.self, "recorded_by"))
        }
    }

    /// The registry the changes make.
    public static func registry(from changes: [Change]) throws -> OfficialRegistry {
        let decoder = MessageCoding.decoder()
        var registry = OfficialRegistry()
        for change in changes {
            let data = Data(change.record.utf8)
            do {
                switch change.kind {
                case "add":
                    let record = try decoder.decode(PrincipalRecord.self, from: data)
                    guard let spki = Data(base64Encoded: record.publicKey) else {
                        throw Refusal("public key is not base64")
                    }
                    registry.add(Principal(
                        id: record.id, displayName: record.displayName, department: record.department,
                        division: record.division, role: record.role,
                        key: try CommandKey(algorithm: record.algorithm, spkiDER: spki),
                        certificateSHA256: record.certificateSHA256, validFrom: record.validFrom,
                        validTo: record.validTo, registeredAt: change.recordedAt))
                case "revoke":
                    let record = try decoder.decode(RevocationRecord.self, from: data)
                    registry.revoke(change.principalId, at: record.at, reason: record.reason)
                case "authorise":
                    registry.authorise(try decoder.decode(WorkAuthorisation.self, from: data))
                default:
                    throw Refusal("unknown kind '\(change.kind)'")
                }
            } catch {
                throw Refusal("official change \(change.seq) (\(change.principalId), \(change.kind)) cannot be read: \(error)")
            }
        }
        return registry
    }

    /// The registry as recorded now.
    public static func registry(in connection: PostgresConnection) throws -> OfficialRegistry {
        try registry(from: try changes(in: connection))
    }

    /// The number of the latest change (0 when the registry is empty).
    public static func head(in connection: PostgresConnection) throws -> Int64 {
        let rows = try connection.query("SELECT coalesce(max(seq), 0) AS seq FROM official_changes")
        guard let row = rows.first else { return 0 }
        return try row.decode(Int64.self, "seq")
    }

    /// Records a principal and its certificate (DER); refused when the id is taken (rotate: add a new id, revoke
    /// the old). `at`: the instant recorded (the registry is in force from its first one), in the clock the services
    /// share (`MOTCUA_CLOCK`: a drill's simulated week in the past still finds it in force); default: the server's.
    public static func add(
        _ record: PrincipalRecord, certificate: [UInt8], at: Date? = nil, in connection: PostgresConnection
    ) throws {
        let json = String(decoding: try MessageCoding.encoder().encode(record), as: UTF8.self)
        let inserted = try connection.query(
            """
            INSERT INTO official_changes (principal_id, kind, record, certificate, recorded_at)
            VALUES (\(record.id), 'add', \(PostgresJSON(json)), \(PostgresBytes(certificate)),
                    coalesce(\(at, as: "timestamptz"), now()))
            ON CONFLICT (principal_id) WHERE kind = 'add' DO NOTHING RETURNING seq
            """)
        guard !inserted.isEmpty else {
            throw Refusal(
                "'\(record.id)' is already registered: a new key is registered under a new id (e.g. \(record.id)-2), "
                    + "then the old one is revoked")
        }
    }

    public static func revoke(_ id: String, at: Date, reason: String, in connection: PostgresConnection) throws {
        let json = String(
            decoding: try MessageCoding.encoder().encode(RevocationRecord(at: at, reason: reason)), as: UTF8.self)
        guard try !connection.query("SELECT 1 FROM official_changes WHERE principal_id = \(id) AND kind = 'add'").isEmpty
        else { throw Refusal("'\(id)' is not registered (see motcua officials list)") }
        let inserted = try connection.query(
            """
            INSERT INTO official_changes (principal_id, kind, record) VALUES (\(id), 'revoke', \(PostgresJSON(json)))
            ON CONFLICT (principal_id) WHERE kind = 'revoke' DO NOTHING RETURNING seq
            """)
        guard !inserted.isEmpty else { throw Refusal("'\(id)' is already revoked") }
    }

    public static func authorise(_ authorisation: WorkAuthorisation, in connection: PostgresConnection) throws {
        let json = String(decoding: try MessageCoding.encoder().encode(authorisation), as: UTF8.self)
        try connection.execute(
            """
            INSERT INTO official_changes (principal_id, kind, record)
            VALUES (\(authorisation.deputy), 'authorise', \(PostgresJSON(json)))
            """)
    }
}

/// The registry as of a worker's last look, reloaded when its head moved (read only for batches holding commands).
public final class OfficialRegistryCache: Sendable {
    private let state = Mutex<(head: Int64, registry: OfficialRegistry)>((-1, .empty))

    public init() {}

    public func current(in tx: PostgresConnection) throws -> OfficialRegistry {
        let head = try OfficialsStore.head(in: tx)
        if let known = state.withLock({ $0.head == head ? $0.registry : nil }) { return known }
        let registry = try OfficialsStore.registry(in: tx)
        state.withLock { $0 = (head, registry) }
        return registry
    }
}
