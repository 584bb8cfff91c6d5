import Foundation
import Postgres
import TestSupport
import Testing

/// Migration 019 as a department worker's role meets it: stages and the processing-control slip are the
/// department's own, and the slip is never rewritten.
extension RoleTests {
    static let stageColumns =
        "dossier_id, step, round, department, division, procedure, route, stage_count, position, stage, role, entered_at, due_at"

    @Test("a department's login writes its own stages and slip lines; another department's rows are refused with the reason, and nobody rewrites the slip")
    func stagesAreTheDepartmentsOwn() throws {
        let values = """
            0, 0, 'x', 'employment', 'p1', 'examine specialist 1,sign director 1', 2, 0, 'examine', 'specialist', now(), now()
            """
        try asRole(Self.role("labour")) { () throws in
            try db.execute("INSERT INTO stages (\(Self.stageColumns)) VALUES ('d-labour', \(values.replacingOccurrences(of: "'x'", with: "'labour'")))", [])
            try db.execute(
                """
                INSERT INTO stage_handovers (dossier_id, step, round, line, department, division, action, at)
                VALUES ('d-labour', 0, 0, 1, 'labour', 'employment', 'assign', now())
                """, [])
            _ = try db.query("SELECT nextval('stage_turns')", [])
            for statement in [
                "INSERT INTO stages (\(Self.stageColumns)) VALUES ('d-culture', \(values.replacingOccurrences(of: "'x'", with: "'culture'")))",
                """
                INSERT INTO stage_handovers (dossier_id, step, round, line, department, division, action, at)
                VALUES ('d-culture', 0, 0, 1, 'culture', 'x', 'assign', now())
                """,
                "UPDATE stages SET department = 'culture' WHERE dossier_id = 'd-labour'",
            ] {
                do {
                    try db.execute(statement, [])
                    Issue.record("labour's login wrote culture's stage rows: \(statement)")
                } catch let error as PostgresError {
                    #expect(error.sqlState == "42501", "\(error)")
                    #expect(error.message.contains("permission denied"), "\(error.message)")
                }
            }
            do {
                try db.execute("UPDATE stage_handovers SET reason = 'rewritten' WHERE dossier_id = 'd-labour'", [])
                Issue.record("labour's login rewrote a slip line")
            } catch let error as PostgresError {
                #expect(error.sqlState == "42501", "\(error)")
            }
        }
        // Not even the owner rewrites the slip.
        do {
            try db.execute("DELETE FROM stage_handovers WHERE dossier_id = 'd-labour'", [])
            Issue.record("the slip line was deleted")
        } catch {
            #expect(error.message.contains("append-only"), "\(error.message)")
        }
        #expect(try db.query("SELECT count(*) AS n FROM stages WHERE department = 'culture'", [])[0].decode(Int.self, "n") == 0)
        #expect(try db.query("SELECT count(*) AS n FROM stage_handovers", [])[0].decode(Int.self, "n") == 1)
    }
}
