import Foundation
import Postgres
import TestSupport
import Testing

/// `schemas/postgres/007_decision_write_cost.sql`: the foreign keys from `decisions` to the version tables became a
/// check per statement (COPY included) and append-only version tables; explanations are stored uncompressed inline.
@Suite("PostgreSQL: decisions cite stored rule and delegation versions")
final class DecisionVersionTests {
    let database: TestDatabase
    var db: PostgresConnection { database.connection }

    init() throws {
        database = try TestDatabase("versions")
        try db.executeScript(
            """
            INSERT INTO rule_versions (version, department, canonical_text) VALUES ('rv-1', 'labour', 'rules');
            INSERT INTO delegation_versions (version, delegation_id, canonical_json) VALUES ('dv-1', 'del-1', '{}');
            """)
    }

    deinit { database.drop() }

    static let columns = "dossier_id, step, round, department, procedure, outcome, review, rule_version, "
        + "delegation_version, decided_at, source_topic, source_partition, source_offset, explanation"

    func row(_ dossier: String, rule: String = "rv-1", delegation: String? = "dv-1", explanation: String = "{}") -> [String?] {
        [dossier, "0", "0", "labour", "p1", "approve", "auto", rule, delegation, "2026-11-27 10:00:00+00",
         "dossiers.labour", "0", "1", explanation]
    }

    func copy(_ rows: [[String?]]) throws {
        try db.transaction { tx in
            try tx.copyIn("COPY decisions (\(Self.columns)) FROM STDIN") { writer in
                for row in rows { try writer.row(text: row) }
            }
        }
    }

    func expectFailure(_ state: String, naming: String, _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("expected SQLSTATE \(state) naming \(naming), but it succeeded")
        } catch let error as PostgresError {
            #expect(error.sqlState == state, "\(error)")
            #expect(error.message.contains(naming), "\(error)")
        } catch {
            Issue.record("\(error)")
        }
    }

    func count() throws -> Int {
        try db.query("SELECT count(*)::int AS n FROM decisions").first!.decode(Int.self, "n")
    }

    @Test("a COPY citing an unknown rule or delegation version fails whole, naming the version")
    func unknownVersionsRefused() throws {
        expectFailure("23503", naming: "rv-missing") {
            try copy([row("d-1"), row("d-2", rule: "rv-missing"), row("d-3")])
        }
        expectFailure("23503", naming: "dv-missing") {
            try copy([row("d-1"), row("d-2", delegation: "dv-missing")])
        }
        expectFailure("23503", naming: "rv-missing") {
            try db.execute(
                "INSERT INTO decisions (\(Self.columns)) VALUES ($1, 0, 0, 'labour', 'p1', 'approve', 'auto', "
                    + "'rv-missing', NULL, now(), 'dossiers.labour', 0, 1, '{}')", ["d-9"])
        }
        #expect(try count() == 0)
        try copy([row("d-1"), row("d-2", delegation: nil), row("d-3")])
        #expect(try count() == 3)
        expectFailure("23503", naming: "dv-missing") {
            try db.execute("UPDATE decisions SET delegation_version = 'dv-missing' WHERE dossier_id = 'd-1'")
        }
        #expect(try db.query("SELECT delegation_version FROM decisions WHERE dossier_id = 'd-1'").first!
            .decode(String.self, "delegation_version") == "dv-1")
    }

    @Test("rule and delegation versions are append-only")
    func versionsAppendOnly() throws {
        try copy([row("d-1")])
        for statement in [
            "DELETE FROM rule_versions WHERE version = 'rv-1'",
            "UPDATE rule_versions SET canonical_text = 'other' WHERE version = 'rv-1'",
            "DELETE FROM delegation_versions",
            "UPDATE delegation_versions SET canonical_json = '[]'",
        ] {
            expectFailure("23000", naming: "append-only") { try db.execute(statement) }
        }
        // An uncited version cannot be deleted either: versions are history, not configuration.
        try db.execute("INSERT INTO rule_versions (version, department, canonical_text) VALUES ('rv-2', 'labour', 'x')")
        expectFailure("23000", naming: "append-only") { try db.execute("DELETE FROM rule_versions WHERE version = 'rv-2'") }
        // Storing a known version again is a no-op, as workers do on every connect.
        try db.execute(
            "INSERT INTO rule_versions (version, department, canonical_text) VALUES ('rv-1', 'labour', 'rules') ON CONFLICT DO NOTHING")
        #expect(try db.query("SELECT count(*)::int AS n FROM rule_versions").first!.decode(Int.self, "n") == 2)
    }

    @Test("an explanation of a few KB is stored inline and uncompressed, byte for byte")
    func explanationInline() throws {
        let failures = (0..<40).map { #"{"rule":"rule-\#($0)","condition":"capitalVnd >= 5000000000","fact":\#($0)}"# }
        let explanation = #"{"failures":[\#(failures.joined(separator: ","))]}"#
        #expect(explanation.utf8.count > 2_500)
        try copy([row("d-1", explanation: explanation)])
        let stored = try db.query(
            "SELECT pg_column_compression(explanation) AS method, explanation = $1::jsonb AS same FROM decisions",
            [explanation]
        ).first!
        #expect(try stored.decodeIfPresent(String.self, "method") == nil)
        #expect(try stored.decode(Bool.self, "same"))
    }
}
