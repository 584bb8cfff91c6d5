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

/// The status page and the citizen lookup as functions over a real database: exact figures for rows of a
/// department of the test's own, the lag formula, Kafka unreachable, escaping and code checks.
@Suite("Status page and citizen lookup")
struct StatusPageTests {
    static func connect() throws -> PostgresConnection {
        try PostgresConnection.connect(
            PostgresConfiguration(connectionString: try TestEnvironment.databaseURL()), logger: TestEnvironment.logger)
    }

    static func catalogue() throws -> Catalogue {
        try AuthorityBundle.load(from: TestEnvironment.root.appendingPathComponent("deploy")).catalogue
    }

    @Test("figures of one department: open, overdue, on-time rate, escalations by level, lag; unknown lag without Kafka")
    func departmentFigures() throws {
        let database = try Self.connect()
        let department = DepartmentID(TestEnvironment.unique("test-dept"))
        let prefix = TestEnvironment.unique("status-page")
        defer {
            _ = try? database.execute("DELETE FROM deadlines WHERE dossier_id LIKE $1", [prefix + "%"])
            _ = try? database.execute("DELETE FROM escalations WHERE dossier_id LIKE $1", [prefix + "%"])
            _ = try? database.execute("DELETE FROM consumer_offsets WHERE consumer_group = $1", [prefix])
        }
        // (status, fired, closed on time) of step deadlines; no next_fire_at, so no running timer touches them.
        let steps: [(String, Int, Bool?)] = [
            ("open", 0, nil), ("open", 2, nil), ("open", 1, nil), ("paused", 0, nil),
            ("closed", 0, true), ("closed", 1, true), ("closed", 3, false),
        ]
        for (index, step) in steps.enumerated() {
            try database.execute(
                """
                INSERT INTO deadlines (dossier_id, step, kind, department, procedure, opened_at, due_date, due_at, fired,
                                       status, closed_at, closed_on_time)
                VALUES ($1, 0, 'step', $2, '1.000917', now(), '2026-12-01', now(), $3, $4,
                        CASE WHEN $4 = 'closed' THEN now() END, $5)
                """, ["\(prefix)-\(index)", department, step.1, step.0, step.2])
        }
        // The overall deadline of a dossier is not a step: it does not count.
        try database.execute(
            """
            INSERT INTO deadlines (dossier_id, step, kind, department, opened_at, due_date, due_at, fired, status)
            VALUES ($1, -1, 'overall', $2, now(), '2026-12-01', now(), 2, 'open')
            """, ["\(prefix)-0", department])
        for (index, (level, open)) in [(1, true), (1, true), (2, true), (1, false)].enumerated() {
            try database.execute(
                """
                INSERT INTO escalations (dossier_id, step, kind, level, reason, department, recipient, opened_at, closed_at)
                VALUES ($1, 0, 'deadline', $2, 'overdue', $3, 'head', now(), CASE WHEN $4 THEN NULL ELSE now() END)
                """, ["\(prefix)-e\(index)", level, department, open])
        }
        let topic = Topics().department(department)
        for (partition, next) in [(0, 5), (1, 2)] {
            try database.execute(
                "INSERT INTO consumer_offsets (consumer_group, topic, partition, next_offset) VALUES ($1, $2, $3, $4)",
                [prefix, topic, partition, next])
        }
        let watermarks = TopicWatermarks(topics: [topic: [0: (low: 0, high: 10), 1: (low: 3, high: 4), 2: (low: 0, high: 7)]])
        let bundle = try AuthorityBundle.load(from: TestEnvironment.root.appendingPathComponent("deploy"))
        let catalogue = bundle.catalogue

        let report = try StatusPage.report(
            database: database, catalogue: catalogue, calendar: bundle.calendar, watermarks: watermarks, workerDepartments: [department],
            workerGroup: { _ in prefix })
        let row = try #require(report.departments.first { $0.department == department.rawValue })
        #expect(row.openDossiers == 4)
        #expect(row.overdueOpen == 1)
        #expect(row.closedOnTime == 2)
        #expect(row.closedLate == 1)
        // The open overdue step counts as late: 2 on time of 3 closed + 1 open overdue.
        #expect(row.onTimeRate == 2.0 / 4.0)
        #expect(row.closedOnTimeRate == 2.0 / 3.0)
        #expect(row.escalationsLevel1 == 2)
        #expect(row.escalationsLevel2 == 1)
        // (10 − 5) + (4 − max(2, low 3)) + (7 − low 0, nothing stored)
        #expect(row.consumerLag == 13)
        #expect(row.consumerLagStatus == "ok")
        // The catalogue's departments come first, in its order; the delegator has no worker.
        #expect(Array(report.departments.prefix(catalogue.departments.count)).map(\.department) == catalogue.departments.map(\.id.rawValue))
        #expect(report.departments.first { $0.department == "city" }?.consumerLagStatus == "no-worker")
        #expect(report.totals.openDossiers == report.departments.reduce(0) { $0 + $1.openDossiers })
        #expect(report.totals.escalationsLevel2 == report.departments.reduce(0) { $0 + $1.escalationsLevel2 })

        let html = StatusPage.html(report)
        #expect(html.contains("<tr data-department=\"\(department)\">"))
        #expect(html.contains(
            "data-field=\"on-time-rate\" title=\"2 on time of 3 closed and 1 open overdue\">50.0%</td>"))
        #expect(html.contains("data-field=\"closed-on-time-rate\" title=\"2 on time of 3 closed\">66.7%</td>"))
        #expect(html.contains("<meta http-equiv=\"refresh\" content=\"10\">"))

        // Kafka did not answer: the lag is unknown, the rest is there.
        let blind = try StatusPage.report(
            database: database, catalogue: catalogue, calendar: bundle.calendar, watermarks: TopicWatermarks(), workerDepartments: [department],
            workerGroup: { _ in prefix })
        let blindRow = try #require(blind.departments.first { $0.department == department.rawValue })
        #expect(blindRow.consumerLag == nil)
        #expect(blindRow.consumerLagStatus == "unknown")
        #expect(blindRow.openDossiers == 4)
        #expect(blind.totals.consumerLagStatus == "unknown")
        #expect(StatusPage.html(blind).contains("data-field=\"lag\">unknown</td>"))
    }

    @Test("watermarks from an unreachable broker: none, after one timeout rather than one per topic")
    func unreachableKafka() throws {
        var options = KafkaClientOptions(bootstrapServers: "127.0.0.1:1")
        options.logLevel = 0
        let admin = try KafkaAdmin(options: options, logger: TestEnvironment.logger)
        let start = ContinuousClock.now
        let marks = TopicWatermarks.query(TestTopics.departments.map(Topics().department), admin: admin, timeout: .seconds(1))
        #expect(marks.topics.isEmpty)
        #expect(ContinuousClock.now - start < .seconds(4))
    }

    @Test("dossier codes: AGENCY-yymmdd-NNNNNN only")
    func codes() {
        for good in ["CT-261127-000042", "TNMT-261231-123456", "UBND-260101-1234567"] {
            #expect(CitizenLookup.isWellFormed(good), "\(good)")
        }
        for bad in ["", "CT", "ct-261127-000042", "CT-261127-42", "CT-2611270-000042", "CT-261327-000001",
                    "CT-261100-000001", "CT-261127-000042-1", "1CT-261127-000042", "CT-261127-0000a2", "CT 261127 000042",
                    "<b>-261127-000042"] {
            #expect(!CitizenLookup.isWellFormed(bad), "\(bad)")
        }
    }

    @Test("text is escaped on the pages")
    func escaping() throws {
        #expect(HTML.escape("<a href=\"x\">Tom & Jerry's</a>") == "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;")
        let page = CitizenLookup.errorHTML(title: "<title>", message: "<script>alert(1)</script>")
        #expect(!page.contains("<script>"))
        #expect(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        let json = #"""
            {"code": "CT-261127-000001", "status": "in-review\"><i>", "procedure": {"code": "x", "name": "A & B <c>"},
             "department": {"id": "d", "name": "<Sở>"}, "receivedAt": "2026-11-27T09:30:00+07:00",
             "dueDate": "2026-12-01", "overdue": false,
             "timeline": [{"type": "<t>", "at": "2026-11-27T09:30:00+07:00", "from": {"id": "r", "name": "R&D"}}]}
            """#
        let dossier = try JSONDecoder().decode(CitizenDossier.self, from: Data(json.utf8))
        let html = CitizenLookup.html(dossier)
        #expect(!html.contains("<i>") && !html.contains("<c>") && !html.contains("<Sở>") && !html.contains("<t>"))
        #expect(html.contains("A &amp; B &lt;c&gt;") && html.contains("R&amp;D"))
    }

    @Test("the citizen's page says \"unverified\" beside a procedure whose time limit is not verified, and only there")
    func unverifiedTimeLimit() throws {
        func page(verified: Bool?) throws -> String {
            let flag = verified.map { #", "verified": \#($0)"# } ?? ""
            let json = #"""
                {"code": "CT-261127-000001", "status": "in-review", "procedure": {"code": "2.000620", "name": "Thuốc lá"\#(flag)},
                 "receivedAt": "2026-11-27T09:30:00+07:00", "dueDate": "2026-12-01", "overdue": false, "timeline": []}
                """#
            return CitizenLookup.html(try JSONDecoder().decode(CitizenDossier.self, from: Data(json.utf8)))
        }
        #expect(try page(verified: false).contains(
            "Thuốc lá (2.000620) <small class=\"unverified\">(time limit unverified against its source)</small></dd>"))
        #expect(try !page(verified: true).contains("unverified"))
    }
}
