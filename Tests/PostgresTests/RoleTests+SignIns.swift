import Foundation
import Postgres
import TestSupport
import Testing

/// Migrations 026 and 029 as the roles meet them: the coordinator (which serves the officials' pages) records a
/// sign-in's nonce once and can neither erase one before its assertion expired nor rewrite one (either would let an
/// assertion be used again); it deletes expired ones; workers do not touch sign-ins.
extension RoleTests {
    @Test("the coordinator records a sign-in nonce once and cannot delete it before it expires nor rewrite it; it deletes expired ones; a worker cannot read or write sign-ins")
    func signInsAreRecordedOnce() throws {
        let nonce = String(repeating: "ab", count: 32)
        let insert = """
            INSERT INTO official_sign_ins (nonce, official, expires_at) VALUES ('\(nonce)', 'labour-director', now() + interval '2 minutes')
            ON CONFLICT (nonce) DO NOTHING RETURNING nonce
            """
        try asRole("motcua_coordinator") { () throws in
            #expect(try db.query(insert, []).count == 1)
            #expect(try db.query(insert, []).isEmpty, "the same nonce was recorded twice")
            for statement in [
                "DELETE FROM official_sign_ins WHERE nonce = '\(nonce)'",
                "UPDATE official_sign_ins SET nonce = '\(String(repeating: "cd", count: 32))'",
            ] {
                do {
                    try db.execute(statement, [])
                    Issue.record("the coordinator's role could run: \(statement)")
                } catch let error as PostgresError {
                    #expect(error.sqlState == "42501", "\(error)")
                }
            }
        }
        // Expired assertions go: the coordinator deletes them.
        try db.execute(
            """
            INSERT INTO official_sign_ins (nonce, official, expires_at)
            VALUES ('\(String(repeating: "ef", count: 32))', 'labour-director', now() - interval '2 hours')
            """, [])
        try asRole("motcua_coordinator") { () throws in
            try db.execute("DELETE FROM official_sign_ins WHERE expires_at < now() - interval '1 hour'", [])
        }
        try asRole(Self.role("labour")) { () throws in
            for statement in ["SELECT * FROM official_sign_ins", insert.replacingOccurrences(of: "abab", with: "efef")] {
                do {
                    _ = try db.query(statement, [])
                    Issue.record("labour's worker role could run: \(statement)")
                } catch let error as PostgresError {
                    #expect(error.sqlState == "42501", "\(error)")
                }
            }
        }
        // A nonce is 64 hex digits; anything else is refused by the table itself.
        do {
            try db.execute("INSERT INTO official_sign_ins (nonce, official, expires_at) VALUES ('x', 'o', now())", [])
            Issue.record("a malformed nonce was recorded")
        } catch {
            #expect(error.sqlState == "23514", "\(error)")
        }
        #expect(try db.query("SELECT count(*) AS n FROM official_sign_ins", [])[0].decode(Int.self, "n") == 1)
    }
}
