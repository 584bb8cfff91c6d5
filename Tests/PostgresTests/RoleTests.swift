import Audit
import EffectivelyOnce
import Foundation
import Kafka
import Messages
import Pages
import Postgres
import ServiceCommands
import Services
import Simulation
import Store
import TestSupport
import Testing

/// The roles of `schemas/postgres/003_roles.sql`, exercised with `SET ROLE` on a superuser connection to a database
/// of the test's own (the roles are cluster-wide; grants, guards and policies are per database). The statements
/// are those the services run (`Sources/Processing`), COPY included: the guards must hold for COPY too.
@Suite("PostgreSQL roles: departments, coordinator, auditor")
final class RoleTests {
    let database: TestDatabase
    var db: PostgresConnection { database.connection }
    var name: String { database.name }

    init() throws {
        database = try TestDatabase("roles")
        try seed()
    }

    deinit {
        database.drop()
    }

    // MARK: fixtures

    static let departments = ["industry-trade", "environment", "labour", "culture", "industrial-zones"]
    static func role(_ department: String) -> String { "motcua_worker_" + department.replacingOccurrences(of: "-", with: "_") }

    static let decisionColumns = "dossier_id, step, round, department, procedure, outcome, review, rule_version, "
        + "decided_at, source_topic, source_partition, source_offset, explanation_id"

    /// The id of the explanation `{}`, stored by whoever runs the statement.
    static let emptyExplanation = "(motcua_explanation_ids(ARRAY['{}'::jsonb]))[1]"

    /// Two dossiers with personal data, one assigned to labour and one to culture, each with a decision of its
    /// department awaiting a signature.
    func seed() throws {
        try db.executeScript(
            """
            INSERT INTO rule_versions (version, department, canonical_text) VALUES ('rv-labour', 'labour', 'l'), ('rv-culture', 'culture', 'c');
            INSERT INTO dossiers (id, code, procedure, channel, commune, applicant_kind, submitted_at, received_at, status, department, body)
            VALUES ('d-labour', 'LD-1', 'p1', 'online', '00004', 'citizen', now(), now(), 'received', 'labour',
                    '{"applicant": {"kind": "citizen", "id": "001090000001", "name": "Nguyễn Văn A"}}'),
                   ('d-culture', 'VH-1', 'p2', 'online', '00004', 'citizen', now(), now(), 'received', 'culture',
                    '{"applicant": {"kind": "citizen", "id": "001090000002", "name": "Trần Thị B"}}');
            INSERT INTO decisions (\(Self.decisionColumns)) VALUES
              ('d-labour', 0, 0, 'labour', 'p1', 'approve', 'official', 'rv-labour', now(), 'dossiers.labour', 0, 1, \(Self.emptyExplanation)),
              ('d-culture', 0, 0, 'culture', 'p2', 'approve', 'official', 'rv-culture', now(), 'dossiers.culture', 0, 1, \(Self.emptyExplanation));
            INSERT INTO consumer_offsets (consumer_group, topic, partition, next_offset)
            VALUES ('motcua.culture', 'dossiers.culture', 0, 2), ('motcua.labour', 'dossiers.labour', 0, 2);
            INSERT INTO outbox (source, event_id, topic, key, ce_type, payload)
            VALUES ('culture', gen_random_uuid(), 'dossier.events', 'd-culture', 'motcua.dossier.event', '\\x7b7d'),
                   ('labour', gen_random_uuid(), 'dossier.events', 'd-labour', 'motcua.dossier.event', '\\x7b7d');
            """)
    }

    func asRole(_ role: String, _ body: () throws -> Void) throws {
        try db.execute("SET ROLE \(role)", [])
        defer { _ = try? db.execute("RESET ROLE") }
        try body()
    }

    /// `statement` must fail with SQLSTATE 42501 (insufficient privilege: a missing grant or a row guard).
    func expectDenied(
        _ what: String, sourceLocation: SourceLocation = #_sourceLocation, _ statement: () throws -> Void
    ) {
        do {
            try statement()
            Issue.record("\(what): expected permission denied, but it succeeded", sourceLocation: sourceLocation)
        } catch let error as PostgresError {
            #expect(error.sqlState == "42501", "\(what): \(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("\(what): \(error)", sourceLocation: sourceLocation)
        }
        // A failed statement outside a transaction leaves nothing to roll back; inside one the caller aborts it.
    }

