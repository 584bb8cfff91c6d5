import Audit
import Authority
import EffectivelyOnce
import Foundation
import Messages
import MetricsTestKit
import Pages
import Postgres
import ServiceCommands
import Services
import Simulation
import Store
import TestSupport
import Testing

@Suite("Coordinator deadlines")
struct CoordinatorDeadlineTests {
    @Test("a dossier received before Tết 2026 is due after it; nothing fires during the holiday")
    func dueAcrossTet() throws {
        let fixture = try CoordinatorFixture(at: "2026-02-12T09:00:00+07:00")
        defer { fixture.drop() }
        let received = CoordinatorFixture.instant("2026-02-12T09:00:00+07:00")
        // Thursday 12/2; Friday 13/2 is day 1, Tết (16–20/2) and two weekends do not count: due Thursday 26/2.
        let due = try fixture.bundle.calendar.dueDate(receivedAt: received, limit: TimeLimit(value: 5, unit: .workingDays))
        #expect(due.description == "2026-02-26")
        let id = CoordinatorFixture.dossierId()
        try fixture.receive(id, at: "2026-02-12T09:00:00+07:00", due: due.description)
        let timer = fixture.timer()
        fixture.clock.set(CoordinatorFixture.instant("2026-02-20T12:00:00+07:00"))
        #expect(try timer.fireDue() == 0)
        // due-soon: 08:00 two working days before (Tuesday 24/2).
        fixture.clock.set(CoordinatorFixture.instant("2026-02-23T23:00:00+07:00"))
        #expect(try timer.fireDue() == 0)
        fixture.clock.set(CoordinatorFixture.instant("2026-02-24T08:30:00+07:00"))
        #expect(try timer.fireDue() == 2)  // overall and step
        #expect(try fixture.published(.dueSoon, id) == 2)
        fixture.clock.set(CoordinatorFixture.instant("2026-02-26T16:59:00+07:00"))
        #expect(try timer.fireDue() == 0)
        fixture.clock.set(CoordinatorFixture.instant("2026-02-26T17:00:00+07:00"))
        #expect(try timer.fireDue() == 2)
        #expect(try fixture.published(.overdue, id) == 2)
        #expect(try fixture.count("SELECT count(*) FROM escalations WHERE dossier_id = $1 AND level = 1", [id]) == 1)
        #expect(try fixture.count("SELECT count(*) FROM dossier_status WHERE dossier_id = $1 AND overdue", [id]) == 1)
    }

