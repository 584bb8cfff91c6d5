import Authority
import Foundation
import Postgres

/// Where a department's work comes from: which step tasks reception received or a department forwarded, officials'
/// requests for documents (so a supplement answers an open one), and the digest of a supplemented body.
package enum ProvenanceStore {
    /// A step task as the provenance check sees it.
    package struct Task: Sendable {
        package var dossierId: String
        package var step: Int
        package var round: Int
        /// SHA-256 of the task's dossier (`MessageCoding.digest(of:encoder:)`).
        package var digest: [UInt8]

        package init(dossierId: String, step: Int, round: Int, digest: [UInt8]) {
            self.dossierId = dossierId
            self.step = step
            self.round = round
            self.digest = digest
        }
    }

    /// What the provenance lookup answers for a batch (migration 033): the tasks the department may decide, and the
    /// catalogue version reception recorded on each of their dossiers.
    package struct Receipts: Sendable {
        /// The indices of the tasks the department may decide.
        package var received: Set<Int>
        /// By dossier id, for the tasks received: the catalogue version reception recorded (nil: before migration
        /// 021); a dossier without a `dossiers` row (a repeat of a step decided without one) is absent.
        package var versions: [String: String?]
    }

    /// A batch's tasks with the provenance statement's arguments written out: made where the batch is decided (the
    /// worker's stage, beside the transaction before it), so that the batch's own transaction only sends them.
    package struct Lookup: Sendable {
        package let tasks: [Task]
        let ids: String
        let steps: String
        let rounds: String
        let digests: String

        package init(_ tasks: [Task]) {
            self.tasks = tasks
            ids = tasks.map(\.dossierId).postgresText
            steps = tasks.map { String($0.step) }.postgresText
            rounds = tasks.map { String($0.round) }.postgresText
            digests = tasks.map { PostgresBytes.hex($0.digest) }.postgresText
        }
    }

    /// The tasks that `department` may decide — received by reception (step 0, same digest, assigned to it),
    /// forwarded to it by the step before (same digest), or already decided by it — with the catalogue version
    /// recorded on each one's dossier. One statement for a batch; nothing of a task the department may not decide.
    package static func receipts(
        _ tasks: [Task], department: DepartmentID, in tx: PostgresConnection
    ) throws -> Receipts {
        try receipts(Lookup(tasks), department: department, in: tx)
    }

    /// ``receipts(_:department:in:)`` with the arguments written out already.
    package static func receipts(
        _ lookup: Lookup, department: DepartmentID, in tx: PostgresConnection
    ) throws -> Receipts {
        let tasks = lookup.tasks
        var receipts = Receipts(received: [], versions: [:])
        guard !tasks.isEmpty else { return receipts }
        receipts.received.reserveCapacity(tasks.count)
        receipts.versions.reserveCapacity(tasks.count)
        let rows = try tx.query(
            """
            SELECT task_index, on_record, catalogue_version FROM motcua_step_provenance(\(department),
                \(lookup.ids, as: "text[]"), \(lookup.steps, as: "integer[]"), \(lookup.rounds, as: "integer[]"),
                \(lookup.digests, as: "text[]"))
            """)
        for row in rows {
            let index = try row.decode(Int.self, "task_index") - 1
            guard tasks.indices.contains(index) else { continue }
            receipts.received.insert(index)
            if try row.decode(Bool.self, "on_record") {
                receipts.versions[tasks[index].dossierId] = .some(try row.decodeIfPresent(String.self, "catalogue_version"))
            }
        }
        return receipts
    }

    /// Records an official's request for documents on a round (once; a repeat changes nothing).
    package static func recordSupplementRequest(
        _ dossierId: String, step: Int, round: Int, department: DepartmentID, documents: [String], official: String,
        reason: String?, at now: Date, in tx: PostgresConnection
    ) throws {
        try tx.execute(
            """
            INSERT INTO supplement_requests (dossier_id, step, round, department, documents, official, reason, requested_at)
            VALUES (\(dossierId), \(step), \(round), \(department), \(documents, as: "text[]"), \(official),
                    \(reason as String?), \(now))
            ON CONFLICT (dossier_id, step, round) DO NOTHING
            """)
    }

    /// The documents an official requested on a round, if one did.
    package static func supplementRequest(
        _ dossierId: String, step: Int, round: Int, in tx: PostgresConnection
    ) throws -> [String]? {
        try tx.query(
            """
            SELECT array_to_json(documents)::text AS documents FROM supplement_requests
            WHERE dossier_id = \(dossierId) AND step = \(step) AND round = \(round)
            """
        ).first.map { row in
            try JSONDecoder().decode([String].self, from: Data(try row.decode(String.self, "documents").utf8))
        }
    }

    /// Replaces the stored body and its digest (a supplement merged into it).
    package static func updateBody(
        _ dossierId: String, json: String, digest: [UInt8], at now: Date, in tx: PostgresConnection
    ) throws {
        try tx.execute(
            """
            UPDATE dossiers SET body = \(PostgresJSON(json)), body_sha256 = \(PostgresBytes(digest)), updated_at = \(now)
            WHERE id = \(dossierId)
            """)
    }
}
