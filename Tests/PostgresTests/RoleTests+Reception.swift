import Foundation
import Postgres
import TestSupport
import Testing

/// Migration 017 as real logins meet it: reception's own role (motcua_reception), and a department's step tasks routed
/// only with the forward decision of the same transaction (issue 18, what was left).
extension RoleTests {
    /// A LOGIN role acting as `role` from its first statement (as deploy/README.md describes), its connection, and a
    /// cleanup for `defer`.
    func login(as role: String) throws -> (connection: PostgresConnection, drop: () -> Void) {
        let login = TestEnvironment.unique("login")
        try db.execute("CREATE ROLE \(login) LOGIN IN ROLE \(role)", [])
        try db.execute("ALTER ROLE \(login) SET role = '\(role)'", [])
        let drop = { [db] in
            _ = try? db.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", [login])
            _ = try? db.execute("DROP ROLE IF EXISTS \(login)", [])
        }
        do {
            let url = database.url.replacingOccurrences(of: "://postgres@", with: "://\(login)@")
            #expect(url != database.url)
            let connection = try PostgresConnection.connect(
                PostgresConfiguration(connectionString: url), logger: TestEnvironment.logger)
            #expect(try connection.query("SELECT current_user AS u", [])[0].decode(String.self, "u") == role)
            return (connection, drop)
        } catch {
            drop()
            throw error
        }
    }

    /// `statement`, run on a login's connection, fails with 42501; the login's open transaction, if any, is aborted.
    func refused(
        _ what: String, on connection: PostgresConnection, sourceLocation: SourceLocation = #_sourceLocation,
        _ statement: () throws -> Void
    ) {
        do {
            try statement()
            Issue.record("\(what): expected permission denied, but it succeeded", sourceLocation: sourceLocation)
        } catch let error as PostgresError {
            #expect(error.sqlState == "42501", "\(what): \(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("\(what): \(error)", sourceLocation: sourceLocation)
        }
    }

    func receptionRow(_ connection: PostgresConnection, source: String, topic: String, key: String, type: String) throws {
        try connection.copyIn("COPY outbox (source, event_id, topic, key, ce_type, payload, headers) FROM STDIN") { writer in
            try writer.row(text: [source, UUID().uuidString.lowercased(), topic, key, type, "\\x7b7d", nil])
        }
    }

    @Test("reception's own login receives dossiers, reserves codes, routes, stores its offsets and relays its rows")
    func receptionDoesItsJob() throws {
        let (reception, drop) = try login(as: "motcua_reception")
        defer { drop() }
        try reception.transaction { tx in
            _ = try tx.query("SELECT max(version) AS v FROM schema_migrations", [])
            // ReceptionStore: known ids, codes, the dossiers by COPY (through row-level security: BYPASSRLS).
            #expect(try tx.query("SELECT id FROM dossiers WHERE id = ANY($1::text[])", [["d-new", "d-labour"]]).count == 1)
            _ = try tx.query(
                """
                INSERT INTO dossier_code_sequences (agency_code, day, last_value) VALUES ($1, $2::date, $3)
                ON CONFLICT (agency_code, day) DO UPDATE SET last_value = dossier_code_sequences.last_value + EXCLUDED.last_value
                RETURNING agency_code, last_value
                """, ["LD", "2026-11-27", 1])
            try tx.copyIn(
                """
                COPY dossiers (id, code, procedure, channel, commune, applicant_kind, submitted_at, received_at, status,
                               department, due_date, body, received_sha256, body_sha256, receipt_secret_sha256) FROM STDIN
                """
            ) { writer in
                try writer.row(text: ["d-new", "LD-261127-000001", "p1", "online", "00004", "citizen",
                                      "2026-11-27T02:30:00Z", "2026-11-27T02:31:00Z", "received", "labour", "2026-12-04",
                                      "{\"applicant\": {\"name\": \"Lê Văn C\"}}", "\\x00", "\\x00", nil])
            }
            // Its outbox rows: the step task, the event, a dead letter of the intake.
            try receptionRow(tx, source: "reception", topic: "dossiers.labour", key: "d-new", type: "motcua.dossier.step")
            try receptionRow(tx, source: "reception", topic: "dossier.events", key: "d-new", type: "motcua.dossier.event")
            try receptionRow(tx, source: "reception", topic: "dossiers.intake.dlq", key: "x", type: "unknown")
            // OffsetStore.
            try tx.execute(
                "INSERT INTO consumer_offsets (consumer_group, topic, partition, next_offset, last_message) VALUES ('motcua.reception', 'dossiers.intake', 0, 1, NULL)")
            try tx.execute(
                "UPDATE consumer_offsets SET next_offset = 2, last_message = 'sha256:00', updated_at = now() WHERE consumer_group = 'motcua.reception' AND topic = 'dossiers.intake'")
        }
        // The relay: its own unsent rows (payload included, through the function), marked sent.
        let unsent = try reception.query("SELECT id, payload FROM motcua_outbox_unsent('reception', 0, 10, NULL, false)", [])
        #expect(unsent.count == 3)
        #expect(try reception.execute("UPDATE outbox SET sent_at = now() WHERE source = 'reception' AND sent_at IS NULL", []) == 3)
        #expect(try count("SELECT count(*) FROM dossiers WHERE id = 'd-new'") == 1)
        #expect(try count("SELECT count(*) FROM consumer_offsets WHERE consumer_group = 'motcua.reception' AND next_offset = 2") == 1)
    }

