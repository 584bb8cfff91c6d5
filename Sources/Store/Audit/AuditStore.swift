import Authority
import Foundation
import Postgres

/// The audit replay's reads (read-only): decisions of the replayed topics, withdrawals, missed step deadlines, and
/// the stored texts of rule and delegation versions.
package enum AuditStore {
    package struct Source: Hashable, Sendable {
        package var topic: String
        package var partition: Int32
        package var offset: Int64

        /// Partition and offset only: a replay reads a handful of topics, and hashing their names for every message
        /// costs more than the rare collision between topics (which `==` still tells apart).
        package init(topic: String, partition: Int32, offset: Int64) {
            self.topic = topic
            self.partition = partition
            self.offset = offset
        }

        package func hash(into hasher: inout Hasher) {
            hasher.combine(partition)
            hasher.combine(offset)
        }
    }

    package struct Decision: Sendable {
        package var dossierId: String
        package var step: Int
        package var round: Int
        package var department: DepartmentID
        package var outcome: String
        package var ruleId: String?
        package var ruleVersion: String
        package var delegationId: String?
        package var delegationVersion: String?
        package var decidedAt: Date
        package var source: Source
        package var signedOutcome: String?
        package var signedAt: Date?

    }

    /// A step deadline decided late or still open past its due date.
    package struct MissedDeadline: Sendable {
        package var dossierId: String
        package var step: Int
        package var department: DepartmentID?
        package var dueDate: String
        package var closedAt: Date?
    }

    /// Makes every transaction of the connection read-only.
    package static func readOnly(_ connection: PostgresConnection) throws {
        try connection.execute("SET default_transaction_read_only = on")
    }

    /// Every decision whose step message came from one of `topics`.
    package static func decisions(topics: [String], on connection: PostgresConnection) throws -> [Decision] {
        let rows = try connection.query(
            """
            SELECT dossier_id, step, round, department, outcome, rule_id, rule_version, delegation_id,
                   delegation_version, decided_at, source_topic, source_partition, source_offset, signed_outcome, signed_at
            FROM decisions WHERE source_topic = ANY(\(topics, as: "text[]"))
            """)
        // By position, and the columns that repeat from row to row (department, outcome, versions, topic, …) made
        // into a String only when their bytes change.
        var department = RepeatedText(), outcome = RepeatedText(), ruleId = RepeatedText()
        var ruleVersion = RepeatedText(), delegationId = RepeatedText(), delegationVersion = RepeatedText()
        var topic = RepeatedText(), signedOutcome = RepeatedText()
        var decisions: [Decision] = []
        decisions.reserveCapacity(rows.count)
        for row in rows {
            decisions.append(Decision(
                dossierId: try row.decode(String.self, at: 0), step: try row.decode(Int.self, at: 1),
                round: try row.decode(Int.self, at: 2), department: DepartmentID(try department.required(row, 3)),
                outcome: try outcome.required(row, 4), ruleId: try ruleId.optional(row, 5),
                ruleVersion: try ruleVersion.required(row, 6), delegationId: try delegationId.optional(row, 7),
                delegationVersion: try delegationVersion.optional(row, 8), decidedAt: try row.decode(Date.self, at: 9),
                source: Source(
                    topic: try topic.required(row, 10), partition: Int32(try row.decode(Int.self, at: 11)),
                    offset: try row.decode(Int64.self, at: 12)),
                signedOutcome: try signedOutcome.optional(row, 13),
                signedAt: try row.decodeIfPresent(Date.self, at: 14)))
        }
        return decisions
    }

    /// Step deadlines closed late or open past their due date, by dossier and step. The missed ones are few:
    /// filtering them by dossier in the caller is far cheaper than sending every id in scope.
    package static func missedStepDeadlines(on connection: PostgresConnection) throws -> [MissedDeadline] {
        try connection.query(
            """
            SELECT dossier_id, step, department, due_date::text AS due, closed_at, status FROM deadlines
            WHERE kind = 'step'
              AND ((status = 'closed' AND closed_on_time = false) OR (status <> 'closed' AND fired & 2 <> 0))
            ORDER BY dossier_id, step
            """
        ).map { row in
            MissedDeadline(
                dossierId: try row.decode(String.self, "dossier_id"), step: try row.decode(Int.self, "step"),
                department: try row.decodeIfPresent(DepartmentID.self, "department"), dueDate: try row.decode(String.self, "due"),
                closedAt: try row.decodeIfPresent(Date.self, "closed_at"))
        }
    }

    /// Reception's receipt of a dossier: its code, the department it routed it to, the digest of the dossier it
    /// sent (nil for dossiers received before migration 013) and the catalogue version it recorded (nil before
    /// migration 021). No personal data.
    package struct Receipt: Sendable {
        package var code: String?
        package var department: String?
        package var digest: [UInt8]?
        package var catalogueVersion: String?
    }

    /// Every dossier reception received.
    package static func receipts(on connection: PostgresConnection) throws -> [String: Receipt] {
        var out: [String: Receipt] = [:]
        for row in try connection.query("SELECT id, code, department, received_sha256, catalogue_version FROM dossiers") {
            out[try row.decode(String.self, at: 0)] = Receipt(
                code: try row.decodeIfPresent(String.self, at: 1), department: try row.decodeIfPresent(String.self, at: 2),
                digest: try row.decodeIfPresent(PostgresBytes.self, at: 3)?.bytes,
                catalogueVersion: try row.decodeIfPresent(String.self, at: 4))
        }
        return out
    }

    /// The forwards recorded: `dossier/step/target`.
    package static func forwards(on connection: PostgresConnection) throws -> Set<String> {
        Set(try connection.query(
            "SELECT dossier_id || '/' || step || '/' || forward_to FROM decisions WHERE outcome = 'forward'"
        ).map { try $0.decode(String.self, at: 0) })
    }

    /// Every withdrawn dossier.
    package static func withdrawnDossiers(on connection: PostgresConnection) throws -> Set<String> {
        Set(try connection.query("SELECT dossier_id FROM withdrawals").map { try $0.decode(String.self, at: 0) })
    }

    /// The canonical text of every stored rule version.
    package static func ruleTexts(on connection: PostgresConnection) throws -> [String: String] {
        Dictionary(uniqueKeysWithValues: try connection.query("SELECT version, canonical_text FROM rule_versions").map {
            (try $0.decode(String.self, "version"), try $0.decode(String.self, "canonical_text"))
        })
    }

    /// The canonical JSON of every stored delegation version.
    package static func delegationSnapshots(on connection: PostgresConnection) throws -> [String: String] {
        Dictionary(uniqueKeysWithValues: try connection.query("SELECT version, canonical_json FROM delegation_versions").map {
            (try $0.decode(String.self, "version"), try $0.decode(String.self, "canonical_json"))
        })
    }
}

/// A text column that mostly repeats from row to row: the previous row's String is reused while the bytes match.
package struct RepeatedText {
    private var last: String?
    private var bytes: [UInt8] = []

    package mutating func optional(_ row: PostgresRow, _ position: Int) throws -> String? {
        try row.withText(at: position) { text -> String? in
            guard let text else { return nil }
            if let last, bytes.count == text.count,
                text.isEmpty || bytes.withUnsafeBytes({ memcmp($0.baseAddress!, text.baseAddress!, text.count) == 0 })
            {
                return last
            }
            let made = String(decoding: text, as: UTF8.self)
            last = made
            bytes = Array(text)
            return made
        }
    }

    package mutating func required(_ row: PostgresRow, _ position: Int) throws -> String {
        guard let text = try optional(row, position) else {
            throw PostgresError(.decoding, context: "decisions column \(position) is NULL")
        }
        return text
    }
}