    func decisionCopy(_ department: String, dossier: String, round: Int) throws {
        let explanation = try db.query("SELECT \(Self.emptyExplanation) AS id", []).first!.decode(Int64.self, "id")
        try db.copyIn("COPY decisions (\(Self.decisionColumns)) FROM STDIN") { writer in
            try writer.row(text: [dossier, "0", String(round), department, "p", "approve", "official",
                                  department == "labour" ? "rv-labour" : "rv-culture", "2026-11-27T03:00:00Z",
                                  "dossiers.\(department)", "0", "7", String(explanation)])
        }
    }

    func outboxCopy(source: String) throws {
        try db.copyIn("COPY outbox (source, event_id, topic, key, ce_type, payload, headers) FROM STDIN") { writer in
            try writer.row(text: [source, UUID().uuidString.lowercased(), "dossier.events", "k", "motcua.dossier.event",
                                  "\\x7b7d", nil])
        }
    }

    func count(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) throws -> Int {
        try db.query(sql, parameters)[0].decode(Int.self, at: 0)
    }

    // MARK: tests

    @Test("the migration creates every role, NOLOGIN, and is idempotent across databases")
    func rolesExist() throws {
        let names = Self.departments.map(Self.role) + ["motcua_coordinator", "motcua_auditor", "motcua_reception"]
        for role in names {
            let rows = try db.query("SELECT rolcanlogin FROM pg_roles WHERE rolname = $1", [role])
            #expect(rows.count == 1, "role \(role) missing")
            // A deployment may have given LOGIN out of band; the test cluster's roles never get it.
            #expect(try rows.first?.decode(Bool.self, "rolcanlogin") == false, "\(role) can log in")
        }
        // Running the grants again (as a later migration does) changes nothing and fails nothing.
        try db.execute("SELECT motcua_grant_roles()")
        try db.execute("SELECT motcua_grant_roles()")
    }