    @Test("reception's login cannot read signatures or applicants' data, write decisions, or speak for anyone else")
    func receptionCannotDoMore() throws {
        let (reception, drop) = try login(as: "motcua_reception")
        defer { drop() }
        refused("read decisions' signatures", on: reception) { _ = try reception.query("SELECT signed_by, signed_outcome FROM decisions", []) }
        refused("read applicants' data", on: reception) { _ = try reception.query("SELECT body FROM dossiers", []) }
        refused("read outbox payloads", on: reception) { _ = try reception.query("SELECT payload FROM outbox", []) }
        refused("insert a decision", on: reception) {
            try reception.execute(
                "INSERT INTO decisions (\(Self.decisionColumns)) VALUES ('d-labour', 0, 9, 'labour', 'p1', 'approve', 'auto', 'rv-labour', now(), 'dossiers.labour', 0, 1, 1)", [])
        }
        refused("sign a decision", on: reception) {
            try reception.execute("UPDATE decisions SET signed_by = 'x', signed_at = now() WHERE dossier_id = 'd-labour'", [])
        }
        refused("rewrite a dossier", on: reception) { try reception.execute("UPDATE dossiers SET status = 'decided'", []) }
        refused("an outbox row of labour", on: reception) {
            try receptionRow(reception, source: "labour", topic: "dossier.events", key: "d-labour", type: "motcua.dossier.event")
        }
        refused("an outbox row of the coordinator", on: reception) {
            try receptionRow(reception, source: "coordinator-timer", topic: "escalations", key: "d-labour", type: "x")
        }
        refused("an official's command as reception", on: reception) {
            try receptionRow(reception, source: "reception", topic: "dossiers.labour", key: "d-labour", type: "motcua.official.sign")
        }
        refused("a message on the intake as reception", on: reception) {
            try receptionRow(reception, source: "reception", topic: "dossiers.intake", key: "d-labour", type: "motcua.dossier.submitted")
        }
        refused("the status projection's offsets", on: reception) {
            try reception.execute(
                "INSERT INTO consumer_offsets (consumer_group, topic, partition, next_offset) VALUES ('motcua.coordinator', 'dossier.events', 5, 1)", [])
        }
        refused("a department's offsets", on: reception) {
            try reception.execute("UPDATE consumer_offsets SET next_offset = 0 WHERE consumer_group = 'motcua.labour'", [])
        }
        refused("relay labour's rows", on: reception) {
            _ = try reception.query("SELECT id FROM motcua_outbox_unsent('labour', 0, 10, NULL, false)", [])
        }
        refused("the timer's tables", on: reception) {
            try reception.execute("UPDATE deadlines SET status = 'closed'", [])
        }
        #expect(try count("SELECT count(*) FROM outbox") == 2)
        #expect(try count("SELECT count(*) FROM decisions") == 2)
        #expect(try count("SELECT count(*) FROM decisions WHERE signed_by IS NOT NULL") == 0)
    }

