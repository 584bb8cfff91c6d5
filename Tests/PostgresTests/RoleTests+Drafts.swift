import Foundation
import Postgres
import TestSupport
import Testing

/// Migration 024 as real logins meet it: drafts are the department's own; nobody else writes them, and a worker
/// changes only a draft's outcome (state, who decided, when, a return's reason), never what it says.
extension RoleTests {
    static let draftColumns = "draft_id, dossier_id, step, round, department, kind, reason, written_by, written_at"

    @Test("a department's login writes its own drafts and their outcome; another department's drafts, a rewritten reason and the coordinator's insert are refused with the reason")
    func draftsAreTheDepartmentsOwn() throws {
        try asRole(Self.role("labour")) { () throws in
            try db.execute(
                """
                INSERT INTO drafts (\(Self.draftColumns))
                VALUES (gen_random_uuid(), 'd-labour', 0, 0, 'labour', 'stop', 'asked', 'ld-specialist', now())
                """, [])
            try db.execute(
                "UPDATE drafts SET state = 'sent', decided_by = 'ld-director', decided_at = now() WHERE dossier_id = 'd-labour'",
                [])
            for statement in [
                """
                INSERT INTO drafts (\(Self.draftColumns))
                VALUES (gen_random_uuid(), 'd-culture', 0, 0, 'culture', 'stop', 'forged', 'ld-specialist', now())
                """,
                "UPDATE drafts SET reason = 'rewritten' WHERE dossier_id = 'd-labour'",
                "UPDATE drafts SET kind = 'refuse' WHERE dossier_id = 'd-labour'",
            ] {
                do {
                    try db.execute(statement, [])
                    Issue.record("labour's login wrote: \(statement)")
                } catch let error as PostgresError {
                    #expect(error.sqlState == "42501", "\(error)")
                    #expect(error.message.contains("permission denied"), "\(error.message)")
                }
            }
        }
        try asRole("motcua_coordinator") { () throws in
            #expect(try db.query("SELECT count(*) AS n FROM drafts", [])[0].decode(Int.self, "n") == 1)
            do {
                try db.execute(
                    """
                    INSERT INTO drafts (\(Self.draftColumns))
                    VALUES (gen_random_uuid(), 'd-labour', 0, 0, 'labour', 'stop', 'x', 'ld-specialist', now())
                    """, [])
                Issue.record("the coordinator's login wrote a draft")
            } catch let error as PostgresError {
                #expect(error.sqlState == "42501", "\(error)")
            }
        }
        #expect(try db.query("SELECT reason, state FROM drafts", []).map {
            "\(try $0.decode(String.self, "reason")) \(try $0.decode(String.self, "state"))"
        } == ["asked sent"])
    }
}