    @Test("a department writes its own decisions and cannot insert or update another department's, COPY included")
    func departmentDecisions() throws {
        try asRole(Self.role("labour")) {
            try decisionCopy("labour", dossier: "d-labour", round: 1)
            #expect(try db.execute(
                "UPDATE decisions SET signed_by = 'official-7', signed_at = now(), signed_outcome = 'approve' WHERE dossier_id = 'd-labour' AND step = 0 AND round = 0") == 1)
            expectDenied("COPY a culture decision") { try decisionCopy("culture", dossier: "d-culture", round: 1) }
            expectDenied("INSERT a culture decision") {
                try db.execute(
                    "INSERT INTO decisions (\(Self.decisionColumns)) VALUES ('d-culture', 0, 2, 'culture', 'p2', 'refuse', 'official', 'rv-culture', now(), 'dossiers.culture', 0, 9, \(Self.emptyExplanation))", [])
            }
            expectDenied("sign a culture decision") {
                try db.execute("UPDATE decisions SET signed_by = 'x', signed_at = now() WHERE dossier_id = 'd-culture'")
            }
            expectDenied("move a decision to another department") {
                try db.execute("UPDATE decisions SET department = 'culture' WHERE dossier_id = 'd-labour'")
            }
            expectDenied("rewrite a decision's outcome") {
                try db.execute("UPDATE decisions SET outcome = 'refuse' WHERE dossier_id = 'd-labour'")
            }
            expectDenied("delete a decision") { try db.execute("DELETE FROM decisions WHERE dossier_id = 'd-labour'") }
            expectDenied("record another department's rule version") {
                try db.execute("INSERT INTO rule_versions (version, department, canonical_text) VALUES ('rv-x', 'culture', 'x')")
            }
            try db.execute("INSERT INTO rule_versions (version, department, canonical_text) VALUES ('rv-l2', 'labour', 'l2') ON CONFLICT DO NOTHING")
        }
        #expect(try count("SELECT count(*) FROM decisions WHERE department = 'culture'") == 1)
        #expect(try count("SELECT count(*) FROM decisions WHERE dossier_id = 'd-culture' AND signed_by IS NOT NULL") == 0)
        #expect(try count("SELECT count(*) FROM decisions WHERE department = 'labour'") == 2)
    }

    @Test("a department cannot read or change another department's applicant data")
    func departmentDossiers() throws {
        try asRole(Self.role("labour")) { () throws in
            #expect(try db.query("SELECT id FROM dossiers").map { try $0.decode(String.self, "id") } == ["d-labour"])
            // The worker's own statement (applicant supplement), on a dossier of another department: no row.
            #expect(try db.query("SELECT code, body, received_at FROM dossiers WHERE id = $1", ["d-culture"]).isEmpty)
            #expect(try count("SELECT count(*) FROM dossiers WHERE body::text LIKE '%Trần Thị B%'") == 0)
            #expect(try db.execute("UPDATE dossiers SET body = '{}', updated_at = now() WHERE id = 'd-culture'") == 0)
            // Its own: read and update the body, as `resume` does.
            #expect(try db.query("SELECT code, body, received_at FROM dossiers WHERE id = $1", ["d-labour"]).count == 1)
            #expect(try db.execute("UPDATE dossiers SET body = body, updated_at = now() WHERE id = 'd-labour'") == 1)
            expectDenied("change a dossier's department") {
                try db.execute("UPDATE dossiers SET department = 'labour' WHERE id = 'd-labour'")
            }
            expectDenied("insert a dossier") {
                try db.execute(
                    "INSERT INTO dossiers (id, code, procedure, channel, commune, applicant_kind, submitted_at, received_at, status, body) VALUES ('x', 'x', 'p', 'online', '1', 'citizen', now(), now(), 'received', '{}')")
            }
            expectDenied("read the coordinator's tables") { _ = try db.query("SELECT * FROM dossier_status") }
        }
        #expect(try count("SELECT count(*) FROM dossiers WHERE id = 'd-culture' AND body::text LIKE '%Trần Thị B%'") == 1)
        // A later step of an interconnected procedure: once labour has decided a step of a culture dossier, it sees it.
        try db.execute(
            "INSERT INTO decisions (\(Self.decisionColumns)) VALUES ('d-culture', 1, 0, 'labour', 'p2', 'approve', 'auto', 'rv-labour', now(), 'dossiers.labour', 0, 3, \(Self.emptyExplanation))", [])
        try asRole(Self.role("labour")) { () throws in
            #expect(try db.query("SELECT body FROM dossiers WHERE id = $1", ["d-culture"]).count == 1)
        }
        // Every other department still sees nothing of it but its own.
        try asRole(Self.role("environment")) { () throws in #expect(try count("SELECT count(*) FROM dossiers") == 0) }
    }

    @Test("a department advances only its own consumer offsets and writes only its own outbox rows")
    func departmentOffsetsAndOutbox() throws {
        try asRole(Self.role("labour")) {
            // OffsetStore.advance: the fenced update and the first insert, in its one statement.
            try OffsetStore(group: "motcua.labour").advance(
                [TopicPartition("dossiers.labour", 0): (2, 5), TopicPartition("dossiers.labour", 1): (nil, 1)], in: db)
            #expect(try count(
                "SELECT count(*) FROM consumer_offsets WHERE consumer_group = 'motcua.labour' AND (partition, next_offset) IN ((0, 5), (1, 1))") == 2)
            expectDenied("advance culture's offsets") {
                try db.execute(
                    "UPDATE consumer_offsets SET next_offset = 99 WHERE consumer_group = 'motcua.culture' AND topic = 'dossiers.culture'")
            }
            expectDenied("store an offset of culture's topic under its own group") {
                try db.execute(
                    "INSERT INTO consumer_offsets (consumer_group, topic, partition, next_offset) VALUES ('motcua.labour', 'dossiers.culture', 3, 1)")
            }
            expectDenied("store an offset under the reception's group") {
                try db.execute(
                    "INSERT INTO consumer_offsets (consumer_group, topic, partition, next_offset) VALUES ('motcua.reception', 'dossiers.intake', 3, 1)")
            }
            expectDenied("delete offsets") { try db.execute("DELETE FROM consumer_offsets") }
            // OutboxWriter and the relay.
            try outboxCopy(source: "labour")
            #expect(try db.execute("UPDATE outbox SET sent_at = now() WHERE source = 'labour' AND sent_at IS NULL") == 2)
            expectDenied("COPY an outbox row of culture") { try outboxCopy(source: "culture") }
            expectDenied("COPY an outbox row of reception") { try outboxCopy(source: "reception") }
            expectDenied("mark culture's outbox sent") {
                try db.execute("UPDATE outbox SET sent_at = now() WHERE source = 'culture'")
            }
            expectDenied("relabel its outbox row") { try db.execute("UPDATE outbox SET source = 'culture' WHERE source = 'labour'") }
        }
        #expect(try count("SELECT count(*) FROM consumer_offsets WHERE consumer_group = 'motcua.culture' AND next_offset = 2") == 1)
        #expect(try count("SELECT count(*) FROM outbox WHERE source = 'culture' AND sent_at IS NULL") == 1)
    }

    @Test("the auditor reads what replay needs and cannot write any table")
    func auditorReadOnly() throws {
        let tables = try db.query(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
        ).map { try $0.decode(String.self, "tablename") }
        #expect(tables.contains("decisions") && tables.contains("deadlines") && tables.count >= 14)
        try asRole("motcua_auditor") { () throws in
            for table in ["decisions", "rule_versions", "delegation_versions", "deadlines", "escalations",
                          "dossier_status", "dossier_timeline", "consumer_offsets", "explanations",
                          "decisions_explained", "supplement_requests"] {
                _ = try db.query("SELECT * FROM \(table) LIMIT 1", [])
            }
            // Dossiers and the outbox, but not applicants' data (dossiers.body, outbox payloads).
            _ = try db.query("SELECT id, code, department, received_sha256 FROM dossiers LIMIT 1", [])
            _ = try db.query("SELECT id, source, topic, key, ce_type, sent_at FROM outbox LIMIT 1", [])
            expectDenied("read applicants' data in dossiers") { _ = try db.query("SELECT body FROM dossiers", []) }
            expectDenied("read outbox payloads") { _ = try db.query("SELECT payload FROM outbox", []) }
            #expect(try count("SELECT count(*) FROM dossiers") == 2)
            #expect(try count("SELECT count(*) FROM decisions") == 2)
            for table in tables {
                // The first column of the table that an UPDATE may name (an identity column never may).
                let column = try db.query(
                    "SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum >= 1 AND attidentity = '' "
                        + "AND NOT attisdropped ORDER BY attnum LIMIT 1", [table]
                )[0].decode(String.self, "attname")
                expectDenied("INSERT into \(table)") { try db.execute("INSERT INTO \(table) DEFAULT VALUES", []) }
                expectDenied("UPDATE \(table)") { try db.execute("UPDATE \(table) SET \(column) = \(column)", []) }
                expectDenied("DELETE from \(table)") { try db.execute("DELETE FROM \(table)", []) }
                expectDenied("TRUNCATE \(table)") { try db.execute("TRUNCATE \(table)", []) }
            }
            expectDenied("COPY into decisions") { try decisionCopy("labour", dossier: "d-labour", round: 5) }
            expectDenied("create a table") { try db.execute("CREATE TABLE auditor_notes (n int)") }
        }
        #expect(try count("SELECT count(*) FROM decisions") == 2)
    }

    @Test("the coordinator runs projection and timer statements, and cannot touch decisions or applicant data")
    func coordinator() throws {
        // Received by reception (RoleTests+Reception runs that part as motcua_reception).
        try db.execute(
            """
            INSERT INTO dossiers (id, code, procedure, channel, commune, applicant_kind, submitted_at, received_at, status,
                                  department, step, due_date, body)
            VALUES ('d-new', 'LD-261127-000001', 'p1', 'online', '00004', 'citizen', '2026-11-27T02:30:00Z',
                    '2026-11-27T02:31:00Z', 'received', 'labour', 0, '2026-12-04', '{"applicant": {"name": "Lê Văn C"}}')
            """)
        try asRole("motcua_coordinator") { () throws in
            try db.transaction { tx in
                // What it writes (migration 010 refuses anything else, e.g. an official's command); reception's rows are
                // motcua_reception's since 017 (RoleTests+Reception).
                try tx.copyIn("COPY outbox (source, event_id, topic, key, ce_type, payload, headers) FROM STDIN") { writer in
                    for (source, topic, type) in [
                        ("coordinator", "dossier.events.dlq", "unknown"),
                        ("coordinator-timer", "escalations", "motcua.coordinator.overdue"),
                    ] {
                        try writer.row(text: [source, UUID().uuidString.lowercased(), topic, "d-new", type, "\\x7b7d", nil])
                    }
                }
                try tx.execute(
                    "INSERT INTO consumer_offsets (consumer_group, topic, partition, next_offset) VALUES ('motcua.coordinator', 'dossier.events', 0, 1) ON CONFLICT DO NOTHING")
                // Status projection.
                try tx.execute(
                    "INSERT INTO processed_events (consumer, event_id) SELECT $1, id FROM unnest($2::uuid[]) AS id ON CONFLICT DO NOTHING",
                    ["motcua.coordinator", [UUID().uuidString.lowercased()]])
                try tx.execute(
                    "INSERT INTO dossier_status (dossier_id, status, code, department, step, updated_at) VALUES ('d-new', 'received', 'LD-261127-000001', 'labour', 0, now()) ON CONFLICT (dossier_id) DO UPDATE SET status = EXCLUDED.status")
                try tx.execute(
                    "INSERT INTO deadlines (dossier_id, step, kind, department, procedure, opened_at, due_date, due_at, next_fire_at) VALUES ('d-new', 0, 'step', 'labour', 'p1', now(), '2026-12-04', now(), now() - interval '1 minute')")
                try tx.execute("INSERT INTO deadline_pauses (dossier_id, step, started_at) VALUES ('d-new', 0, now()) ON CONFLICT DO NOTHING")
                try tx.execute("UPDATE deadline_pauses SET ended_at = now(), working_days = 1 WHERE dossier_id = 'd-new'")
                try tx.copyIn(
                    "COPY dossier_timeline (dossier_id, event_id, type, step, at, from_department, to_department, due_date, timing, detail) FROM STDIN"
                ) { writer in
                    try writer.row(text: ["d-new", UUID().uuidString.lowercased(), "received", "0", "2026-11-27T02:31:00Z",
                                          "one-stop desk", "labour", "2026-12-04", nil, nil])
                }
                // Deadline timer.
                #expect(try tx.query(
                    "SELECT dossier_id FROM deadlines WHERE status = 'open' AND next_fire_at <= now() ORDER BY next_fire_at LIMIT 10 FOR UPDATE SKIP LOCKED"
                ).count == 1)
                try tx.execute("UPDATE deadlines SET fired = 2, next_fire_at = NULL WHERE dossier_id = 'd-new'")
                try tx.copyIn(
                    "COPY escalations (dossier_id, step, kind, level, reason, department, recipient, opened_at) FROM STDIN"
                ) { writer in
                    try writer.row(text: ["d-new", "0", "deadline", "1", "overdue", "labour", "head:labour", "2026-12-04T10:00:00Z"])
                }
                try tx.execute("UPDATE dossier_status SET overdue = true WHERE dossier_id = 'd-new'")
                try tx.execute("UPDATE escalations SET closed_at = now(), closed_by = 'decided' WHERE dossier_id = 'd-new' AND closed_at IS NULL")
                // Apologies are the department's since 028 (RoleTests+Apologies): the coordinator only reads them.
                _ = try tx.query("SELECT dossier_id, step, new_date FROM apologies WHERE dossier_id = 'd-new'")
                try tx.execute("UPDATE deadlines SET status = 'closed', closed_at = now(), next_fire_at = NULL WHERE dossier_id = 'd-new'")
                try tx.execute("DELETE FROM deadlines WHERE dossier_id = 'd-new' AND step = 0 AND status = 'closed'")
                _ = try tx.query("SELECT * FROM on_time_statistics")
                // The citizen page (CitizenLookup) and the status page (StatusPages): no personal columns needed.
                #expect(try tx.query(
                    """
                    SELECT d.id, d.code, d.procedure, COALESCE(s.status, d.status) AS status,
                           COALESCE(s.department, d.department) AS department, COALESCE(s.received_at, d.received_at) AS received_at,
                           COALESCE(s.due_date, d.due_date)::text AS due_date, COALESCE(s.overdue, false) AS overdue, s.outcome, s.decided_at
                    FROM dossiers d LEFT JOIN dossier_status s ON s.dossier_id = d.id WHERE d.code = $1
                    """, ["LD-261127-000001"]).count == 1)
                _ = try tx.query("SELECT type, at, from_department, to_department, timing FROM dossier_timeline WHERE dossier_id = 'd-new' ORDER BY at, id LIMIT 50")
                _ = try tx.query("SELECT level, count(*) AS n FROM escalations WHERE closed_at IS NULL GROUP BY level")
                _ = try tx.query("SELECT consumer_group, topic, partition, next_offset FROM consumer_offsets")
                try tx.execute("UPDATE outbox SET sent_at = now() WHERE source LIKE 'coordinator%' AND sent_at IS NULL")
            }
            expectDenied("insert a decision") {
                try db.execute(
                    "INSERT INTO decisions (\(Self.decisionColumns)) VALUES ('d-new', 0, 0, 'labour', 'p1', 'approve', 'auto', 'rv-labour', now(), 'dossiers.labour', 0, 1, \(Self.emptyExplanation))", [])
            }
            expectDenied("COPY a decision") { try decisionCopy("labour", dossier: "d-labour", round: 3) }
            expectDenied("sign a decision") { try db.execute("UPDATE decisions SET signed_by = 'x' WHERE dossier_id = 'd-labour'") }
            expectDenied("read decisions") { _ = try db.query("SELECT outcome FROM decisions") }
            expectDenied("read applicant data") { _ = try db.query("SELECT body FROM dossiers WHERE id = 'd-labour'") }
            expectDenied("rewrite applicant data") { try db.execute("UPDATE dossiers SET body = '{}'") }
            expectDenied("advance a department's offsets") {
                try db.execute("UPDATE consumer_offsets SET next_offset = 0 WHERE consumer_group = 'motcua.labour'")
            }
            expectDenied("write a department's outbox row") { try outboxCopy(source: "labour") }
            expectDenied("record a rule version") {
                try db.execute("INSERT INTO rule_versions (version, department, canonical_text) VALUES ('rv-c', 'labour', 'c')")
            }
        }
        #expect(try count("SELECT count(*) FROM escalations WHERE dossier_id = 'd-new' AND closed_at IS NOT NULL") == 1)
        #expect(try count("SELECT count(*) FROM decisions") == 2)
        #expect(try count("SELECT count(*) FROM consumer_offsets WHERE consumer_group = 'motcua.labour' AND next_offset = 2") == 1)
    }

    @Test("a department reads delegation changes and cannot make them; it withdraws only its own dossiers")
    func delegationChangesAndWithdrawals() throws {
        try asRole(Self.role("labour")) { () throws in
            // The worker's per-batch check (DelegationChanges): the head FOR SHARE, then the changes.
            #expect(try db.query("SELECT seq FROM delegation_change_head WHERE singleton FOR SHARE").count == 1)
            _ = try db.query("SELECT delegation_id, kind, version, canonical_json, effective_at FROM delegation_changes ORDER BY seq")
            expectDenied("move the delegation head") {
                try db.execute("UPDATE delegation_change_head SET seq = seq + 1 WHERE singleton")
            }
            expectDenied("record a delegation change") {
                try db.execute(
                    "INSERT INTO delegation_changes (delegation_id, kind, version, canonical_json, effective_at, instrument) VALUES ('x', 'revoke', 'v', '{}', now(), 'i')")
            }
        }
        guard try count("SELECT count(*) FROM pg_tables WHERE tablename = 'withdrawals' AND schemaname = current_schema()") == 1
        else { return }  // 005_withdrawals.sql not in this tree yet
        try asRole(Self.role("labour")) { () throws in
            let insert = "INSERT INTO withdrawals (dossier_id, department, step, withdrawn_at, source_topic, source_partition, source_offset) VALUES ($1, $2, 0, now(), $3, 0, 1) ON CONFLICT DO NOTHING RETURNING dossier_id"
            #expect(try db.query(insert, ["d-labour", "labour", "dossiers.labour"]).count == 1)
            expectDenied("withdraw a culture dossier") { _ = try db.query(insert, ["d-culture", "culture", "dossiers.culture"]) }
        }
        try asRole("motcua_coordinator") { () throws in
            #expect(try count("SELECT count(*) FROM withdrawals") == 1)
            expectDenied("withdraw as the coordinator") {
                _ = try db.query("INSERT INTO withdrawals (dossier_id, department, step, withdrawn_at, source_topic, source_partition, source_offset) VALUES ('d-culture', 'culture', 0, now(), 't', 0, 1)")
            }
        }
    }

    @Test("the guards hold for a login role that inherits a department role, not only for the role itself")
    func inheritedRole() throws {
        let login = TestEnvironment.unique("labour_login")
        try db.execute("CREATE ROLE \(login) NOLOGIN IN ROLE \(Self.role("labour"))", [])
        defer { _ = try? db.execute("DROP OWNED BY \(login)", []); _ = try? db.execute("DROP ROLE IF EXISTS \(login)", []) }
        try asRole(login) {
            try decisionCopy("labour", dossier: "d-labour", round: 4)
            expectDenied("COPY a culture decision") { try decisionCopy("culture", dossier: "d-culture", round: 4) }
            expectDenied("COPY a culture outbox row") { try outboxCopy(source: "culture") }
        }
    }
}
