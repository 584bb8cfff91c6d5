import Authority
import Foundation
import Hummingbird
import Logging
import Messages
import Operations
import Pages
import Postgres
import Store
import TestSupport
import Testing

/// The officials' pages served for real (their own listener on 127.0.0.1, a real PostgreSQL): sign-in with a
/// signed assertion, the session cookie, the leader page and the slip, and the attacks on them.
final class OfficialsPagesFixture: @unchecked Sendable {
    struct Official {
        var id: String
        var key: CommandSigningKey
        var certificate: String
    }

    let database: TestDatabase
    let port: Int
    let task: Task<Void, any Error>
    var officials: [String: Official] = [:]
    let marker = "Bí Mật <Thử> \(UInt64.random(in: 100_000...999_999))"
    /// The services' clock and the instant the fixture's stages are laid around.
    let now = Date()

    /// `signInLimit`: sign-ins per client and minute (0: none, so the suites' many sign-ins are not limited).
    init(signInLimit: Int = 0) async throws {
        database = try TestDatabase("officialspages")
        let db = database.connection
        // Officials as the registry records them (the certificate's chain is checked by `motcua officials add`,
        // not here: only the key and the certificate's hash matter to the pages).
        let registeredAt = now.addingTimeInterval(-30 * 86_400)
        for (id, department, division, role) in [
            ("labour-director", "labour", nil, PrincipalRole.director),
            ("labour-head", "labour", "employment", .headOfDivision),
            ("labour-spec-1", "labour", "employment", .specialist),
            ("labour-revoked", "labour", "employment", .headOfDivision),
            ("culture-director", "culture", nil, .director),
            ("portal", "portal", nil, .service),
        ] as [(String, String, String?, PrincipalRole)] {
            let key = CommandSigningKey.newP256()
            let certificate = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
            try OfficialsStore.add(
                .init(
                    id: id, displayName: "Official \(id)", department: department, division: division, role: role,
                    algorithm: .ecdsaP256SHA256, publicKey: key.publicKey.spkiDER.base64EncodedString(),
                    certificateSHA256: certificate, validFrom: registeredAt,
                    validTo: now.addingTimeInterval(365 * 86_400)),
                certificate: [0x30, 0x00], at: registeredAt, in: db)
            officials[id] = Official(id: id, key: key, certificate: certificate)
        }
        try OfficialsStore.revoke("labour-revoked", at: now.addingTimeInterval(-86_400), reason: "key lost", in: db)
        try Self.seedStages(db, now: now, marker: marker)

        let bundle = try AuthorityBundle.load(from: TestEnvironment.root.appendingPathComponent("deploy"))
        var logger = Logger(label: "officials-pages-test")
        logger.logLevel = .critical  // the cancelled listener reports its shutdown as errors
        let pages = OperationsPages(
            postgres: PostgresConfiguration(connectionString: database.url), kafka: nil, catalogue: bundle.catalogue,
            calendar: bundle.calendar, workerDepartments: [], logger: logger)
        let fixedNow = now
        let officialsPages = OfficialsPages(
            pages: pages, catalogue: bundle.catalogue, workflows: bundle.workflows, clock: FixedClock(fixedNow),
            secret: .random(), logger: logger, signInLimit: LookupRateLimit(perMinute: signInLimit))
        let portFile = FileManager.default.temporaryDirectory.appendingPathComponent(TestEnvironment.unique("officials-port")).path
        let application = officialsPages.application(port: 0, portFile: portFile)
        task = Task { try await application.runService() }
        var port = 0
        // Seconds alone; minutes when the module suites share the two cores.
        let listening = await eventually(timeout: .seconds(180)) {
            port = Int((try String(contentsOfFile: portFile, encoding: .utf8)).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
            return port > 0
        }
        self.port = port
        guard listening else {
            task.cancel()
            database.drop()
            throw Failure(description: "the officials' pages did not report their port within 180 s")
        }
    }

    struct Failure: Error, CustomStringConvertible { var description: String }

    func stop() {
        task.cancel()
        database.drop()
    }

    struct FixedClock: MotCuaClock {
        var instant: Date
        init(_ instant: Date) { self.instant = instant }
        func now() -> Date { instant }
    }

    /// Labour's stages as its worker writes them: open stages in two divisions (overdue, due within 24 h, later,
    /// one in the division's queue), finished stages on the slip (early, on time, late), a dossier that went on
    /// to culture, and a dossier with an applicant's name (the marker) that must never show.
    static func seedStages(_ db: PostgresConnection, now: Date, marker: String) throws {
        try db.execute(
            """
            INSERT INTO dossiers (id, code, procedure, channel, commune, applicant_kind, submitted_at, received_at,
                                  status, department, body)
            SELECT 'd-' || n, 'LD-261201-' || lpad(n::text, 6, '0'), '1.000105', 'online', '00004', 'citizen',
                   $1::timestamptz - interval '20 days', $1::timestamptz - interval '20 days', 'received', 'labour',
                   jsonb_build_object('applicant', jsonb_build_object('kind', 'citizen', 'id', '00109' || n, 'name', $2::text))
            FROM generate_series(1, 13) AS n
            """, [now, marker])
        let route = "examine specialist 6,check head-of-division 2,sign director 2"
        // Open: 1–3 overdue (specialist), 4–5 due within 24 h (head), 6–7 later (specialist), 8 unassigned,
        // 9 in labour-wages overdue by the director.
        try db.execute(
            """
            INSERT INTO stages (dossier_id, step, round, department, division, procedure, route, stage_count, position,
                                stage, role, assignee, entered_at, due_at, handovers)
            SELECT 'd-' || n, 0, 0, 'labour', CASE WHEN n = 9 THEN 'labour-wages' ELSE 'employment' END, '1.000105', $2,
                   3, CASE WHEN n IN (4, 5) THEN 1 WHEN n = 9 THEN 2 ELSE 0 END,
                   CASE WHEN n IN (4, 5) THEN 'check' WHEN n = 9 THEN 'sign' ELSE 'examine' END,
                   CASE WHEN n IN (4, 5) THEN 'head-of-division' WHEN n = 9 THEN 'director' ELSE 'specialist' END,
                   CASE WHEN n IN (4, 5) THEN 'labour-head' WHEN n = 9 THEN 'labour-director' WHEN n = 8 THEN NULL
                        ELSE 'labour-spec-1' END,
                   $1::timestamptz - (n || ' days')::interval,
                   CASE WHEN n <= 3 THEN $1::timestamptz - interval '5 hours'
                        WHEN n IN (4, 5) THEN $1::timestamptz + interval '10 hours'
                        WHEN n = 9 THEN $1::timestamptz - interval '30 hours'
                        ELSE $1::timestamptz + interval '4 days' END, 2
            FROM generate_series(1, 9) AS n
            """, [now, route])
        // Finished: dossiers 10–12 went through all three stages (10 early, 11 on time, 12 late at examine), the
        // hand-overs on the slip; 12 then went on to culture (an interconnected procedure).
        try db.execute(
            """
            INSERT INTO stages (dossier_id, step, round, department, division, procedure, route, stage_count, position,
                                stage, role, assignee, entered_at, due_at, handovers, closed_at)
            SELECT 'd-' || n, 0, 0, 'labour', 'employment', '1.000105', $2, 3, 2, 'sign', 'director', 'labour-director',
                   $1::timestamptz - interval '3 days', $1::timestamptz - interval '1 day', 4,
                   $1::timestamptz - interval '2 days'
            FROM generate_series(10, 12) AS n
            """, [now, route])
        try db.execute(
            """
            INSERT INTO stage_handovers (dossier_id, step, round, line, department, division, action, from_stage,
                                         from_official, to_stage, to_official, acted_as, reason, at, stage_entered_at,
                                         stage_due_at, verdict)
            SELECT 'd-' || n, 0, 0, l.line, 'labour', 'employment', l.action, l.from_stage, l.from_official,
                   l.to_stage, l.to_official, NULL,
                   CASE WHEN n = 11 AND l.line = 3 THEN '<img src=x id=injected>' END,
                   $1::timestamptz - (l.days_ago || ' days')::interval
                       + CASE WHEN n = 12 AND l.line = 2 THEN interval '3 days' ELSE interval '0' END,
                   $1::timestamptz - (l.entered_days_ago || ' days')::interval,
                   $1::timestamptz - (l.due_days_ago || ' days')::interval,
                   CASE WHEN l.line = 1 THEN NULL WHEN n = 12 AND l.line = 2 THEN 'late'
                        WHEN n = 10 THEN 'early' ELSE 'on-time' END
            FROM generate_series(10, 12) AS n,
                 (VALUES (1, 'assign', NULL, NULL, 'examine', 'labour-spec-1', 20, NULL, NULL),
                         (2, 'propose', 'examine', 'labour-spec-1', 'check', 'labour-head', 14, 20, 12),
                         (3, 'approve', 'check', 'labour-head', 'sign', 'labour-director', 10, 14, 9),
                         (4, 'sign', 'sign', 'labour-director', NULL, NULL, 2, 10, 1))
                     AS l(line, action, from_stage, from_official, to_stage, to_official, days_ago, entered_days_ago,
                          due_days_ago)
            """, [now])
        try db.execute(
            """
            INSERT INTO stages (dossier_id, step, round, department, division, procedure, route, stage_count, position,
                                stage, role, assignee, entered_at, due_at, handovers)
            VALUES ('d-12', 1, 0, 'culture', 'performing-arts', '1.000105', $2, 3, 0, 'examine', 'specialist', NULL,
                    $1::timestamptz - interval '1 day', $1::timestamptz + interval '5 days', 1)
            """, [now, route])
        try db.execute(
            """
            INSERT INTO stage_handovers (dossier_id, step, round, line, department, division, action, to_stage, at)
            VALUES ('d-12', 1, 0, 1, 'culture', 'performing-arts', 'assign', 'examine', $1::timestamptz - interval '1 day')
            """, [now])
        // Dossier 13 was stopped (form 05, approved by the director) at the specialist's stage, two days late: the
        // stage closed with its `stopped` line and verdict.
        try db.execute(
            """
            INSERT INTO stages (dossier_id, step, round, department, division, procedure, route, stage_count, position,
                                stage, role, assignee, entered_at, due_at, handovers, closed_at)
            VALUES ('d-13', 0, 0, 'labour', 'employment', '1.000105', $2, 3, 0, 'examine', 'specialist', NULL,
                    $1::timestamptz - interval '6 days', $1::timestamptz - interval '3 days', 2,
                    $1::timestamptz - interval '1 day')
            """, [now, route])
        try db.execute(
            """
            INSERT INTO stage_handovers (dossier_id, step, round, line, department, division, action, from_stage,
                                         from_official, to_stage, to_official, reason, at, stage_entered_at,
                                         stage_due_at, verdict)
            VALUES ('d-13', 0, 0, 1, 'labour', 'employment', 'assign', NULL, NULL, 'examine', 'labour-spec-1', NULL,
                    $1::timestamptz - interval '6 days', NULL, NULL, NULL),
                   ('d-13', 0, 0, 2, 'labour', 'employment', 'stopped', 'examine', 'labour-director', NULL, NULL,
                    'the applicant asked to stop', $1::timestamptz - interval '1 day',
                    $1::timestamptz - interval '6 days', $1::timestamptz - interval '3 days', 'late')
            """, [now])
    }

    /// A sign-in assertion of `official` (its own key unless `key` is given), made `age` seconds ago.
    func assertion(_ official: String, key: CommandSigningKey? = nil, age: TimeInterval = 0) throws -> String {
        let found = officials[official]!
        return try SignInAssertion.make(
            official: official, certificate: found.certificate, key: key ?? found.key,
            now: Date().addingTimeInterval(-age))
    }

    /// The request on a thread of its own: the listener runs in this process, and a blocking read on the
    /// cooperative pool (two threads on two cores) could starve the very handlers that answer it.
    func post(_ path: String, form: String, headers: [String: String] = [:]) async throws -> HTTPResult {
        let port = self.port
        return try await Self.offPool {
            try httpRequest(
                port: port, path: path, method: "POST",
                headers: headers.merging(["Content-Type": "application/x-www-form-urlencoded"]) { $1 }, body: form,
                timeout: 120)
        }
    }

    static func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
        }
    }

    func signIn(_ assertion: String, client: String? = nil) async throws -> HTTPResult {
        try await post(
            "/sign-in", form: "assertion=" + (assertion.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""),
            headers: client.map { ["X-Forwarded-For": $0] } ?? [:])
    }

    /// The cookie a successful sign-in set (`name=value`).
    static func cookie(_ result: HTTPResult) -> String? {
        result.headers["set-cookie"]?.split(separator: ";").first.map(String.init)
    }

    func get(_ path: String, cookie: String?) async throws -> HTTPResult {
        let port = self.port
        return try await Self.offPool {
            try httpRequest(port: port, path: path, headers: cookie.map { ["Cookie": $0] } ?? [:], timeout: 120)
        }
    }

    func nonces() throws -> Int {
        try database.connection.query("SELECT count(*) AS n FROM official_sign_ins", []).first!.decode(Int.self, "n")
    }
}