    @Test("neither the coordinator's nor a department's login can write or relay as reception")
    func othersCannotActAsReception() throws {
        let (coordinator, dropCoordinator) = try login(as: "motcua_coordinator")
        defer { dropCoordinator() }
        refused("the coordinator COPYs a dossier", on: coordinator) {
            try coordinator.copyIn("COPY dossiers (id, procedure, channel, commune, applicant_kind, submitted_at, received_at, status, body) FROM STDIN") { writer in
                try writer.row(text: ["d-forged", "p1", "online", "00004", "citizen", "2026-11-27T02:30:00Z",
                                      "2026-11-27T02:31:00Z", "received", "{}"])
            }
        }
        refused("the coordinator inserts a dossier", on: coordinator) {
            try coordinator.execute(
                "INSERT INTO dossiers (id, procedure, channel, commune, applicant_kind, submitted_at, received_at, status, body) VALUES ('d-forged', 'p1', 'online', '00004', 'citizen', now(), now(), 'received', '{}')", [])
        }
        refused("the coordinator reserves codes", on: coordinator) {
            _ = try coordinator.query("INSERT INTO dossier_code_sequences (agency_code, day, last_value) VALUES ('LD', '2026-11-27', 1)", [])
        }
        refused("the coordinator routes a step as reception", on: coordinator) {
            try receptionRow(coordinator, source: "reception", topic: "dossiers.labour", key: "d-labour", type: "motcua.dossier.step")
        }
        refused("the coordinator stores reception's offsets", on: coordinator) {
            try coordinator.execute(
                "INSERT INTO consumer_offsets (consumer_group, topic, partition, next_offset) VALUES ('motcua.reception', 'dossiers.intake', 7, 1)", [])
        }
        refused("the coordinator relays reception's rows", on: coordinator) {
            _ = try coordinator.query("SELECT id FROM motcua_outbox_unsent('reception', 0, 10, NULL, false)", [])
        }
        let (worker, dropWorker) = try login(as: Self.role("labour"))
        defer { dropWorker() }
        refused("a department routes a step as reception", on: worker) {
            try receptionRow(worker, source: "reception", topic: "dossiers.culture", key: "d-labour", type: "motcua.dossier.step")
        }
        refused("a department relays reception's rows", on: worker) {
            _ = try worker.query("SELECT id FROM motcua_outbox_unsent('reception', 0, 10, NULL, false)", [])
        }
        #expect(try count("SELECT count(*) FROM dossiers WHERE id = 'd-forged'") == 0)
        #expect(try count("SELECT count(*) FROM outbox WHERE source = 'reception'") == 0)
        #expect(try count("SELECT count(*) FROM consumer_offsets WHERE topic = 'dossiers.intake'") == 0)
    }

    /// The worker's write of a forward decision: COPY inside the savepoint it never releases (DepartmentWorker).
    func forwardDecision(_ tx: PostgresConnection, round: Int, offset: Int) throws {
        let explanation = try tx.query("SELECT \(Self.emptyExplanation) AS id", [])[0].decode(Int64.self, "id")
        try tx.executeScript("SAVEPOINT decisions_copy")
        try tx.copyIn("COPY decisions (\(Self.decisionColumns), forward_to) FROM STDIN") { writer in
            try writer.row(text: ["d-labour", "0", String(round), "labour", "p1", "forward", "auto", "rv-labour",
                                  "2026-11-27T03:00:00Z", "dossiers.labour", "0", String(offset), String(explanation),
                                  "culture"])
        }
    }

