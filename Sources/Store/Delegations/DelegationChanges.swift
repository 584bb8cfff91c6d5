import Authority
import Foundation
import Messages
import Postgres
import Synchronization

/// Delegation changes recorded in PostgreSQL (`delegation_changes`, migration 004) by `motcua delegations grant`
/// and `revoke`, overlaid on the records of `deploy/delegations/`.
///
/// Each change holds the whole resulting record (canonical JSON, version). The overlay replaces a file record of
/// the same id, or adds the record; changes apply in `seq` order.
public enum DelegationChanges {
    public struct Change: Sendable, Hashable {
        public var seq: Int64
        public var delegationId: String
        public var kind: String
        public var version: String
        public var canonicalJSON: String
        public var effectiveAt: Date
        public var instrument: String
        public var recordedAt: Date
    }

    /// A change that cannot be made, with what to do instead.
    public struct Refusal: Error, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    /// Every change, oldest first.
    public static func load(from connection: PostgresConnection) throws -> [Change] {
        try connection.query(
            """
            SELECT seq, delegation_id, kind, version, canonical_json, effective_at, instrument, recorded_at
            FROM delegation_changes ORDER BY seq
            """
        ).map { row in
            Change(
                seq: try row.decode(Int64.self, "seq"), delegationId: try row.decode(String.self, "delegation_id"),
                kind: try row.decode(String.self, "kind"), version: try row.decode(String.self, "version"),
                canonicalJSON: try row.decode(String.self, "canonical_json"),
                effectiveAt: try row.decode(Date.self, "effective_at"),
                instrument: try row.decode(String.self, "instrument"),
                recordedAt: try row.decode(Date.self, "recorded_at"))
        }
    }

    /// The file records with the changes applied (replacing a record of the same id, or added after them).
    public static func overlay(_ files: [Delegation], _ changes: [Change]) throws -> [Delegation] {
        var records = files
        for change in changes {
            let record: Delegation
            do {
                record = try Delegation(snapshotJSON: change.canonicalJSON)
            } catch {
                throw Refusal(
                    "delegation change \(change.seq) (\(change.delegationId)) does not parse: \(error); "
                        + "fix the row in delegation_changes")
            }
            if let index = records.firstIndex(where: { $0.id == record.id }) {
                records[index] = record
            } else {
                records.append(record)
            }
        }
        return records
    }

    /// The bundle with the recorded changes overlaid on its delegations.
    public static func bundle(_ files: AuthorityBundle, _ changes: [Change]) throws -> AuthorityBundle {
        guard !changes.isEmpty else { return files }
        return files.replacingDelegations(
            DelegationRegistry(records: try overlay(files.delegations.records, changes)))
    }

    /// `record` revoked at `instant` by `instrument`: a new record (new canonical JSON and version).
    public static func revoked(
        _ record: Delegation, at instant: Date, by instrument: Delegation.Instrument
    ) throws -> Delegation {
        guard var object = try JSONSerialization.jsonObject(with: Data(record.canonicalJSON.utf8)) as? [String: Any]
        else { throw Refusal("delegation \(record.id): its snapshot is not a JSON object") }
        object["revokedAt"] = ISO8601Instant.format(instant)
        object["revokingInstrument"] = [
            "number": instrument.number, "date": instrument.date.description, "signer": instrument.signer,
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        do {
            return try Delegation(snapshotJSON: String(decoding: data, as: UTF8.self))
        } catch {
            throw Refusal("delegation \(record.id): the revoked record does not validate: \(error)")
        }
    }

    /// Records a change in one transaction. The head row is updated first: that waits for the workers' batches in
    /// flight (they hold it `FOR SHARE`) and makes every later batch reload. `change` is called after that, with
    /// the connection and the instant the change is recorded at, and returns the record and its effective instant.
    @discardableResult
    public static func record(
        kind: String, instrument: String, on connection: PostgresConnection, now: @escaping () -> Date,
        _ change: (PostgresConnection, Date) throws -> (record: Delegation, effectiveAt: Date)
    ) throws -> (seq: Int64, record: Delegation, effectiveAt: Date) {
        try connection.transaction { tx in
            let seq = try tx.query(
                "UPDATE delegation_change_head SET seq = seq + 1 WHERE singleton RETURNING seq")[0].decode(
                    Int64.self, "seq")
            let (record, effectiveAt) = try change(tx, now())
            try tx.execute(
                """
                INSERT INTO delegation_versions (version, delegation_id, canonical_json) VALUES ($1, $2, $3)
                ON CONFLICT DO NOTHING
                """, [record.version, record.id, record.canonicalJSON])
            try tx.execute(
                """
                INSERT INTO delegation_changes (seq, delegation_id, kind, version, canonical_json, effective_at,
                                                instrument, recorded_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                """,
                [seq, record.id, kind, record.version, record.canonicalJSON, effectiveAt, instrument, now()])
            return (seq, record, effectiveAt)
        }
    }
}

/// A worker's view of the delegations: the file records plus the recorded changes, reloaded when the change head
/// moves. One single-row read per batch; the rebuild happens only after a change.
public final class DelegationOverlay: Sendable {
    public let files: AuthorityBundle
    private let state: Mutex<(seq: Int64, bundle: AuthorityBundle)>

    public init(files: AuthorityBundle) {
        self.files = files
        state = Mutex((-1, files))
    }

    /// The bundle as of the last refresh.
    public var bundle: AuthorityBundle { state.withLock { $0.bundle } }

    /// The bundle as of the last refresh, with the change head it reflects (-1 before the first refresh).
    public var snapshot: (seq: Int64, bundle: AuthorityBundle) { state.withLock { $0 } }

    /// Reads the change head in the open transaction (holding it `FOR SHARE` until the transaction ends) and
    /// returns the bundle to decide with and that head, reloading the changes if the head moved.
    public func refresh(in tx: PostgresConnection) throws -> (seq: Int64, bundle: AuthorityBundle) {
        let head = try tx.query("SELECT seq FROM delegation_change_head WHERE singleton FOR SHARE").first
            .map { try $0.decode(Int64.self, "seq") } ?? 0
        let current = snapshot
        if head == current.seq { return current }
        let bundle = try DelegationChanges.bundle(files, try DelegationChanges.load(from: tx))
        state.withLock { $0 = (head, bundle) }
        return (head, bundle)
    }
}
