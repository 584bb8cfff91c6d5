import Audit
import Authority
import EffectivelyOnce
import Foundation
import Kafka
import Messages
import Operations
import Pages
import Postgres
import ServiceCommands
import Services
import Simulation
import Store
import TestSupport
import Testing

/// A pipeline (reception, the culture worker, and a coordinator running the status projection with the operations
/// endpoint) and one dossier that went through it to a decision, for the HTTP pages' tests.
final class PagesFixture: @unchecked Sendable {
    let pipeline: Pipeline
    let port: Int
    let dossier: Dossier
    let code: String

    /// The applicant's receipt secret (the lookup needs it).
    let secret: String

    private init(pipeline: Pipeline, port: Int, dossier: Dossier, code: String, secret: String) {
        self.secret = secret
        self.pipeline = pipeline
        self.port = port
        self.dossier = dossier
        self.code = code
    }

    static func start(seed: UInt64, lookupLimit: Int = 0) async throws -> PagesFixture {
        let pipeline = try Pipeline(seed: seed)
        try pipeline.startReception()
        try pipeline.startWorker("culture")
        let group = pipeline.group("projection")
        try pipeline.startAtEnd(group: group, topic: pipeline.topics.events)
        let portFile = FileManager.default.temporaryDirectory.appendingPathComponent(TestEnvironment.unique("pages-port")).path
        pipeline.processes["pages"] = try ServiceProcess(
            "coordinator",
            ["--rules", TestEnvironment.root.appendingPathComponent("deploy").path, "--projection-only",
             "--projection-group", group, "--status-cache-seconds", "0", "--metrics-port", "0", "--metrics-port-file", portFile,
             "--log-level", "warning", "--lookup-limit", String(lookupLimit)],
            environment: pipeline.processEnvironment.merging(["DATABASE_URL": pipeline.databaseURL]) { $1 })
        var port = 0
        let listening = await eventually(timeout: .seconds(60)) {
            port = Int((try String(contentsOfFile: portFile, encoding: .utf8)).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
            return port > 0
        }
        try #require(listening, "the coordinator did not report its port\n\(pipeline.logs())")

        // A sports-business certificate, online, nothing wrong: the culture rules approve it automatically.
        var dossier = pipeline.generator.next(procedure: "1.000917", submittedAt: Date(), outsideShare: 0)
        dossier.channel = .online
        let receipt = ReceiptSecret.generate()
        dossier.receiptSecretSha256 = receipt.sha256
        dossier.facts["priorViolations"] = .integer(0)
        dossier.facts["sportsStaffCertified"] = .bool(true)
        dossier.facts["fireSafetyValid"] = .bool(true)
        let marker = UInt64.random(in: 100_000...999_999)
        dossier.applicant = Dossier.Applicant(
            kind: .enterprise, id: "0109\(marker)", name: "Công ty TNHH Bí Mật <Thử> \(marker)")
        try await pipeline.submit([dossier])
        // Usually seconds; minutes when the whole test run shares the two cores and the topics.
        let decided = await eventually(timeout: .seconds(240), interval: .milliseconds(200)) {
            try pipeline.count(
                "SELECT count(*) FROM dossier_status WHERE dossier_id = $1 AND decided_at IS NOT NULL AND code IS NOT NULL",
                [dossier.id]) == 1
        }
        if !decided {
            let stage = try pipeline.database.query(
                """
                SELECT (SELECT count(*) FROM dossiers WHERE id = $1) AS received,
                       (SELECT count(*) FROM decisions WHERE dossier_id = $1) AS decisions,
                       (SELECT count(*) FROM dossier_timeline WHERE dossier_id = $1) AS events
                """, [dossier.id])[0]
            let reached = "received \(try stage.decode(Int.self, "received")), decisions \(try stage.decode(Int.self, "decisions")), "
                + "projected events \(try stage.decode(Int.self, "events"))"
            try #require(decided, "the dossier was not decided and projected (\(reached))\n\(pipeline.logs())")
        }
        let code = try pipeline.database.query("SELECT code FROM dossiers WHERE id = $1", [dossier.id])[0].decode(String.self, "code")
        return PagesFixture(pipeline: pipeline, port: port, dossier: dossier, code: code, secret: receipt.secret)
    }

    var url: String { "http://127.0.0.1:\(port)" }

    /// The values of the intake message that are personal, or private to the system: none may appear on a page.
    var secrets: [String] {
        [dossier.applicant.id, dossier.applicant.name, HTML.escape(dossier.applicant.name), dossier.id, secret]
    }

    // MARK: the status page's figures, computed independently of StatusPage

    /// department → field → text as the page shows it (`open`, `overdue`, `on-time-rate`, `closed-on-time-rate`, `escalations-1`,
    /// `escalations-2`, `lag`), for every department of the catalogue, any other department with rows, and `all`.
    func expectedStatus() throws -> [String: [String: String]] {
        let database = pipeline.database
        struct Counts { var open = 0, overdue = 0, onTime = 0, late = 0, l1 = 0, l2 = 0, stageHead = 0, stageDirector = 0 }
        var counts: [String: Counts] = [:]
        for department in pipeline.bundle.catalogue.departments.map(\.id.rawValue) { counts[department] = Counts() }
        for row in try database.query(
            """
            SELECT COALESCE(department, 'unassigned') AS d,
                   count(*) FILTER (WHERE status <> 'closed') AS open,
                   count(*) FILTER (WHERE status <> 'closed' AND (fired & 2) <> 0) AS overdue,
                   count(*) FILTER (WHERE status = 'closed' AND closed_on_time IS TRUE) AS on_time,
                   count(*) FILTER (WHERE status = 'closed' AND closed_on_time IS FALSE) AS late
            FROM deadlines WHERE kind = 'step' GROUP BY 1
            """)
        {
            var c = counts[try row.decode(String.self, "d")] ?? Counts()
            c.open = try row.decode(Int.self, "open")
            c.overdue = try row.decode(Int.self, "overdue")
            c.onTime = try row.decode(Int.self, "on_time")
            c.late = try row.decode(Int.self, "late")
            counts[try row.decode(String.self, "d")] = c
        }
        for row in try database.query(
            """
            SELECT COALESCE(department, 'unassigned') AS d, count(*) FILTER (WHERE level = 1) AS l1,
                   count(*) FILTER (WHERE level = 2) AS l2
            FROM escalations WHERE closed_at IS NULL GROUP BY 1
            """)
        {
            var c = counts[try row.decode(String.self, "d")] ?? Counts()
            c.l1 = try row.decode(Int.self, "l1")
            c.l2 = try row.decode(Int.self, "l2")
            counts[try row.decode(String.self, "d")] = c
        }
        // In-department escalations of stages still open (issue 20), counted apart.
        for row in try database.query(
            """
            SELECT e.department AS d, count(*) FILTER (WHERE e.level = 'head') AS head,
                   count(*) FILTER (WHERE e.level = 'director') AS director
            FROM stage_escalations e
            WHERE EXISTS (SELECT 1 FROM stage_deadlines s WHERE s.dossier_id = e.dossier_id AND s.step = e.step
                          AND s.round = e.round AND s.stage = e.stage AND s.entered_at = e.entered_at
                          AND s.status = 'open')
            GROUP BY 1
            """)
        {
            var c = counts[try row.decode(String.self, "d")] ?? Counts()
            c.stageHead = try row.decode(Int.self, "head")
            c.stageDirector = try row.decode(Int.self, "director")
            counts[try row.decode(String.self, "d")] = c
        }
        // "On time" counts open overdue steps as late; "closed on time" only closed steps.
        func rate(_ onTime: Int, _ late: Int) -> String {
            onTime + late == 0 ? "—" : String(format: "%.1f%%", Double(onTime) * 100 / Double(onTime + late))
        }
        var expected: [String: [String: String]] = [:]
        var total = Counts()
        for (department, c) in counts {
            expected[department] = [
                "open": "\(c.open)", "overdue": "\(c.overdue)", "on-time-rate": rate(c.onTime, c.late + c.overdue),
                "closed-on-time-rate": rate(c.onTime, c.late),
                "escalations-1": "\(c.l1)", "escalations-2": "\(c.l2)", "lag": "—",
                "stage-escalations-head": "\(c.stageHead)", "stage-escalations-director": "\(c.stageDirector)",
            ]
            total.open += c.open; total.overdue += c.overdue; total.onTime += c.onTime; total.late += c.late
            total.l1 += c.l1; total.l2 += c.l2; total.stageHead += c.stageHead; total.stageDirector += c.stageDirector
        }
        // Lag: the department topic's high watermarks against the offsets the default worker group stored.
        var totalLag: Int64 = 0
        for department in TestTopics.departments {
            let topic = pipeline.topics.department(department)
            var stored: [Int: Int64] = [:]
            for row in try database.query(
                "SELECT partition, next_offset FROM consumer_offsets WHERE consumer_group = $1 AND topic = $2",
                [pipeline.topics.group("motcua.\(department)"), topic])
            {
                stored[try row.decode(Int.self, "partition")] = try row.decode(Int64.self, "next_offset")
            }
            var lag: Int64 = 0
            for partition in try pipeline.admin.metadata(topic: topic).first?.partitions ?? [] {
                let marks = try pipeline.admin.watermarks(TopicPartition(topic, partition.id))
                let next = Swift.max(stored[Int(partition.id)] ?? marks.low, marks.low)
                lag += Swift.max(0, marks.high - next)
            }
            expected[department.rawValue, default: [:]]["lag"] = "\(lag)"
            totalLag += lag
        }
        expected["all"] = [
            "open": "\(total.open)", "overdue": "\(total.overdue)", "on-time-rate": rate(total.onTime, total.late + total.overdue),
            "closed-on-time-rate": rate(total.onTime, total.late),
            "escalations-1": "\(total.l1)", "escalations-2": "\(total.l2)", "lag": "\(totalLag)",
            "stage-escalations-head": "\(total.stageHead)", "stage-escalations-director": "\(total.stageDirector)",
        ]
        return expected
    }

    /// Compares what `page` shows with ``expectedStatus()`` taken just before and just after it; other tests
    /// share the database and the topics, so a pair that differs is retried.
    func compareStatus(
        _ label: String, _ page: () async throws -> [String: [String: String]]
    ) async throws {
        for _ in 0..<15 {
            let before = try expectedStatus()
            let shown = try await page()
            let after = try expectedStatus()
            guard before == after else {
                try await Task.sleep(for: .milliseconds(300))
                continue
            }
            #expect(shown == before, "\(label): the page shows\n\(shown.sorted { $0.key < $1.key })\nthe database\n\(before.sorted { $0.key < $1.key })")
            return
        }
        Issue.record("\(label): the figures kept changing under the test")
    }

    /// department → field → text from the status page's markup (the server's or Chromium's serialization).
    static func parseStatusTable(_ html: String) throws -> [String: [String: String]] {
        let rowPattern = try NSRegularExpression(pattern: #"<tr data-department="([^"]+)">(.*?)</tr>"#, options: [.dotMatchesLineSeparators])
        let cellPattern = try NSRegularExpression(pattern: #"<t[dh][^>]*data-field="([^"]+)"[^>]*>([^<]*)</t[dh]>"#)
        var result: [String: [String: String]] = [:]
        let text = html as NSString
        for row in rowPattern.matches(in: html, range: NSRange(location: 0, length: text.length)) {
            let department = text.substring(with: row.range(at: 1))
            let cellsText = text.substring(with: row.range(at: 2))
            let cells = cellsText as NSString
            var fields: [String: String] = [:]
            for cell in cellPattern.matches(in: cellsText, range: NSRange(location: 0, length: cells.length)) {
                let field = cells.substring(with: cell.range(at: 1))
                if field != "name" { fields[field] = cells.substring(with: cell.range(at: 2)) }
            }
            result[department] = fields
        }
        return result
    }

    /// The same map from the JSON report.
    static func fields(of report: StatusReport) -> [String: [String: String]] {
        var result: [String: [String: String]] = [:]
        for row in report.departments + [report.totals] {
            result[row.department] = [
                "open": "\(row.openDossiers)", "overdue": "\(row.overdueOpen)",
                "on-time-rate": StatusPage.percent(row.onTimeRate),
                "closed-on-time-rate": StatusPage.percent(row.closedOnTimeRate), "escalations-1": "\(row.escalationsLevel1)",
                "escalations-2": "\(row.escalationsLevel2)", "lag": StatusPage.lagText(row),
                "stage-escalations-head": "\(row.stageEscalationsHead)",
                "stage-escalations-director": "\(row.stageEscalationsDirector)",
            ]
        }
        return result
    }
}

@Suite("Operations pages", .serialized)
struct OperationsPagesTests {
    @Test("citizen lookup: JSON and HTML for a dossier that went through reception and a worker, 404, 400, no personal data")
    func citizenLookup() async throws {
        let fixture = try await PagesFixture.start(seed: 71)
        let database = fixture.pipeline.database
        let path = "/dossiers/\(fixture.code)"
        let status = try database.query(
            "SELECT status, department, due_date::text AS due, outcome, overdue FROM dossier_status WHERE dossier_id = $1",
            [fixture.dossier.id])[0]
        let timeline = try database.query(
            "SELECT type FROM dossier_timeline WHERE dossier_id = $1 ORDER BY at, id", [fixture.dossier.id]
        ).map { try $0.decode(String.self, "type") }

        // JSON, by Accept and by ?format=json.
        let withSecret = ["X-Receipt-Secret": fixture.secret]
        let byAccept = try httpRequest(
            port: fixture.port, path: path, headers: ["Accept": "application/json"].merging(withSecret) { $1 })
        #expect(byAccept.status == 200, "\(byAccept.body)")
        #expect(byAccept.headers["content-type"]?.hasPrefix("application/json") == true)
        let found = try JSONDecoder().decode(CitizenDossier.self, from: Data(byAccept.body.utf8))
        #expect(found.code == fixture.code)
        #expect(found.status == (try status.decode(String.self, "status")))
        #expect(found.procedure.code == "1.000917")
        #expect(found.procedure.name == fixture.pipeline.bundle.catalogue.procedure("1.000917")?.name)
        #expect(found.department?.id == (try status.decodeIfPresent(String.self, "department")))
        #expect(found.department?.name == "Sở Văn hóa và Thể thao Hà Nội")
        #expect(found.dueDate == (try status.decodeIfPresent(String.self, "due")))
        #expect(found.dueDate != nil)
        #expect(found.overdue == (try status.decode(Bool.self, "overdue")))
        #expect(found.decision?.outcome == "approve")
        #expect(found.decision?.outcome == (try status.decodeIfPresent(String.self, "outcome")))
        #expect(found.timeline.map(\.type) == timeline)
        #expect(found.timeline.first?.type == "received")
        #expect(found.timeline.contains { $0.type == "decided" && $0.from?.id == "culture" })
        let byQuery = try httpRequest(port: fixture.port, path: path + "?format=json", headers: withSecret)
        #expect(byQuery.status == 200)
        #expect(try JSONDecoder().decode(CitizenDossier.self, from: Data(byQuery.body.utf8)) == found)

        // HTML otherwise (a browser's Accept too).
        let html = try httpRequest(
            port: fixture.port, path: path,
            headers: ["Accept": "text/html,application/xhtml+xml,*/*;q=0.8"].merging(withSecret) { $1 })
        #expect(html.status == 200)
        #expect(html.headers["content-type"]?.hasPrefix("text/html") == true)
        #expect(html.body.contains("<code id=\"code\">\(fixture.code)</code>"))
        #expect(html.body.contains(HTML.escape(found.procedure.name)))
        #expect(html.body.contains("<dd id=\"due\">\(found.dueDate ?? "?")</dd>"))
        #expect(html.body.contains("<dd id=\"decision\">approved on "))
        #expect(html.body.contains("name=\"viewport\""))

        // Unknown codes, a wrong secret, no secret, a secret in the URL: the same 404.
        let unknown = try httpRequest(port: fixture.port, path: "/dossiers/ZZ-200101-000001", headers: withSecret)
        #expect(unknown.status == 404)
        #expect(unknown.body.contains("No dossier matches the code ZZ-200101-000001 and this receipt secret"))
        let unknownJSON = try httpRequest(
            port: fixture.port, path: "/dossiers/ZZ-200101-000001?format=json", headers: withSecret)
        #expect(unknownJSON.status == 404)
        #expect(unknownJSON.headers["content-type"]?.hasPrefix("application/json") == true)
        let notFound = "No dossier matches the code \(fixture.code) and this receipt secret"
        let wrong = try httpRequest(port: fixture.port, path: path, headers: ["X-Receipt-Secret": ReceiptSecret.generate().secret])
        let missing = try httpRequest(port: fixture.port, path: path)
        let inURL = try httpRequest(port: fixture.port, path: path + "?secret=\(fixture.secret)")
        for response in [wrong, missing, inURL] {
            #expect(response.status == 404)
            #expect(response.body.contains(notFound), "\(response.body)")
        }
        // POST, as a form or JSON: the secret in the body.
        let form = try httpRequest(
            port: fixture.port, path: "/dossiers/lookup", method: "POST",
            headers: ["Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"],
            body: "code=\(fixture.code)&secret=\(fixture.secret)")
        #expect(form.status == 200, "\(form.body)")
        #expect(try JSONDecoder().decode(CitizenDossier.self, from: Data(form.body.utf8)) == found)
        let posted = try httpRequest(
            port: fixture.port, path: "/dossiers/lookup", method: "POST",
            headers: ["Content-Type": "application/json", "Accept": "application/json"],
            body: #"{"code":"\#(fixture.code)","secret":"wrong"}"#)
        #expect(posted.status == 404)
        var bodies = [byAccept.body, byQuery.body, html.body, unknown.body, unknownJSON.body, wrong.body, form.body]
        for malformed in ["not-a-code", "ct-261127-000001", "CT-261327-000001", "CT-261127-42", "%3Cscript%3Ealert(1)"] {
            for headers in [[:], ["Accept": "application/json"]] {
                let response = try httpRequest(
                    port: fixture.port, path: "/dossiers/\(malformed)", headers: headers.merging(withSecret) { $1 })
                #expect(response.status == 400, "\(malformed): \(response.status)")
                #expect(response.body.contains("AGENCY-yymmdd-NNNNNN"), "\(response.body)")
                #expect(!response.body.contains("<script>"))
                bodies.append(response.body)
            }
        }

        // Nothing personal, in any answer.
        for body in bodies {
            for secret in fixture.secrets {
                #expect(!body.contains(secret), "a page shows '\(secret)'")
            }
        }
        // The dossier's row does hold them: the test looks for the right values.
        #expect(try fixture.pipeline.count(
            "SELECT count(*) FROM dossiers WHERE id = $1 AND body->'applicant'->>'id' = $2 AND body->'applicant'->>'name' = $3",
            [fixture.dossier.id, fixture.dossier.applicant.id, fixture.dossier.applicant.name]) == 1)
    }

    @Test("status page: per-department figures (HTML and JSON) equal independent SQL and the topics' watermarks")
    func statusPage() async throws {
        let fixture = try await PagesFixture.start(seed: 72)
        let html = try httpRequest(port: fixture.port, path: "/")
        #expect(html.status == 200)
        #expect(html.headers["content-type"]?.hasPrefix("text/html") == true)
        #expect(html.body.contains("<meta http-equiv=\"refresh\" content=\"10\">"))
        #expect(html.body.contains("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"))
        #expect(try PagesFixture.parseStatusTable(html.body)["culture"]?["lag"] != "unknown")

        try await fixture.compareStatus("HTML /status") {
            let page = try httpRequest(port: fixture.port, path: "/status")
            #expect(page.status == 200)
            return try PagesFixture.parseStatusTable(page.body)
        }
        try await fixture.compareStatus("JSON /status") {
            let page = try httpRequest(port: fixture.port, path: "/status", headers: ["Accept": "application/json"])
            #expect(page.status == 200)
            return PagesFixture.fields(of: try JSONDecoder().decode(StatusReport.self, from: Data(page.body.utf8)))
        }
        // The decided dossier's step closed on time, so its department has a rate.
        let culture = try PagesFixture.parseStatusTable(try httpRequest(port: fixture.port, path: "/status").body)["culture"]
        #expect(culture?["on-time-rate"]?.hasSuffix("%") == true)
    }

    @Test("Chromium renders the status page and the citizen page at phone size; the rendered numbers match the database")
    func chromium() async throws {
        let fixture = try await PagesFixture.start(seed: 73)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(TestEnvironment.unique("screens"))
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        // Screenshots at a phone's size.
        // The citizen's page needs the receipt secret in a header, which a browser's address bar cannot send: the page
        // the server answers is saved and opened from the file.
        let served = try httpRequest(port: fixture.port, path: "/dossiers/\(fixture.code)", headers: ["X-Receipt-Secret": fixture.secret])
        #expect(served.status == 200)
        let citizenFile = directory.appendingPathComponent("citizen.html")
        try Data(served.body.utf8).write(to: citizenFile)
        for (name, url) in [("status", fixture.url + "/status"), ("citizen", citizenFile.absoluteString)] {
            let file = directory.appendingPathComponent("\(name).png")
            let png = try await Chromium.screenshot(url, to: file, width: 390, height: 844)
            #expect(png.width == 390, "\(name): \(png)")
            #expect(png.height == 844, "\(name): \(png)")
            #expect(png.byteCount > 8_000, "\(name): a \(png.byteCount)-byte screenshot is too small to hold the page")
        }

        // The rendered status table, against the database.
        try await fixture.compareStatus("Chromium /status") {
            try PagesFixture.parseStatusTable(try await Chromium.dumpDOM(fixture.url + "/status"))
        }

        // The rendered citizen page.
        let dom = try await Chromium.dumpDOM(citizenFile.absoluteString)
        let row = try fixture.pipeline.database.query(
            "SELECT status, due_date::text AS due FROM dossier_status WHERE dossier_id = $1", [fixture.dossier.id])[0]
        #expect(dom.contains("<code id=\"code\">\(fixture.code)</code>"))
        #expect(dom.contains("<dd id=\"status\">\(try row.decode(String.self, "status"))</dd>"))
        #expect(dom.contains("<dd id=\"due\">\(try row.decode(String.self, "due"))</dd>"))
        #expect(dom.contains("<dd id=\"decision\">approved on "))
        for secret in fixture.secrets { #expect(!dom.contains(secret), "the rendered page shows '\(secret)'") }
    }

    @Test("the pages answer 503 while PostgreSQL is down and recover on their own when it is back")
    func databaseOutage() async throws {
        let server = try ThrowawayPostgres()
        let setup = try PostgresConnection.connect(PostgresConfiguration(connectionString: server.url), logger: TestEnvironment.logger)
        try PostgresMigrator(directory: TestEnvironment.root.appendingPathComponent("schemas/postgres")).migrate(setup)
        let code = "CT-261127-\(Int.random(in: 100_000...999_999))"
        let receipt = ReceiptSecret.generate()
        let withSecret = ["X-Receipt-Secret": receipt.secret]
        try setup.execute(
            """
            INSERT INTO dossiers (id, code, procedure, channel, commune, applicant_kind, submitted_at, received_at, status,
                                  department, due_date, body, receipt_secret_sha256)
            VALUES ($1, $2, '2.000633', 'online', '00004', 'enterprise', now(), now(), 'received', 'industry-trade',
                    '2026-12-21', '{"applicant": {"id": "0101234567", "name": "Công ty TNHH A"}}', decode($3, 'hex'))
            """, [UUID().uuidString.lowercased(), code, receipt.sha256])
        // The timer alone: it needs no topic, and the database of its own is empty.
        let portFile = FileManager.default.temporaryDirectory.appendingPathComponent(TestEnvironment.unique("pages-port")).path
        let coordinator = try ServiceProcess(
            "coordinator",
            ["--rules", TestEnvironment.root.appendingPathComponent("deploy").path, "--timers-only", "--status-cache-seconds", "0",
             "--metrics-port", "0", "--metrics-port-file", portFile, "--log-level", "warning", "--lookup-limit", "0"],
            environment: ["DATABASE_URL": server.url])
        var port = 0
        let listening = await eventually(timeout: .seconds(60)) {
            port = Int((try String(contentsOfFile: portFile, encoding: .utf8)).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
            return port > 0
        }
        try #require(listening, "\(coordinator.log)")
        #expect(try httpRequest(port: port, path: "/dossiers/\(code)", headers: withSecret).status == 200)
        #expect(try httpRequest(port: port, path: "/status").status == 200)

        try server.stop()
        let down = try httpRequest(port: port, path: "/dossiers/\(code)?format=json", headers: withSecret)
        #expect(down.status == 503, "\(down.body)")
        #expect(down.body.contains("not reachable"))
        #expect(try httpRequest(port: port, path: "/status").status == 503)
        #expect(coordinator.isRunning)

        try server.start()
        let back = await eventually(timeout: .seconds(30), interval: .milliseconds(500)) {
            try httpRequest(port: port, path: "/dossiers/\(code)", headers: withSecret).status == 200
        }
        #expect(back, "\(coordinator.log.suffix(3_000))")
        #expect(try httpRequest(port: port, path: "/status").status == 200)
        let page = try httpRequest(port: port, path: "/dossiers/\(code)", headers: withSecret)
        #expect(!page.body.contains("0101234567") && !page.body.contains("Công ty TNHH A"))
    }

    @Test("the citizens' lookup is limited per client: 429 with Retry-After beyond the limit, other clients unaffected")
    func lookupRateLimit() async throws {
        let fixture = try await PagesFixture.start(seed: 74, lookupLimit: 5)
        let path = "/dossiers/\(fixture.code)"
        let attacker = ["X-Forwarded-For": "198.51.100.7", "Accept": "application/json"]
        var statuses: [Int] = []
        for _ in 0..<8 {
            // Guessing: wrong secrets count too.
            statuses.append(try httpRequest(
                port: fixture.port, path: path,
                headers: attacker.merging(["X-Receipt-Secret": ReceiptSecret.generate().secret]) { $1 }).status)
        }
        #expect(statuses == [404, 404, 404, 404, 404, 429, 429, 429], "\(statuses)")
        let limited = try httpRequest(
            port: fixture.port, path: path, headers: attacker.merging(["X-Receipt-Secret": fixture.secret]) { $1 })
        #expect(limited.status == 429)
        #expect(Int(limited.headers["retry-after"] ?? "") ?? 0 >= 1, "\(limited.headers)")
        let applicant = try httpRequest(
            port: fixture.port, path: path,
            headers: ["X-Forwarded-For": "203.0.113.9", "X-Receipt-Secret": fixture.secret, "Accept": "application/json"])
        #expect(applicant.status == 200, "\(applicant.body)")
    }
}