    func stepTask(_ tx: PostgresConnection) throws {
        try tx.copyIn("COPY outbox (source, event_id, topic, key, ce_type, payload, headers) FROM STDIN") { writer in
            try writer.row(text: ["labour", UUID().uuidString.lowercased(), "dossiers.culture", "d-labour",
                                  "motcua.dossier.step", "\\x7b7d", nil])
        }
    }

    @Test("a department's login dead-letters a step task on its own DLQ, as the worker does with one nobody received, and on no other department's (017 refused its own: 027)")
    func stepTaskDeadLetters() throws {
        let (worker, drop) = try login(as: Self.role("labour"))
        defer { drop() }
        func deadLetter(_ topic: String) throws {
            try worker.transaction { tx in
                try tx.copyIn("COPY outbox (source, event_id, topic, key, ce_type, payload, headers) FROM STDIN") { writer in
                    try writer.row(text: ["labour", UUID().uuidString.lowercased(), topic, "d-forged",
                                          "motcua.dossier.step", "\\x7b7d", #"{"motcua_error": "not-received: test"}"#])
                }
            }
        }
        try deadLetter("dossiers.labour.dlq")
        #expect(try count("SELECT count(*) FROM outbox WHERE topic = 'dossiers.labour.dlq' AND key = 'd-forged'") == 1)
        refused("a step task on another department's dead-letter topic", on: worker) {
            try deadLetter("dossiers.culture.dlq")
        }
        refused("a step task on the department's own topic, not forwarded", on: worker) {
            try deadLetter("dossiers.labour")
        }
        #expect(try count("SELECT count(*) FROM outbox WHERE key = 'd-forged'") == 1)
    }

    @Test("a department's login routes a step task only in the transaction of its forward decision, not later")
    func stepTaskOnlyWithItsForward() throws {
        let (worker, drop) = try login(as: Self.role("labour"))
        defer { drop() }
        // Transaction 1, as the worker writes it: the forward decision (in its savepoint) and the step task.
        try worker.transaction { tx in
            try forwardDecision(tx, round: 1, offset: 11)
            try stepTask(tx)
        }
        #expect(try count("SELECT count(*) FROM outbox WHERE topic = 'dossiers.culture' AND key = 'd-labour'") == 1)
        // The attack: a later transaction routes another step task for the dossier forwarded before, by COPY and
        // by INSERT.
        refused("a second step task, later, by COPY", on: worker) {
            try worker.transaction { tx in try stepTask(tx) }
        }
        refused("a second step task, later, by INSERT", on: worker) {
            try worker.transaction { tx in
                _ = try tx.execute(
                    """
                    INSERT INTO outbox (source, event_id, topic, key, ce_type, payload)
                    VALUES ('labour', gen_random_uuid(), 'dossiers.culture', 'd-labour', 'motcua.dossier.step', '\\x7b7d')
                    """, [])
            }
        }
        // A forward decision rolled back (the worker's savepoint after a failed COPY) routes nothing either.
        refused("a step task after the forward was rolled back", on: worker) {
            try worker.transaction { tx in
                try forwardDecision(tx, round: 2, offset: 12)
                try tx.executeScript("ROLLBACK TO SAVEPOINT decisions_copy")
                try stepTask(tx)
            }
        }
        #expect(try count("SELECT count(*) FROM outbox WHERE topic = 'dossiers.culture' AND key = 'd-labour'") == 1)
        #expect(try count("SELECT count(*) FROM decisions WHERE dossier_id = 'd-labour' AND outcome = 'forward'") == 1)
        // A new forward, in its own transaction, routes again.
        try worker.transaction { tx in
            try forwardDecision(tx, round: 3, offset: 13)
            try stepTask(tx)
        }
        #expect(try count("SELECT count(*) FROM outbox WHERE topic = 'dossiers.culture' AND key = 'd-labour'") == 2)
    }
}
