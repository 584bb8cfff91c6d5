import Authority
import Foundation
import Messages
import Pages
import Postgres
import Services
import Store
import TestSupport
import Testing

/// Issue 20, stage deadlines: a prepared decision enters its first stage through a real worker; the coordinator's
/// projection (a real process) keeps the stage's deadline; the coordinator's deadline timer, its clock moved by
/// hand, escalates the stage inside the department — to the head of the division when it is due soon, then to the
/// director a working day after it is overdue — once each, also across a restart, and never to the City while the
/// step itself is on time. `motcua report` and the status page count these apart, against SQL written here.
@Suite("Stage deadlines escalate inside the department", .serialized)
struct StageEscalationTests {
    static let department: DepartmentID = "industry-trade"

    @Test("a stage left overdue escalates to the head, then the director, once each; never to the City while the step is on time; report and status page count them apart")
    func stageEscalatesInsideTheDepartment() async throws {
        let database = try TestDatabase("stagedeadlines")
        defer { database.drop() }
        let pipeline = try Pipeline(databaseURL: database.url, seed: 23)
        let projectionGroup = pipeline.group("projection")
        try pipeline.startAtEnd(group: projectionGroup, topic: pipeline.topics.events)
        pipeline.processes["coordinator-projection"] = try ServiceProcess(
            "coordinator",
            ["--rules", TestEnvironment.root.appendingPathComponent("deploy").path, "--projection-only",
             "--projection-group", projectionGroup, "--log-level", "warning"],
            environment: pipeline.processEnvironment)
        try pipeline.startReception()
        try pipeline.startWorker(Self.department)

        // 2.000620 (15 working days): approved by the default rule, for an official: examine 9, check 3, sign 3.
        let dossier = try await pipeline.submitForOfficials(1)[0]
        let id = dossier.id
        let projected = await eventually(timeout: .seconds(120)) {
            try pipeline.count(
                "SELECT count(*) FROM stage_deadlines WHERE dossier_id = $1 AND stage = 'examine' AND status = 'open'",
                [id]) == 1
        }
        #expect(projected, "\(pipeline.logs())")
        let row = try #require(try pipeline.database.query(
            """
            SELECT d.due_at, d.head_at, d.director_at, s.due_at AS stage_due FROM stage_deadlines d
            JOIN stages s ON s.dossier_id = d.dossier_id AND s.step = d.step AND s.round = d.round WHERE d.dossier_id = $1
            """, [id]).first)
        let dueAt = try row.decode(Date.self, "due_at")
        let headAt = try row.decode(Date.self, "head_at")
        let directorAt = try row.decode(Date.self, "director_at")
        // The due instant the worker computed when the stage was entered, carried by the event.
        #expect(dueAt == (try row.decode(Date.self, "stage_due")))
        #expect(headAt < dueAt && dueAt < directorAt)
        let stepDue = try #require(try pipeline.database.query(
            "SELECT due_at FROM deadlines WHERE dossier_id = $1 AND step = 0", [id]).first?.decode(Date.self, "due_at"))
        #expect(directorAt < stepDue, "the step must still be on time when the director is told")

        let clock = ManualClock(headAt.addingTimeInterval(-60))
        func timer() -> DeadlineTimer {
            DeadlineTimer(
                postgres: PostgresConfiguration(connectionString: database.url), clock: clock,
                recipients: EscalationRecipients(catalogue: pipeline.bundle.catalogue), logger: TestEnvironment.logger)
        }
        func escalations() throws -> [String] {
            try pipeline.database.query(
                "SELECT level || ' ' || reason || ' ' || recipient AS e FROM stage_escalations WHERE dossier_id = $1 ORDER BY opened_at",
                [id]
            ).map { try $0.decode(String.self, "e") }
        }
        func published(_ kind: CoordinatorEvent.Kind) throws -> Int {
            try pipeline.count(
                "SELECT count(*) FROM outbox WHERE key = $1 AND ce_type = $2", [id, CoordinatorEvent.messageType(kind)])
        }
        var first = timer()
        try first.fireDue()
        #expect(try escalations().isEmpty, "nothing before the stage is due soon")
        clock.set(headAt.addingTimeInterval(60))
        try first.fireDue()
        try first.fireDue()
        #expect(try escalations() == ["head due-soon head-of-division"])
        // A restart: a new timer (the coordinator's process again) fires nothing twice.
        first = timer()
        clock.set(dueAt.addingTimeInterval(60))
        try first.fireDue()
        #expect(try escalations() == ["head due-soon head-of-division"])
        clock.set(directorAt.addingTimeInterval(60))
        try first.fireDue()
        try timer().fireDue()
        #expect(try escalations() == ["head due-soon head-of-division", "director overdue-unresolved director"])
        #expect(try published(.stageEscalated) == 2)

        // Never to the City while the step is on time: no step escalation, no overdue step, nothing on the portal.
        #expect(try pipeline.count("SELECT count(*) FROM escalations WHERE dossier_id = $1", [id]) == 0)
        #expect(try pipeline.count(
            "SELECT count(*) FROM deadlines WHERE dossier_id = $1 AND fired & 2 <> 0", [id]) == 0)
        #expect(try published(.overdue) == 0 && (try published(.escalatedDeadline)) == 0)
        #expect(try pipeline.count(
            "SELECT count(*) FROM dossier_timeline WHERE dossier_id = $1 AND type = 'stage-escalated'", [id]) == 0)
        #expect(try pipeline.count(
            "SELECT count(*) FROM dossier_status WHERE dossier_id = $1 AND overdue", [id]) == 0)

        // Counted apart: `motcua report` (JSON) and the status page, against SQL.
        let head = try pipeline.count("SELECT count(*) FROM stage_escalations WHERE level = 'head'")
        let director = try pipeline.count("SELECT count(*) FROM stage_escalations WHERE level = 'director'")
        let stepEscalations = try pipeline.count("SELECT count(*) FROM escalations")
        let report = try await CommandRun.motcua("report", "--json", environment: pipeline.processEnvironment)
        #expect(report.status == 0, "\(report)")
        struct Figures: Decodable {
            var department: String
            var stageEscalationsHead: Int
            var stageEscalationsDirector: Int
            var escalationsLevel1: Int
            var escalationsLevel2: Int
        }
        struct Output: Decodable {
            var departments: [Figures]
            var total: Figures
        }
        let output = try JSONDecoder().decode(Output.self, from: Data(report.stdout.utf8))
        #expect(output.total.stageEscalationsHead == head && head == 1)
        #expect(output.total.stageEscalationsDirector == director && director == 1)
        #expect(output.total.escalationsLevel1 + output.total.escalationsLevel2 == stepEscalations)
        let trade = try #require(output.departments.first { $0.department == Self.department.rawValue })
        #expect(trade.stageEscalationsHead == 1 && trade.stageEscalationsDirector == 1)
        let text = try await CommandRun.motcua("report", environment: pipeline.processEnvironment)
        #expect(text.status == 0 && text.stdout.contains("stage head") && text.stdout.contains("stage dir"), "\(text)")

        let status = try StatusPage.report(
            database: pipeline.database, catalogue: pipeline.bundle.catalogue, calendar: pipeline.bundle.calendar,
            watermarks: TopicWatermarks(), workerDepartments: [], scorecardWeeks: 0)
        let openHead = try pipeline.count(
            """
            SELECT count(*) FROM stage_escalations e JOIN stage_deadlines d USING (dossier_id, step, round, stage, entered_at)
            WHERE d.status = 'open' AND e.level = 'head' AND e.department = $1
            """, [Self.department.rawValue])
        let row2 = try #require(status.departments.first { $0.department == Self.department.rawValue })
        #expect(row2.stageEscalationsHead == openHead && openHead == 1)
        #expect(row2.stageEscalationsDirector == 1 && status.totals.stageEscalationsDirector == 1)
        let html = StatusPage.html(status)
        #expect(html.contains(
            "data-field=\"stage-escalations-head\">1</td><td class=\"num\" data-field=\"stage-escalations-director\">1</td>"))
    }
}