@Suite("Officials' pages", .serialized)
struct OfficialsPagesTests {
    @Test("sign-in with a fresh assertion sets an HttpOnly, SameSite=Strict session of at most 12 h; the leader page and the slip are served to it")
    func signInAndPages() async throws {
        let fixture = try await OfficialsPagesFixture()
        defer { fixture.stop() }
        let result = try await fixture.signIn(try fixture.assertion("labour-head"))
        #expect(result.status == 303, "\(result.body)")
        #expect(result.headers["location"] == "/departments/labour")
        let setCookie = result.headers["set-cookie"] ?? ""
        #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict"), "\(setCookie)")
        let maxAge = setCookie.split(separator: ";").compactMap { part -> Int? in
            let trimmed = part.trimmingCharacters(in: .whitespaces)
            return trimmed.hasPrefix("Max-Age=") ? Int(trimmed.dropFirst(8)) : nil
        }.first
        #expect(maxAge.map { $0 > 0 && $0 <= 12 * 3_600 } == true, "\(setCookie)")
        let cookie = try #require(OfficialsPagesFixture.cookie(result))
        #expect(try fixture.nonces() == 1)

        let page = try await fixture.get("/departments/labour", cookie: cookie)
        #expect(page.status == 200)
        #expect(page.body.contains("data-division=\"employment\""))
        #expect(page.body.contains("<svg"))
        #expect(!page.body.contains("<script"))
        let slip = try await fixture.get("/dossiers/LD-261201-000012/slip", cookie: cookie)
        #expect(slip.status == 200)
        // Both departments' hand-overs, the late stage counted.
        #expect(slip.body.contains("data-department=\"culture\"") && slip.body.contains("data-department=\"labour\""))
        #expect(slip.body.contains("<span id=\"late\">1</span>"), "\(slip.body)")
        // A stopped dossier's slip: the stage closed by the stop notice, with its verdict against the quota.
        let stopped = try await fixture.get("/dossiers/LD-261201-000013/slip", cookie: cookie)
        #expect(stopped.status == 200)
        #expect(stopped.body.contains("<tr data-line=\"0.0.2\""), "\(stopped.body)")
        #expect(stopped.body.contains("<td class=\"action\">stopped</td><td>examine labour-director</td><td></td>"),
                "\(stopped.body)")
        #expect(stopped.body.contains("<td class=\"verdict late\">late</td><td>the applicant asked to stop</td>"))
        #expect(stopped.body.contains("<span id=\"late\">1</span>"))
        // Nothing of the applicants, anywhere.
        for body in [page.body, slip.body, stopped.body] {
            #expect(!body.contains(fixture.marker) && !body.contains(HTML.escape(fixture.marker)) && !body.contains("00109"))
        }
    }

    @Test("refused, with the reason and no cookie: anonymous, forged, tampered, expired, replayed, revoked, a service; another department's official is refused the page and the slip")
    func attacks() async throws {
        let fixture = try await OfficialsPagesFixture()
        defer { fixture.stop() }
        // Anonymous.
        for path in ["/departments/labour", "/dossiers/LD-261201-000012/slip"] {
            let anonymous = try await fixture.get(path, cookie: nil)
            #expect(anonymous.status == 401, "\(path)")
            #expect(!anonymous.body.contains("employment") && !anonymous.body.contains("labour-spec-1"))
        }
        func refused(_ assertion: String, _ reason: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
            let result = try await fixture.signIn(assertion)
            #expect(result.status == 401, sourceLocation: sourceLocation)
            #expect(result.headers["set-cookie"] == nil, sourceLocation: sourceLocation)
            #expect(result.body.contains(reason), "\(result.body)", sourceLocation: sourceLocation)
        }
        // Forged: signed with another key, naming the director.
        try await refused(try fixture.assertion("labour-director", key: .newP256()), "the signature is refused")
        // Tampered: the head's assertion rewritten to name the director.
        let head = try fixture.assertion("labour-head")
        var json = String(decoding: SignInAssertion.unbase64url(head)!, as: UTF8.self)
        json = json.replacingOccurrences(of: "\"official\":\"labour-head\"", with: "\"official\":\"labour-director\"")
        try await refused(SignInAssertion.base64url(Data(json.utf8)), "the signature is refused")
        // The head's own valid signature over an assertion naming the director.
        let formatter = ISO8601DateFormatter()
        let nonce = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        let claim = """
            {"audience":"\(SignInAssertion.audience)","expiresAt":"\(formatter.string(from: Date().addingTimeInterval(60)))",\
            "issuedAt":"\(formatter.string(from: Date()))","nonce":"\(nonce)","official":"labour-director"}
            """
        let headOfficial = fixture.officials["labour-head"]!
        let signed = try CommandSignature.sign(
            Array(claim.utf8), type: SignInAssertion.type, topic: SignInAssertion.topic, principal: "labour-head",
            certificate: headOfficial.certificate, key: headOfficial.key)
        try await refused(SignInAssertion.base64url(Data(signed)), "another official")
        // Expired (made 3 minutes ago) and garbage.
        try await refused(try fixture.assertion("labour-head", age: 180), "expired")
        try await refused("not-an-assertion!", "not a sign-in assertion")
        // Revoked, and a service principal.
        try await refused(try fixture.assertion("labour-revoked"), "revoked")
        try await refused(try fixture.assertion("portal"), "only officials")
        #expect(try fixture.nonces() == 0)
        // Replayed: the first use signs in, the second is refused.
        let once = try fixture.assertion("labour-head")
        #expect(try await fixture.signIn(once).status == 303)
        try await refused(once, "used already")
        #expect(try fixture.nonces() == 1)

        // Another department's director: the page 403, the slip 404 (as if it did not exist).
        let culture = try await fixture.signIn(try fixture.assertion("culture-director"))
        let cultureCookie = try #require(OfficialsPagesFixture.cookie(culture))
        let forbidden = try await fixture.get("/departments/labour", cookie: cultureCookie)
        #expect(forbidden.status == 403)
        #expect(!forbidden.body.contains("labour-spec-1") && !forbidden.body.contains("<svg"))
        #expect(try await fixture.get("/dossiers/LD-261201-000011/slip", cookie: cultureCookie).status == 404)
        // The interconnected dossier went through culture: its slip is theirs too.
        #expect(try await fixture.get("/dossiers/LD-261201-000012/slip", cookie: cultureCookie).status == 200)

        // A forged cookie: the culture session's payload rewritten to labour, same MAC.
        let parts = cultureCookie.split(separator: "=", maxSplits: 1)[1].split(separator: ".")
        var payload = String(decoding: SignInAssertion.unbase64url(String(parts[0]))!, as: UTF8.self)
        payload = payload.replacingOccurrences(of: "culture", with: "labour")
        let forged = "\(OfficialSession.cookieName)=\(SignInAssertion.base64url(Data(payload.utf8))).\(parts[1])"
        #expect(try await fixture.get("/departments/labour", cookie: forged).status == 401)

        // A session ends when its official is revoked.
        let specialist = try await fixture.signIn(try fixture.assertion("labour-spec-1"))
        let specialistCookie = try #require(OfficialsPagesFixture.cookie(specialist))
        #expect(try await fixture.get("/departments/labour", cookie: specialistCookie).status == 200)
        try OfficialsStore.revoke("labour-spec-1", at: fixture.now.addingTimeInterval(-1), reason: "left", in: fixture.database.connection)
        #expect(try await fixture.get("/departments/labour", cookie: specialistCookie).status == 401)
    }

    /// What the browser saw of the live pages (strings only: it crosses from the browser's thread).
    struct Browsed: Sendable {
        var anonymous: String
        var location: String
        var documentCookie: String
        /// "name httpOnly sameSite" of each cookie the browser holds.
        var cookies: [String]
        var leader: String
        var slip: String
        var shots: [String: PNGInfo]
    }

    @Test("Chromium signs itself in on the live server (the real form, an HttpOnly SameSite=Strict cookie it keeps), renders the leader page and the slip at 1280 px and 360 px (kept under .dev/screenshots); the rendered figures match independent SQL")
    func chromium() async throws {
        let fixture = try await OfficialsPagesFixture()
        defer { fixture.stop() }
        let assertion = try fixture.assertion("labour-director")
        let base = "http://127.0.0.1:\(fixture.port)"
        let directory = TestEnvironment.root.appendingPathComponent(".dev/screenshots")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // One browser for the whole visit, driven over the DevTools protocol: it signs in through the sign-in form
        // as an official would, keeps the cookie the server sets, and is sent to the pages with it.
        let browsed = try await OfficialsPagesFixture.offPool { () throws -> Browsed in
            let browser = try ChromiumSession(timeout: 120)
            defer { browser.close() }
            try browser.navigate(base + "/departments/labour")
            let anonymous = try browser.dom()
            try browser.navigate(base + "/sign-in")
            try browser.evaluateAndWaitForLoad(
                "document.getElementById('assertion').value = '\(assertion)'; document.forms[0].submit()")
            let location = try browser.evaluate("location.pathname") as? String ?? ""
            let documentCookie = try browser.evaluate("document.cookie") as? String ?? "?"
            let cookies = try browser.cookies().map {
                "\($0["name"] as? String ?? "?") \($0["httpOnly"] as? Bool ?? false) \($0["sameSite"] as? String ?? "-")"
            }
            var shots: [String: PNGInfo] = [:]
            func shoot(_ name: String) throws {
                for (width, height) in [(1280, 900), (360, 780)] {
                    shots["\(name)-\(width)"] = try browser.screenshot(
                        to: directory.appendingPathComponent("\(name)-\(width).png"), width: width, height: height)
                }
            }
            let leader = try browser.dom()
            try shoot("leader-labour")
            try browser.navigate(base + "/dossiers/LD-261201-000011/slip")
            let slip = try browser.dom()
            try shoot("slip")
            return Browsed(
                anonymous: anonymous, location: location, documentCookie: documentCookie, cookies: cookies,
                leader: leader, slip: slip, shots: shots)
        }
        #expect(browsed.anonymous.contains("Sign in first") && !browsed.anonymous.contains("labour-spec-1"))
        #expect(browsed.location == "/departments/labour", "the sign-in form led elsewhere: \(browsed.location)")
        // The session cookie: the browser holds it, HttpOnly (no script reads it) and SameSite=Strict.
        #expect(browsed.cookies == ["\(OfficialSession.cookieName) true Strict"], "\(browsed.cookies)")
        #expect(browsed.documentCookie.isEmpty)
        #expect(try fixture.nonces() == 1)
        for (name, png) in browsed.shots {
            #expect(png.width == Int(name.split(separator: "-").last!)!, "\(name): \(png)")
            #expect(png.byteCount > 8_000, "\(name): a \(png.byteCount)-byte screenshot is too small")
        }
        #expect(browsed.shots.count == 4)
        let dom = browsed.leader

        // The queues as rendered, against the database.
        let rowPattern = try NSRegularExpression(
            pattern: #"<tr class="(division|official)" data-division="([^"]*)"(?: data-official="([^"]*)")?>(.*?)</tr>"#,
            options: [.dotMatchesLineSeparators])
        let cellPattern = try NSRegularExpression(pattern: #"<td class="num (open|due-soon|overdue)[^"]*">(\d+)</td>"#)
        var shown: [String: [Int]] = [:]
        let text = dom as NSString
        for row in rowPattern.matches(in: dom, range: NSRange(location: 0, length: text.length)) {
            let division = text.substring(with: row.range(at: 2))
            let official = row.range(at: 3).location == NSNotFound ? "*" : text.substring(with: row.range(at: 3))
            let cells = text.substring(with: row.range(at: 4)) as NSString
            shown["\(division)/\(official)"] = cellPattern.matches(in: cells as String, range: NSRange(location: 0, length: cells.length))
                .map { Int(cells.substring(with: $0.range(at: 2)))! }
        }
        var expected: [String: [Int]] = [:]
        for row in try fixture.database.connection.query(
            """
            SELECT division, coalesce(assignee, '') AS who, count(*) AS open,
                   count(*) FILTER (WHERE due_at >= $1 AND due_at < $1 + interval '1 day') AS soon,
                   count(*) FILTER (WHERE due_at < $1) AS late
            FROM stages WHERE department = 'labour' AND closed_at IS NULL GROUP BY division, who
            UNION ALL
            SELECT division, '*', count(*), count(*) FILTER (WHERE due_at >= $1 AND due_at < $1 + interval '1 day'),
                   count(*) FILTER (WHERE due_at < $1)
            FROM stages WHERE department = 'labour' AND closed_at IS NULL GROUP BY division
            """, [fixture.now])
        {
            expected["\(try row.decode(String.self, "division"))/\(try row.decode(String.self, "who"))"] = [
                try row.decode(Int.self, "open"), try row.decode(Int.self, "soon"), try row.decode(Int.self, "late"),
            ]
        }
        // The workflow's third division has nothing open: shown as zeros.
        expected["social-protection/*"] = [0, 0, 0]
        #expect(expected["employment/*"] == [8, 2, 3])
        #expect(shown == expected)

        // The charts: this week's bar is what is open now; the stage chart's counts are the slip's.
        #expect(dom.contains("<figure data-chart=\"weeks\" data-division=\"employment\">"))
        let latestWeek = try NSRegularExpression(pattern: #"data-week="([^"]+)" data-open="(\d+)" data-overdue="(\d+)""#)
        let employmentChart = String(dom[dom.range(of: "data-chart=\"weeks\" data-division=\"employment\"")!.upperBound...])
        let bars = latestWeek.matches(in: employmentChart, range: NSRange(location: 0, length: (employmentChart as NSString).length))
        let last = try #require(bars.dropFirst(7).first)
        #expect((employmentChart as NSString).substring(with: last.range(at: 2)) == "8")
        #expect((employmentChart as NSString).substring(with: last.range(at: 3)) == "3")
        let finished = try fixture.database.connection.query(
            """
            SELECT from_stage, count(*) AS n FROM stage_handovers
            WHERE department = 'labour' AND division = 'employment' AND verdict IS NOT NULL GROUP BY from_stage
            """, [])
        for row in finished {
            let stage = try row.decode(String.self, "from_stage")
            #expect(dom.contains(
                "data-division=\"employment\" data-official=\"\" data-stage=\"\(stage)\"><td><b>Phòng Việc làm – An toàn lao động</b> · \(stage)</td><td class=\"num finished\">\(try row.decode(Int.self, "n"))</td>"),
                "stage \(stage)")
        }

        // The slip as rendered: every line of the database's, the stored reason as text.
        let slipDOM = browsed.slip
        let lines = try fixture.database.connection.query(
            "SELECT step || '.' || round || '.' || line AS id, coalesce(verdict, '—') AS verdict FROM stage_handovers WHERE dossier_id = 'd-11'", [])
        #expect(lines.count == 4)
        for line in lines {
            #expect(slipDOM.contains("<tr data-line=\"\(try line.decode(String.self, "id"))\""))
        }
        #expect(!slipDOM.contains("id=\"injected\""))
        #expect(slipDOM.contains("&lt;img src=x id=injected&gt;"))
        for body in [dom, slipDOM] { #expect(!body.contains(fixture.marker) && !body.contains("00109")) }
    }
}
