import Foundation
import Postgres
import TestSupport
import Testing

/// Migration 033 as a department worker's login meets it: the provenance lookup answers, with each task it vouches
/// for, the catalogue version recorded on its dossier (the worker's only read of them since) — and nothing for a task
/// the department may not decide.
extension RoleTests {
    /// "position:on record:version" as motcua_step_provenance answers `department`'s (dossier, step, round, digest).
    func receipts(
        _ department: String, _ tasks: [(String, Int, Int, String)], on connection: PostgresConnection
    ) throws -> [String] {
        try connection.query(
            """
            SELECT task_index, on_record, catalogue_version FROM motcua_step_provenance($1, $2::text[],
                $3::text[]::integer[], $4::text[]::integer[], $5::text[]) ORDER BY 1
            """,
            [department, tasks.map(\.0), tasks.map { String($0.1) }, tasks.map { String($0.2) }, tasks.map(\.3)]
        ).map { row in
            "\(try row.decode(Int.self, "task_index")):\(try row.decode(Bool.self, "on_record")):"
                + (try row.decodeIfPresent(String.self, "catalogue_version") ?? "nil")
        }
    }

    @Test("the provenance lookup answers the recorded catalogue version of the tasks a department may decide and of no other (033): not another department's dossier, one never received, a step nobody forwarded or a changed body; another department's login is refused")
    func provenanceAnswersRecordedVersions() throws {
        let digest = String(repeating: "ab", count: 32)
        let other = String(repeating: "cd", count: 32)
        try db.execute(
            """
            UPDATE dossiers SET received_sha256 = decode($1, 'hex'), body_sha256 = decode($1, 'hex'),
                catalogue_version = 'cv-' || id WHERE id IN ('d-culture', 'd-labour')
            """, [digest])
        let culture = try login(as: Self.role("culture"))
        defer { culture.drop() }
        let tasks: [(String, Int, Int, String)] = [
            ("d-culture", 0, 1, digest),  // 1: received for culture: its version
            ("d-labour", 0, 1, digest),  // 2: received, but for labour: nothing
            ("d-nowhere", 0, 0, digest),  // 3: never received: nothing
            ("d-labour", 1, 0, digest),  // 4: a next step of labour's dossier nobody forwarded to culture: nothing
            ("d-culture", 0, 1, other),  // 5: culture's dossier, changed on the way: nothing
        ]
        #expect(try receipts("culture", tasks, on: culture.connection) == ["1:true:cv-d-culture"])
        // A plain read of the same ids shows culture its own dossier only (row-level security).
        #expect(
            try culture.connection.query("SELECT id FROM dossiers WHERE id = ANY($1::text[])", [tasks.map(\.0)])
                .map { try $0.decode(String.self, "id") } == ["d-culture"])

        // Labour forwards its dossier to culture: culture may decide step 1, and learns the version recorded on it
        // (only that: the plain read still hides the dossier from culture until culture decides on it).
        try db.executeScript(
            """
            INSERT INTO decisions (\(Self.decisionColumns), forward_to)
            VALUES ('d-labour', 0, 1, 'labour', 'p1', 'forward', 'auto', 'rv-labour', now(), 'dossiers.labour', 0, 9,
                    \(Self.emptyExplanation), 'culture')
            """)
        #expect(try receipts("culture", tasks, on: culture.connection) == ["1:true:cv-d-culture", "4:true:cv-d-labour"])
        #expect(try receipts("culture", [("d-labour", 1, 0, other)], on: culture.connection) == [],
                "a forwarded step whose body changed")
        #expect(try culture.connection.query("SELECT id FROM dossiers WHERE id = 'd-labour'", []).isEmpty)

        // A dossier received before migration 021 has no version recorded: on record, without one.
        try db.execute("UPDATE dossiers SET catalogue_version = NULL WHERE id = 'd-culture'", [])
        #expect(try receipts("culture", [("d-culture", 0, 1, digest)], on: culture.connection) == ["1:true:nil"])

        // Another department's login may not ask on culture's behalf (013's check, kept).
        let labour = try login(as: Self.role("labour"))
        defer { labour.drop() }
        refused("labour asks for culture's receipts", on: labour.connection) {
            _ = try receipts("culture", [("d-culture", 0, 1, digest)], on: labour.connection)
        }
    }

    @Test("the provenance lookup probes by key however small the tables were when the worker's session first planned it (034): a worker started on nearly empty tables kept a plan that read all of dossiers and decisions every batch")
    func provenanceProbesByKeyAsTablesGrow() throws {
        let digest = String(repeating: "ab", count: 32)
        try db.execute(
            "UPDATE dossiers SET received_sha256 = decode($1, 'hex'), body_sha256 = decode($1, 'hex')", [digest])
        let culture = try login(as: Self.role("culture"))
        defer { culture.drop() }
        // The session's first lookup, on two dossiers and two decisions: its plan is made now and cached.
        #expect(try receipts("culture", [("d-culture", 0, 1, digest)], on: culture.connection) == ["1:true:nil"])
        // A day's dossiers and decisions later (no ANALYZE: that would replace the cached plan).
        try db.executeScript(
            """
            INSERT INTO dossiers (id, code, procedure, channel, commune, applicant_kind, submitted_at, received_at,
                                  status, department, body)
            SELECT 'g-' || n, 'G-' || n, 'p2', 'online', '00004', 'citizen', now(), now(), 'received', 'culture', '{}'
            FROM generate_series(1, 5000) AS n;
            INSERT INTO decisions (\(Self.decisionColumns))
            SELECT 'g-' || n, 0, 0, 'culture', 'p2', 'approve', 'auto', 'rv-culture', now(), 'dossiers.culture', 0,
                   n + 10, \(Self.emptyExplanation)
            FROM generate_series(1, 5000) AS n;
            """)
        // The same session's next lookup, and the scans it made (this transaction's own, pg_stat_xact_user_tables).
        let scans = try culture.connection.transaction { tx in
            let answer = try receipts("culture", [("d-culture", 0, 1, digest), ("g-7", 0, 1, digest)], on: tx)
            let counts = try tx.query(
                """
                SELECT relname, seq_scan, coalesce(idx_scan, 0) AS idx_scan FROM pg_stat_xact_user_tables
                WHERE relname IN ('dossiers', 'decisions') ORDER BY relname
                """, []
            ).map { "\(try $0.decode(String.self, "relname")):\(try $0.decode(Int.self, "seq_scan")) seq" }
            return (answer, counts)
        }
        #expect(scans.0 == ["1:true:nil", "2:true:nil"])
        #expect(scans.1 == ["decisions:0 seq", "dossiers:0 seq"], "the lookup read a whole table instead of probing its keys")
    }
}