    @Test("a supplement request pauses the clock; the supplement resumes it and moves the due date by the paused working days")
    func pauseAndResume() throws {
        let fixture = try CoordinatorFixture()
        defer { fixture.drop() }
        let id = CoordinatorFixture.dossierId()
        try fixture.receive(id, at: "2026-03-02T09:00:00+07:00", due: "2026-03-09")
        try fixture.apply([fixture.event(.supplementRequested, id, at: "2026-03-04T10:00:00+07:00")])
        #expect(try fixture.deadline(id, step: 0).status == "paused")
        #expect(try fixture.deadline(id, step: -1).status == "paused")
        // Past the original due instant while paused: nothing fires.
        fixture.clock.set(CoordinatorFixture.instant("2026-03-10T09:00:00+07:00"))
        let timer = fixture.timer()
        #expect(try timer.fireDue() == 0)
        // Paused Wed 4/3 – Wed 11/3: 4, 5, 6, 9, 10 March are five working days; 9/3 + 5 = Monday 16/3.
        try fixture.apply([fixture.event(.supplemented, id, at: "2026-03-11T10:00:00+07:00")])
        let step = try fixture.deadline(id, step: 0)
        #expect(step.due == "2026-03-16")
        #expect(step.status == "open")
        #expect(try fixture.deadline(id, step: -1).due == "2026-03-16")
        #expect(try fixture.count(
            "SELECT count(*) FROM deadline_pauses WHERE dossier_id = $1 AND working_days = 5 AND ended_at IS NOT NULL",
            [id]) == 2)
        fixture.clock.set(CoordinatorFixture.instant("2026-03-11T11:00:00+07:00"))
        #expect(try timer.fireDue() == 0)
        fixture.clock.set(CoordinatorFixture.instant("2026-03-16T17:01:00+07:00"))
        #expect(try timer.fireDue() == 2)
        #expect(try fixture.published(.overdue, id) == 2)
    }

    @Test("apology-issued (the worker recorded the slip) moves the deadline and re-arms its timers, once; the apology rules refuse a second slip, one on the due date, an earlier date and another department's deadline")
    func apologyOnce() throws {
        let fixture = try CoordinatorFixture()
        defer { fixture.drop() }
        let id = CoordinatorFixture.dossierId()
        try fixture.receive(id, at: "2026-03-02T09:00:00+07:00", due: "2026-03-09")
        let issued = try fixture.apology(id, step: 0, from: "2026-03-09", to: "2026-03-13", at: "2026-03-05T10:00:00+07:00")
        try fixture.apply([issued])
        #expect(try fixture.deadline(id, step: 0).due == "2026-03-13")
        // Delivered again: applied once.
        try fixture.apply([issued])
        #expect(try fixture.published(.apologyIssued, id) == 1)
        #expect(try fixture.deadline(id, step: 0).due == "2026-03-13")
        // The coordinator never moves a deadline back (the worker checked the date against what it read).
        try fixture.apply([fixture.apology(id, step: -1, from: "2026-03-02", to: "2026-03-06", at: "2026-03-05T11:00:00+07:00")])
        #expect(try fixture.deadline(id, step: -1).due == "2026-03-09")
        #expect(try fixture.published(.apologyIssued, id) == 1)
        // The rules the worker applies (ApologyRules), at its batch instant.
        func refusal(
            status: String? = "open", due: String = "2026-03-13", of owner: String? = "industry-trade",
            issued: Bool = false, newDate: String = "2026-03-20", at: String = "2026-03-06T10:00:00+07:00"
        ) -> String? {
            ApologyRules.refusal(
                status: status, dueDate: CoordinatorFixture.day(due), deadlineDepartment: owner,
                department: "industry-trade", alreadyIssued: issued, newDate: CoordinatorFixture.day(newDate),
                at: CoordinatorFixture.instant(at)
            )?.code.description
        }
        #expect(refusal() == nil)
        #expect(refusal(status: "paused") == nil)
        #expect(refusal(issued: true) == "already-issued")
        // On the due date itself it is too late.
        #expect(refusal(due: "2026-03-09", at: "2026-03-09T08:00:00+07:00") == "too-late")
        #expect(refusal(newDate: "2026-03-13") == "not-later")
        #expect(refusal(status: "closed") == "no-open-deadline")
        #expect(refusal(status: nil) == "no-open-deadline")
        #expect(refusal(of: "labour") == "no-open-deadline")
        // The step no longer goes overdue on 9/3, only on the new date.
        let timer = fixture.timer()
        fixture.clock.set(CoordinatorFixture.instant("2026-03-10T09:00:00+07:00"))
        try timer.fireDue()
        #expect(try fixture.deadline(id, step: 0).fired & 2 == 0)
        #expect(try fixture.deadline(id, step: -1).fired & 2 == 2)
    }

    @Test("apology-issued moves a deadline only as the recorded apology of the deadline's department: a second event for the same row (another id), one of another department, one with no row, another date or a row from before 028 move nothing and send nothing; the unrecorded ones leave no timeline line")
    func apologyMustBeRecorded() throws {
        let fixture = try CoordinatorFixture()
        defer { fixture.drop() }
        let id = CoordinatorFixture.dossierId()
        try fixture.receive(id, at: "2026-03-02T09:00:00+07:00", due: "2026-03-09")
        func lines(_ dossier: String) throws -> Int {
            try fixture.count(
                "SELECT count(*) FROM dossier_timeline WHERE dossier_id = $1 AND type = 'apology-issued'", [dossier])
        }
        func unchanged(_ step: Int, _ due: String, sent: Int) throws {
            #expect(try fixture.deadline(id, step: step).due == due)
            #expect(try fixture.published(.apologyIssued, id) == sent)
            // The applicant's timeline shows only recorded apologies (before, a forged event left its line there).
            #expect(try lines(id) == sent)
            #expect(try fixture.count(
                """
                SELECT count(*) FROM outbox
                WHERE topic = $1 AND key = $2 AND convert_from(payload, 'UTF8')::jsonb ->> 'intent' = 'apology'
                """, [Topics().notifications, id]) == sent)
        }
        // No row: an event as another department's login would write it in its outbox (its own source).
        try fixture.apply([fixture.apology(
            id, step: -1, from: "2026-03-09", to: "2026-04-30", at: "2026-03-03T10:00:00+07:00", recorded: false)])
        try unchanged(-1, "2026-03-09", sent: 0)
        // Another department's event for industry-trade's deadline, even with a row in that department's name.
        try fixture.apply([fixture.apology(
            id, step: -1, from: "2026-03-09", to: "2026-04-30", at: "2026-03-03T10:01:00+07:00", department: "labour")])
        try unchanged(-1, "2026-03-09", sent: 0)
        // A row from before 028 (the coordinator's, no slip kept) moves nothing now.
        let old = CoordinatorFixture.dossierId()
        try fixture.receive(old, at: "2026-03-02T09:00:00+07:00", due: "2026-03-09")
        try fixture.recordApology(old, step: 0, from: "2026-03-09", to: "2026-04-30", at: "2026-03-03T10:00:00+07:00",
                                  department: nil, before028: true)
        try fixture.apply([fixture.apology(
            old, step: 0, from: "2026-03-09", to: "2026-04-30", at: "2026-03-03T10:02:00+07:00", recorded: false)])
        #expect(try fixture.deadline(old, step: 0).due == "2026-03-09")
        #expect(try fixture.published(.apologyIssued, old) == 0)
        // The department's own recorded apology moves the appointment, with the row's reason in what it sends.
        try fixture.recordApology(id, step: 0, from: "2026-03-09", to: "2026-03-13", at: "2026-03-04T10:00:00+07:00",
                                  reason: "recorded reason")
        var forged = fixture.event(
            .apologyIssued, id, step: 0, at: "2026-03-04T10:00:00+07:00",
            data: .init(reason: "another reason", dueDate: "2026-04-30", official: "it-head", previousDueDate: "2026-03-09"))
        // Not its date: nothing.
        try fixture.apply([forged])
        try unchanged(0, "2026-03-09", sent: 0)
        forged.eventId = UUID()
        forged.data.dueDate = "2026-03-13"
        try fixture.apply([forged])
        #expect(try fixture.deadline(id, step: 0).due == "2026-03-13")
        #expect(try fixture.published(.apologyIssued, id) == 1)
        #expect(try lines(id) == 1)
        #expect(try fixture.count(
            "SELECT count(*) FROM outbox WHERE key = $1 AND convert_from(payload, 'UTF8') LIKE '%another reason%'", [id]) == 0)
        // Its one apology: a second event for the same row with another id (two, in one batch) moves nothing more.
        forged.eventId = UUID()
        var again = forged
        again.eventId = UUID()
        try fixture.apply([forged, again])
        #expect(try fixture.deadline(id, step: 0).due == "2026-03-13")
        #expect(try fixture.published(.apologyIssued, id) == 1)
    }

    @Test("level 1 at the due instant, level 2 after the configured working days, each once; a decision closes them")
    func escalationLevels() throws {
        let fixture = try CoordinatorFixture()
        defer { fixture.drop() }
        let metrics = TestMetrics()
        let id = CoordinatorFixture.dossierId()
        try fixture.receive(id, at: "2026-03-02T09:00:00+07:00", due: "2026-03-20", stepDue: "2026-03-09")
        var settings = DeadlineTimer.Settings()
        settings.batchSize = 10
        let timer = DeadlineTimer(
            settings: settings, postgres: fixture.postgres, clock: fixture.clock,
            recipients: EscalationRecipients(catalogue: fixture.bundle.catalogue), logger: TestEnvironment.logger,
            metrics: metrics)
        fixture.clock.set(CoordinatorFixture.instant("2026-03-09T17:30:00+07:00"))
        try timer.fireDue()
        let head = fixture.bundle.catalogue.department("industry-trade")!.head
        #expect(try fixture.count(
            "SELECT count(*) FROM escalations WHERE dossier_id = $1 AND level = 1 AND recipient = $2 AND closed_at IS NULL",
            [id, head]) == 1)
        #expect(try fixture.count("SELECT count(*) FROM escalations WHERE dossier_id = $1 AND level = 2", [id]) == 0)
        try timer.refreshGauges()
        #expect(try metrics.expectGauge("motcua_deadlines_overdue", [("department", "industry-trade")]).lastValue == 1)
        #expect(try metrics.expectGauge("motcua_escalations_open", [("level", "1")]).lastValue == 1)
        #expect(try metrics.expectGauge("motcua_dossiers_open").lastValue == 1)
        // Level 2: three working days after Monday 9/3 is Thursday 12/3, 17:00.
        fixture.clock.set(CoordinatorFixture.instant("2026-03-12T16:00:00+07:00"))
        try timer.fireDue()
        #expect(try fixture.count("SELECT count(*) FROM escalations WHERE dossier_id = $1 AND level = 2", [id]) == 0)
        fixture.clock.set(CoordinatorFixture.instant("2026-03-12T17:00:00+07:00"))
        try timer.fireDue()
        let delegator = EscalationRecipients(catalogue: fixture.bundle.catalogue).delegator
        #expect(try fixture.count(
            "SELECT count(*) FROM escalations WHERE dossier_id = $1 AND level = 2 AND recipient = $2", [id, delegator]) == 1)
        fixture.clock.set(CoordinatorFixture.instant("2026-04-30T17:00:00+07:00"))
        try timer.fireDue()
        #expect(try fixture.published(.overdue, id) == 2)
        #expect(try fixture.published(.escalatedDeadline, id) == 1)
        #expect(try metrics.expectCounter("motcua_escalations", [("level", "1")]).totalValue == 1)
        #expect(try metrics.expectCounter("motcua_escalations", [("level", "2")]).totalValue == 1)
        // The decision closes every open escalation and deadline; the step was late, so is its statistic.
        try fixture.apply([fixture.event(
            .decided, id, at: "2026-03-13T10:00:00+07:00", data: .init(outcome: .approve, procedure: "P-TEST"))])
        #expect(try fixture.count(
            "SELECT count(*) FROM escalations WHERE dossier_id = $1 AND closed_at IS NOT NULL AND closed_by = 'decided'",
            [id]) == 2)
        #expect(try fixture.count("SELECT count(*) FROM deadlines WHERE dossier_id = $1 AND status <> 'closed'", [id]) == 0)
        #expect(try fixture.count(
            "SELECT late FROM on_time_statistics WHERE department = 'industry-trade' AND procedure = 'P-TEST'") == 1)
        #expect(try fixture.count(
            "SELECT count(*) FROM deadlines WHERE dossier_id = $1 AND step = -1 AND closed_on_time", [id]) == 1)
        try timer.refreshGauges()
        #expect(try metrics.expectGauge("motcua_deadlines_overdue", [("department", "industry-trade")]).lastValue == 0)
        #expect(try metrics.expectGauge("motcua_dossiers_open").lastValue == 0)
    }

    @Test("an authority escalation goes to the delegator with its reason and deadline, and closes with the decision")
    func authorityEscalation() throws {
        let fixture = try CoordinatorFixture()
        defer { fixture.drop() }
        let id = CoordinatorFixture.dossierId()
        try fixture.receive(id, at: "2026-03-02T09:00:00+07:00", due: "2026-03-20")
        try fixture.apply([fixture.event(
            .escalatedAuthority, id, at: "2026-03-03T10:00:00+07:00",
            data: .init(outcome: .escalate, escalationReason: .expired, procedure: "P-TEST"))])
        #expect(try fixture.count(
            "SELECT count(*) FROM escalations WHERE dossier_id = $1 AND kind = 'authority' AND level = 2 AND reason = 'expired'",
            [id]) == 1)
        // Five working days after Tuesday 3/3: Tuesday 10/3.
        #expect(try fixture.deadline(id, step: -2).due == "2026-03-10")
        #expect(try fixture.deadline(id, step: 0).status == "closed")
        #expect(try fixture.published(.escalatedAuthority, id) == 1)
        #expect(try fixture.count(
            "SELECT count(*) FROM dossier_status WHERE dossier_id = $1 AND status = 'escalated-authority' AND department = 'city'",
            [id]) == 1)
        try fixture.apply([fixture.event(
            .decided, id, department: "city", at: "2026-03-06T10:00:00+07:00", data: .init(outcome: .approve))])
        #expect(try fixture.count("SELECT count(*) FROM escalations WHERE dossier_id = $1 AND closed_at IS NULL", [id]) == 0)
        #expect(try fixture.count(
            "SELECT count(*) FROM deadlines WHERE dossier_id = $1 AND step = -2 AND closed_on_time", [id]) == 1)
    }

    @Test("an interconnected procedure has a deadline per step and one overall; the hand-over slip records who, when and how late")
    func interconnectedSteps() throws {
        let fixture = try CoordinatorFixture()
        defer { fixture.drop() }
        let id = CoordinatorFixture.dossierId()
        try fixture.receive(
            id, at: "2026-03-02T09:00:00+07:00", due: "2026-03-20", stepDue: "2026-03-06", department: "environment",
            procedure: "P-LT")
        // Environment forwards on Monday 9/3, after its step's due date (Friday 6/3).
        try fixture.apply([fixture.event(
            .forwarded, id, department: "environment", at: "2026-03-09T10:00:00+07:00",
            data: .init(outcome: .forward, forwardTo: "industry-trade", dueDate: "2026-03-16", procedure: "P-LT"))])
        #expect(try fixture.deadline(id, step: 0).status == "closed")
        #expect(try fixture.deadline(id, step: 1) == ("2026-03-16", "open", 0))
        let handOver = try fixture.database.query(
            "SELECT from_department, to_department, timing FROM dossier_timeline WHERE dossier_id = $1 AND type = 'forwarded'",
            [id])[0]
        #expect(try handOver.decode(String.self, "from_department") == "environment")
        #expect(try handOver.decode(String.self, "to_department") == "industry-trade")
        #expect(try handOver.decode(String.self, "timing") == "after")
        #expect(try fixture.count(
            "SELECT count(*) FROM dossier_status WHERE dossier_id = $1 AND department = 'industry-trade' AND step = 1",
            [id]) == 1)
        let timer = fixture.timer()
        fixture.clock.set(CoordinatorFixture.instant("2026-03-16T17:30:00+07:00"))
        try timer.fireDue()
        #expect(try fixture.deadline(id, step: 1).fired == 3)
        #expect(try fixture.deadline(id, step: -1).fired & 2 == 0)
        let head = fixture.bundle.catalogue.department("industry-trade")!.head
        #expect(try fixture.count(
            "SELECT count(*) FROM escalations WHERE dossier_id = $1 AND step = 1 AND level = 1 AND recipient = $2",
            [id, head]) == 1)
        try fixture.apply([fixture.event(
            .decided, id, step: 1, at: "2026-03-17T10:00:00+07:00", data: .init(outcome: .approve, procedure: "P-LT"))])
        #expect(try fixture.count(
            "SELECT late FROM on_time_statistics WHERE department = 'environment' AND procedure = 'P-LT'") == 1)
        #expect(try fixture.count(
            "SELECT late FROM on_time_statistics WHERE department = 'industry-trade' AND procedure = 'P-LT'") == 1)
        #expect(try fixture.count(
            "SELECT count(*) FROM deadlines WHERE dossier_id = $1 AND step = -1 AND closed_on_time", [id]) == 1)
        #expect(try fixture.count("SELECT count(*) FROM dossier_timeline WHERE dossier_id = $1", [id]) >= 5)
    }

    @Test("a republished event is applied once")
    func duplicateEvents() throws {
        let fixture = try CoordinatorFixture()
        defer { fixture.drop() }
        let id = CoordinatorFixture.dossierId()
        try fixture.receive(id, at: "2026-03-02T09:00:00+07:00", due: "2026-03-09")
        let pause = fixture.event(.supplementRequested, id, at: "2026-03-04T10:00:00+07:00")
        let resume = fixture.event(.supplemented, id, at: "2026-03-05T10:00:00+07:00")
        try fixture.apply([pause, resume])
        let report = try fixture.apply([pause, resume, resume])
        #expect(report.skippedDuplicates == 3)
        #expect(try fixture.deadline(id, step: 0).due == "2026-03-10")
    }
}
