import Authority
import Foundation
import Pages
import Postgres
import Store
import TestSupport
import Testing

/// The officials' sign-in under attack: guessing is limited per client (429 with Retry-After, with the public
/// lookup's limiter), and the recorded assertions are cleaned up without letting a used one in again.
@Suite("Officials' sign-in hygiene", .serialized)
struct SignInHygieneTests {
    @Test("a client past its sign-ins per minute gets 429 with Retry-After, even with a valid assertion (nothing recorded, no cookie); another client still signs in")
    func rateLimited() async throws {
        let fixture = try await OfficialsPagesFixture(signInLimit: 3)
        defer { fixture.stop() }
        let attacker = "198.51.100.7"
        for _ in 0..<3 {
            let guess = try await fixture.signIn("guess-\(UInt32.random(in: 0...UInt32.max))", client: attacker)
            #expect(guess.status == 401)
        }
        let limited = try await fixture.signIn(try fixture.assertion("labour-director"), client: attacker)
        #expect(limited.status == 429, "\(limited.body)")
        let retryAfter = Int(limited.headers["retry-after"] ?? "") ?? 0
        #expect((1...61).contains(retryAfter), "\(limited.headers)")
        #expect(limited.body.contains("Too many sign-ins"))
        #expect(limited.headers["set-cookie"] == nil)
        #expect(try fixture.nonces() == 0, "a limited sign-in must not use up its assertion")
        // The limit is per client: another address signs in.
        let other = try await fixture.signIn(try fixture.assertion("labour-head"), client: "198.51.100.8")
        #expect(other.status == 303, "\(other.body)")
        #expect(try fixture.nonces() == 1)
    }

    @Test("a sign-in deletes assertions expired over an hour ago; a used one that has not expired stays refused as replayed; nobody but the superuser deletes an unexpired one")
    func cleanup() async throws {
        let fixture = try await OfficialsPagesFixture()
        defer { fixture.stop() }
        let db = fixture.database.connection
        func nonce(_ byte: String) -> String { String(repeating: byte, count: 32) }
        for (byte, expiry) in [("a1", "- interval '3 hours'"), ("b2", "- interval '10 minutes'"), ("c3", "+ interval '1 minute'")] {
            try db.execute(
                "INSERT INTO official_sign_ins (nonce, official, expires_at) VALUES ($1, 'labour-head', now() \(expiry))",
                [nonce(byte)])
        }
        let used = try fixture.assertion("labour-head")
        #expect(try await fixture.signIn(used).status == 303)
        let kept = try db.query("SELECT nonce FROM official_sign_ins ORDER BY nonce", []).map { try $0.decode(String.self, "nonce") }
        // The one expired 3 hours ago is gone; the one expired 10 minutes ago (the margin), the unexpired one and
        // the assertion just used stay.
        #expect(!kept.contains(nonce("a1")) && kept.contains(nonce("b2")) && kept.contains(nonce("c3")), "\(kept)")
        #expect(kept.count == 3)
        let replayed = try await fixture.signIn(used)
        #expect(replayed.status == 401 && replayed.body.contains("used already"), "\(replayed.body)")
        #expect(replayed.headers["set-cookie"] == nil)
        // As the coordinator's login (which serves the pages): an unexpired nonce cannot be deleted.
        try db.execute("SET ROLE motcua_coordinator", [])
        defer { _ = try? db.execute("RESET ROLE", []) }
        do {
            try db.execute("DELETE FROM official_sign_ins WHERE nonce = $1", [nonce("c3")])
            Issue.record("the coordinator deleted an assertion that has not expired")
        } catch {
            #expect(error.sqlState == "42501" && String(reflecting: error).contains("kept until it expires"), "\(String(reflecting: error))")
        }
        try db.execute("RESET ROLE", [])
        #expect(try fixture.nonces() == 3)
    }
}
