import Foundation
import Postgres
import TestSupport
import Testing

/// Migration 013 as a department worker's role meets it: the provenance lookup of step tasks, officials' recorded
/// requests for documents, and withdrawals of dossiers never received (issue 18, attacks 3 and 6).
extension RoleTests {
    /// The positions motcua_step_provenance gives for (dossier, step, round, hex digest) tasks.
    func provenance(_ department: String, _ tasks: [(String, Int, Int, String)]) throws -> [Int] {
        try db.query(
            """
            SELECT task_index FROM motcua_step_provenance($1, $2::text[], $3::text[]::integer[], $4::text[]::integer[],
                                                        $5::text[]) ORDER BY 1
            """,
            [department, tasks.map(\.0), tasks.map { String($0.1) }, tasks.map { String($0.2) }, tasks.map(\.3)]
        ).map { try $0.decode(Int.self, "task_index") }
    }

    @Test("a department decides only step tasks received for it (same digest) or forwarded to it, in one lookup")
    func stepProvenance() throws {
        let digest = String(repeating: "ab", count: 32)
        let other = String(repeating: "cd", count: 32)
        try db.execute("UPDATE dossiers SET received_sha256 = decode($1, 'hex'), body_sha256 = decode($1, 'hex') WHERE id = 'd-culture'", [digest])
        try asRole(Self.role("culture")) { () throws in
            #expect(try provenance("culture", [
                ("d-culture", 0, 1, digest),  // 1: received for culture, same digest
                ("d-culture", 0, 1, other),  // 2: the dossier changed on the way
                ("d-nowhere", 0, 0, digest),  // 3: never received
                ("d-labour", 0, 1, digest),  // 4: received, but for labour (no digest recorded: before 013)
                ("d-culture", 1, 0, digest),  // 5: a next step nobody forwarded
                ("d-culture", 0, 0, other),  // 6: already decided by culture: a repeat, skipped by the worker
            ]) == [1, 6])
        }
        try db.executeScript(
            """
            INSERT INTO decisions (\(Self.decisionColumns), forward_to)
            VALUES ('d-labour', 0, 1, 'labour', 'p1', 'forward', 'auto', 'rv-labour', now(), 'dossiers.labour', 0, 9,
                    \(Self.emptyExplanation), 'culture')
            """)
        try asRole(Self.role("culture")) { () throws in
            // Forwarded by labour to culture: its next step is culture's (any digest, none recorded before 013).
            #expect(try provenance("culture", [("d-labour", 1, 0, other), ("d-labour", 2, 0, other)]) == [1])
        }
    }

    @Test("a withdrawal names a received dossier and a request for documents is the department's own, also for a department's login")
    func withdrawalsAndRequests() throws {
        try asRole(Self.role("labour")) { () throws in
            do {
                try db.execute(
                    """
                    INSERT INTO withdrawals (dossier_id, department, step, withdrawn_at, source_topic, source_partition,
                                             source_offset)
                    VALUES ('d-nowhere', 'labour', 0, now(), 'dossiers.labour', 0, 1)
                    """)
                Issue.record("a withdrawal of a dossier never received was recorded")
            } catch let error as PostgresError {
                #expect(error.sqlState == "23503", "\(error)")
                #expect(error.message.contains("no dossier d-nowhere was received"), "\(error.message)")
            }
            expectDenied("a request for documents in culture's name") {
                try db.execute(
                    """
                    INSERT INTO supplement_requests (dossier_id, step, round, department, documents, official, requested_at)
                    VALUES ('d-culture', 0, 0, 'culture', '{x}', 'someone', now())
                    """)
            }
            try db.execute(
                """
                INSERT INTO supplement_requests (dossier_id, step, round, department, documents, official, requested_at)
                VALUES ('d-labour', 0, 0, 'labour', '{health-certificate}', 'official-ld-1', now())
                """)
        }
        #expect(try count("SELECT count(*) FROM withdrawals") == 0)
        #expect(try count("SELECT count(*) FROM supplement_requests") == 1)
    }

    @Test("applicants' data: no department or coordinator login reads outbox payloads; each relays only its own rows")
    func outboxPayloads() throws {
        let login = TestEnvironment.unique("relay_login")
        try db.execute("CREATE ROLE \(login) LOGIN IN ROLE \(Self.role("labour"))", [])
        try db.execute("ALTER ROLE \(login) SET role = '\(Self.role("labour"))'", [])
        defer {
            _ = try? db.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", [login])
            _ = try? db.execute("DROP ROLE IF EXISTS \(login)", [])
        }
        let url = database.url.replacingOccurrences(of: "://postgres@", with: "://\(login)@")
        #expect(url != database.url)
        let worker = try PostgresConnection.connect(PostgresConfiguration(connectionString: url), logger: TestEnvironment.logger)
        func refused(_ what: String, _ sql: String) {
            do {
                _ = try worker.query(sql, [])
                Issue.record("\(what): expected a refusal")
            } catch {
                #expect(error.sqlState == "42501", "\(what): \(error)")
            }
        }
        refused("read every outbox payload", "SELECT payload FROM outbox")
        refused("read dead letters' headers", "SELECT headers FROM outbox")
        refused("relay culture's rows", "SELECT id FROM motcua_outbox_unsent('culture', 0, 10, NULL)")
        let own = try worker.query(
            "SELECT key, payload FROM motcua_outbox_unsent('labour', 0, 10, NULL)", []
        ).map { try $0.decode(String.self, "key") }
        #expect(own == ["d-labour"])
        // The forms of migration 015: the held-keys read and the one-row read of a refused batch.
        refused("relay culture's rows, holding parked keys", "SELECT id FROM motcua_outbox_unsent('culture', 0, 10, NULL, true)")
        refused("read one of culture's rows", "SELECT id FROM motcua_outbox_row('culture', 1)")
        let heldRead = try worker.query(
            "SELECT key FROM motcua_outbox_unsent('labour', 0, 10, NULL, true)", []
        ).map { try $0.decode(String.self, "key") }
        #expect(heldRead == ["d-labour"])
        let ownId = try db.query("SELECT id FROM outbox WHERE key = 'd-labour'", [])[0].decode(Int.self, "id")
        let oneRow = try worker.query("SELECT key FROM motcua_outbox_row('labour', $1)", [ownId])
            .map { try $0.decode(String.self, "key") }
        #expect(oneRow == ["d-labour"])
        try asRole("motcua_coordinator") { () throws in
            expectDenied("the coordinator reads outbox payloads") { _ = try db.query("SELECT payload FROM outbox", []) }
        }
    }
}
