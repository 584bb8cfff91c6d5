import Foundation
import Postgres
import TestSupport
import Testing

/// Migration 022 as a department's role meets it: the guards let a department's own rows through in their WHEN
/// clauses, and everything that only looks like its own still reaches the guard functions and is refused.
extension RoleTests {
    @Test("the guards' fast paths (migration 022) pass only a department's own rows; look-alikes are refused with 42501 and change nothing, also after the grants run again")
    func fastPathsPassOnlyOwnRows() throws {
        // A later migration runs the grants again: the fast paths must be re-made, not lost or doubled.
        try db.execute("SELECT motcua_grant_roles()")
        try db.execute("SELECT motcua_protect_personal_data()")
        let split = try db.query(
            """
            SELECT c.relname || '.' || g.tgname AS name FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
            WHERE NOT g.tgisinternal AND g.tgname IN ('motcua_guard', 'motcua_guard_update')
              AND c.relname IN ('stages', 'stage_handovers', 'consumer_offsets') ORDER BY 1
            """, []).map { try $0.decode(String.self, "name") }
        #expect(split == [
            "consumer_offsets.motcua_guard", "consumer_offsets.motcua_guard_update", "stage_handovers.motcua_guard",
            "stages.motcua_guard", "stages.motcua_guard_update",
        ])

        let stageValues = "0, 0, 'x', 'employment', 'p1', 'examine specialist 1,sign director 1', 2, 0, 'examine', 'specialist', now(), now()"
        func stage(_ dossier: String, department: String) -> String {
            "INSERT INTO stages (\(Self.stageColumns)) VALUES ('\(dossier)', \(stageValues.replacingOccurrences(of: "'x'", with: "'\(department)'")))"
        }
        func offsets(_ group: String, _ topic: String) -> String {
            "INSERT INTO consumer_offsets (consumer_group, topic, partition, next_offset) VALUES ('\(group)', '\(topic)', 5, 0)"
        }
        func stepTask(_ source: String, to topic: String, key: String) -> String {
            """
            INSERT INTO outbox (source, event_id, topic, key, ce_type, payload)
            VALUES ('\(source)', gen_random_uuid(), '\(topic)', '\(key)', 'motcua.dossier.step', '\\x7b7d')
            """
        }
        let before = try count("SELECT count(*) FROM outbox") + count("SELECT count(*) FROM consumer_offsets")
            + count("SELECT count(*) FROM stages")

        try asRole(Self.role("industrial-zones")) {
            // The department's name spelt with '_' maps to the same role name: not a department, so refused.
            expectDenied("a stage of 'industrial_zones'") { try db.execute(stage("d-x", department: "industrial_zones"), []) }
        }
        try asRole(Self.role("labour")) {
            try db.execute(stage("d-labour", department: "labour"), [])
            try db.execute(offsets("motcua.labour.replay", "dossiers.labour"), [])
            expectDenied("a stage of culture") { try db.execute(stage("d-culture", department: "culture"), []) }
            expectDenied("a stage of 'Labour'") { try db.execute(stage("d-labour-2", department: "Labour"), []) }
            expectDenied("offsets of a look-alike group") { try db.execute(offsets("motcua.labourer", "dossiers.labour"), []) }
            expectDenied("offsets on culture's topic") { try db.execute(offsets("motcua.labour", "dossiers.culture"), []) }
            expectDenied("offsets of culture's group on its topic") {
                try db.execute(offsets("motcua.culture.x", "dossiers.culture"), [])
            }
            expectDenied("culture's offsets moved") {
                try db.execute("UPDATE consumer_offsets SET next_offset = 99 WHERE consumer_group = 'motcua.culture'", [])
            }
            expectDenied("a step task without its forward") {
                try db.execute(stepTask("labour", to: "dossiers.culture", key: "d-labour"), [])
            }
            expectDenied("a step task to its own topic") {
                try db.execute(stepTask("labour", to: "dossiers.labour", key: "d-labour"), [])
            }
            // With its forward decision in the same transaction, the step task passes (the fast path).
            try db.execute("BEGIN", [])
            try db.execute(
                """
                INSERT INTO decisions (\(Self.decisionColumns), forward_to)
                VALUES ('d-labour', 1, 0, 'labour', 'p1', 'forward', 'auto', 'rv-labour', now(), 'dossiers.labour', 0, 9,
                        \(Self.emptyExplanation), 'culture')
                """, [])
            try db.execute(stepTask("labour", to: "dossiers.culture", key: "d-labour"), [])
            try db.execute("ROLLBACK", [])
        }
        let after = try count("SELECT count(*) FROM outbox") + count("SELECT count(*) FROM consumer_offsets")
            + count("SELECT count(*) FROM stages")
        // Only labour's own stage and its own offsets were written.
        #expect(after == before + 2)
        #expect(try count("SELECT count(*) FROM stages WHERE department <> 'labour'") == 0)
        #expect(try count("SELECT next_offset FROM consumer_offsets WHERE consumer_group = 'motcua.culture'") == 2)
    }
}
