import Foundation
import Postgres
import TestSupport
import Testing

/// `schemas/postgres/007_decision_write_cost.sql`: the foreign keys from `decisions` to the version tables became a
/// check per statement (COPY included) and append-only version tables. `008_explanations_once.sql`: explanations are
/// stored once (`explanations`), cited by `decisions.explanation_id` under the same check.
@Suite("PostgreSQL: decisions cite stored rule versions, delegation versions and explanations")
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
        explanation = try Self.explanationIds(["{}"], db)[0]
    }

    /// The id of the explanation `{}`.
    var explanation: String = ""

    static func explanationIds(_ texts: [String], _ db: PostgresConnection) throws -> [String] {
        try db.query(
            "SELECT id FROM unnest(motcua_explanation_ids($1::text[]::jsonb[])) WITH ORDINALITY AS t (id, n) ORDER BY n",
            [texts]
        ).map { String(try $0.decode(Int64.self, "id")) }
    }

    deinit { database.drop() }

    static let columns = "dossier_id, step, round, department, procedure, outcome, review, rule_version, "
        + "delegation_version, decided_at, source_topic, source_partition, source_offset, explanation_id"

    func row(_ dossier: String, rule: String = "rv-1", delegation: String? = "dv-1", explanation: String? = nil) -> [String?] {
        [dossier, "0", "0", "labour", "p1", "approve", "auto", rule, delegation, "2026-11-27 10:00:00+00",
         "dossiers.labour", "0", "1", explanation ?? self.explanation]
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
                    + "'rv-missing', NULL, now(), 'dossiers.labour', 0, 1, $2)", ["d-9", explanation])
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
            expectFailure("23000", naming: "append-only") { try db.execute(statement, []) }
        }
        // An uncited version cannot be deleted either: versions are history, not configuration.
        try db.execute("INSERT INTO rule_versions (version, department, canonical_text) VALUES ('rv-2', 'labour', 'x')")
        expectFailure("23000", naming: "append-only") { try db.execute("DELETE FROM rule_versions WHERE version = 'rv-2'") }
        // Storing a known version again is a no-op, as workers do on every connect.
        try db.execute(
            "INSERT INTO rule_versions (version, department, canonical_text) VALUES ('rv-1', 'labour', 'rules') ON CONFLICT DO NOTHING")
        #expect(try db.query("SELECT count(*)::int AS n FROM rule_versions").first!.decode(Int.self, "n") == 2)
    }

    @Test("each explanation is stored once, whatever its key order, and decisions read it back through the view")
    func explanationsOnce() throws {
        let long = #"{"rule":"r-2","ruleChecks":[\#((0..<30).map { #"{"rule":"r-\#($0)","result":"not-matched"}"# }.joined(separator: ","))]}"#
        let texts = [#"{"stage":"rules","rule":"r-1"}"#, long, #"{"rule": "r-1", "stage": "rules"}"#]
        let ids = try Self.explanationIds(texts, db)
        #expect(ids.count == 3)
        #expect(ids[0] == ids[2], "the same explanation in another key order is one explanation")
        #expect(ids[0] != ids[1])
        // Asking again (another batch, another worker) finds the same rows.
        #expect(try Self.explanationIds([long, texts[0]], db) == [ids[1], ids[0]])
        #expect(try db.query("SELECT count(*)::int AS n FROM explanations").first!.decode(Int.self, "n") == 3)
        try copy([row("d-1", explanation: ids[0]), row("d-2", explanation: ids[1]), row("d-3", explanation: ids[2])])
        let read = try db.query(
            "SELECT dossier_id, explanation = $1::jsonb AS short, explanation = $2::jsonb AS long "
                + "FROM decisions_explained ORDER BY dossier_id", [texts[0], long])
        #expect(try read.map { try $0.decode(String.self, "dossier_id") } == ["d-1", "d-2", "d-3"])
        #expect(try read.map { try $0.decode(Bool.self, "short") } == [true, false, true])
        #expect(try read.map { try $0.decode(Bool.self, "long") } == [false, true, false])
    }

    @Test("a decision citing an unknown explanation fails, naming it; explanations are append-only")
    func unknownExplanationRefused() throws {
        expectFailure("23503", naming: "explanation 987654") {
            try copy([row("d-1"), row("d-2", explanation: "987654")])
        }
        #expect(try count() == 0)
        try copy([row("d-1")])
        expectFailure("23503", naming: "explanation 987654") {
            try db.execute("UPDATE decisions SET explanation_id = 987654")
        }
        for statement in ["DELETE FROM explanations", "UPDATE explanations SET body = '[]'"] {
            expectFailure("23000", naming: "append-only") { try db.execute(statement, []) }
        }
        // A digest that is not the body's is refused: the key is always the SHA-256 of the normalised text.
        expectFailure("23514", naming: "explanations") {
            try db.execute(#"INSERT INTO explanations (digest, body) VALUES ('\x00', '{"a":1}')"#)
        }
    }
}

/// `009_decisions_brin.sql`: decisions by period through a BRIN index on `decided_at`.
@Suite("PostgreSQL: decisions of a period")
struct DecisionPeriodTests {
    @Test("a period's decisions are found through the BRIN index on decided_at; the department btree is gone")
    func periodThroughBrin() throws {
        let database = try TestDatabase("period")
        defer { database.drop() }
        let db = database.connection
        try db.executeScript(
            """
            INSERT INTO rule_versions (version, department, canonical_text) VALUES ('rv-1', 'labour', 'rules');
            SELECT motcua_explanation_ids(ARRAY['{}'::jsonb]);
            INSERT INTO decisions (dossier_id, step, round, department, procedure, outcome, review, rule_version,
                                   decided_at, source_topic, source_partition, source_offset, explanation_id)
            SELECT 'd-' || n, 0, 0, CASE WHEN n % 2 = 0 THEN 'labour' ELSE 'culture' END, 'p1', 'approve', 'auto',
                   'rv-1', timestamptz '2026-01-01 00:00+00' + n * interval '1 minute', 'dossiers.labour', 0, n,
                   (SELECT id FROM explanations)
            FROM generate_series(1, 20000) AS n;
            ANALYZE decisions;
            """)
        let indexes = try db.query("SELECT indexname FROM pg_indexes WHERE tablename = 'decisions'")
            .map { try $0.decode(String.self, "indexname") }
        #expect(indexes.contains("decisions_decided_brin"))
        #expect(!indexes.contains("decisions_department_decided"))
        let period = "decided_at >= '2026-01-05 00:00+00' AND decided_at < '2026-01-06 00:00+00' AND department = 'labour'"
        let plan = try db.query("EXPLAIN SELECT count(*) FROM decisions WHERE \(period)", [])
            .map { try $0.decode(String.self, "QUERY PLAN") }.joined(separator: "\n")
        #expect(plan.contains("decisions_decided_brin"), "\(plan)")
        // 1,440 minutes in the day, every other one labour.
        #expect(try db.query("SELECT count(*) AS n FROM decisions WHERE \(period)", [])[0].decode(Int.self, "n") == 720)
    }
}

/// `008_explanations_once.sql` on a database that already holds decisions with their explanations inline.
@Suite("PostgreSQL: migration 008 moves existing explanations")
struct ExplanationMigrationTests {
    @Test("existing decisions keep their explanations, each distinct one stored once")
    func movesExplanations() throws {
        let database = try TestDatabase("explmig", migratedUpTo: 7)
        defer { database.drop() }
        let db = database.connection
        try db.executeScript(
            """
            INSERT INTO rule_versions (version, department, canonical_text) VALUES ('rv-1', 'labour', 'rules');
            INSERT INTO decisions (dossier_id, step, round, department, procedure, outcome, review, rule_version,
                                   decided_at, source_topic, source_partition, source_offset, explanation)
            VALUES ('d-1', 0, 0, 'labour', 'p1', 'approve', 'auto', 'rv-1', now(), 'dossiers.labour', 0, 1, '{"rule":"a","n":1}'),
                   ('d-2', 0, 0, 'labour', 'p1', 'approve', 'auto', 'rv-1', now(), 'dossiers.labour', 0, 2, '{"n":1,"rule":"a"}'),
                   ('d-3', 0, 0, 'labour', 'p1', 'refuse', 'auto', 'rv-1', now(), 'dossiers.labour', 0, 3, '{"rule":"b"}');
            """)
        #expect(try TestDatabase.migrator().migrate(db).contains(8))
        let read = try db.query(
            "SELECT dossier_id, explanation_id, explanation::text AS e FROM decisions_explained ORDER BY dossier_id")
        #expect(try read.map { try $0.decode(String.self, "e") }
            == [#"{"n": 1, "rule": "a"}"#, #"{"n": 1, "rule": "a"}"#, #"{"rule": "b"}"#])
        let ids = try read.map { try $0.decode(Int64.self, "explanation_id") }
        #expect(ids[0] == ids[1] && ids[0] != ids[2])
        #expect(try db.query("SELECT count(*)::int AS n FROM explanations").first!.decode(Int.self, "n") == 2)
        let column = try db.query(
            "SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'decisions' AND column_name = 'explanation'")
        #expect(try column.first!.decode(Int.self, "n") == 0)
    }
}
