import Foundation
import Operations
import Postgres
import TestSupport
import Testing

/// Stored text reaches an operator's terminal through `motcua status`: an attacker who can put text in a reason,
/// a detail or a code (a forged command's reason, a department name) must not be able to send escape sequences
/// (retitle the terminal, clear it, fake lines) or bidirectional overrides to it.
@Suite("motcua output: stored text is escaped")
struct TerminalHygieneTests {
    static let hostile = "\u{1B}]0;pwned\u{07}\u{1B}[2J\u{1B}[31mAPPROVED\r\nfake line \u{202E}desrever\u{9B}"

    @Test("motcua status prints a hostile timeline detail, status and code as visible escapes")
    func statusEscapes() async throws {
        let database = try TestDatabase("hygiene")
        defer { database.drop() }
        let id = "d-hygiene-\(UUID().uuidString.prefix(8))"
        try database.connection.execute(
            """
            INSERT INTO dossier_status (dossier_id, code, procedure, status, department, step, updated_at)
            VALUES ($1, $2, '2.000633', $3, 'labour', 0, now())
            """, [id, "LD-261207-000001" + Self.hostile, "received" + Self.hostile])
        try database.connection.execute(
            """
            INSERT INTO dossier_timeline (dossier_id, event_id, type, step, at, from_department, to_department, detail)
            VALUES ($1, gen_random_uuid(), 'signature-rejected', 0, now(), $2, 'labour', $3)
            """, [id, "reception" + Self.hostile, "reason: " + Self.hostile])
        let run = try await CommandRun.motcua("status", id, environment: database.environment)
        #expect(run.status == 0, "\(run)")
        for raw in ["\u{1B}", "\u{07}", "\u{202E}", "\u{9B}", "\r"] {
            #expect(!run.stdout.contains(raw), "raw \(raw.unicodeScalars.first!.value) reached the terminal")
        }
        #expect(run.stdout.contains("\\u{1B}]0;pwned\\u{7}"), "\(run.stdout)")
        #expect(run.stdout.contains("\\u{202E}desrever"))
        // One line per timeline entry: the embedded new line is shown, not obeyed.
        #expect(run.stdout.split(separator: "\n").filter { $0.contains("fake line") }.count == 3)
        #expect(!run.stdout.split(separator: "\n").contains { $0.hasPrefix("fake line") })
    }

    @Test("the escaping leaves ordinary text, Vietnamese included, as it is")
    func ordinaryText() {
        #expect(TerminalText.escape("Công ty TNHH A — Sở Công Thương, 2.000633") == "Công ty TNHH A — Sở Công Thương, 2.000633")
        #expect(TerminalText.escape("a\tb") == "a\\u{9}b")
    }
}
