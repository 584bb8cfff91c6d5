import Authority
import Foundation
import Messages
import Postgres
import Services
import Store
import TestSupport
import Testing

/// Issue 20: a stage's deadline inside the department pauses with its step. While the step waits for a fee or a
/// supplement the stage's due instant does not run and no in-department escalation fires; when the step resumes
/// the stage's due instant moves by the working days paused, counted as the step's own deadline counts them.
@Suite("Stage deadlines pause with the step")
struct StagePauseTests {
    static func row(_ fixture: CoordinatorFixture, _ id: String) throws -> (due: Date, head: Date, director: Date, next: Date?) {
        let row = try fixture.database.query(
            "SELECT due_at, head_at, director_at, next_fire_at FROM stage_deadlines WHERE dossier_id = $1", [id])[0]
        return (
            try row.decode(Date.self, "due_at"), try row.decode(Date.self, "head_at"),
            try row.decode(Date.self, "director_at"), try row.decodeIfPresent(Date.self, "next_fire_at")
        )
    }

    static func escalations(_ fixture: CoordinatorFixture, _ id: String) throws -> [String] {
        try fixture.database.query(
            "SELECT level || ' ' || reason AS e FROM stage_escalations WHERE dossier_id = $1 ORDER BY opened_at", [id]
        ).map { try $0.decode(String.self, "e") }
    }

    @Test("a fee pause stops the stage's clock: nothing escalates while paused; on payment the stage's due instant moves by the step's paused working days and escalates from there, once")
    func feePauseMovesTheStage() throws {
        let fixture = try CoordinatorFixture()
        defer { fixture.drop() }
        let id = CoordinatorFixture.dossierId()
        // Received Monday 2 March 2026; the specialist's stage is due Friday 6 March at 17:00.
        try fixture.receive(id, at: "2026-03-02T09:00:00+07:00", due: "2026-03-20")
        let due = CoordinatorFixture.instant("2026-03-06T17:00:00+07:00")
        try fixture.apply([
            fixture.event(
                .stageMoved, id, at: "2026-03-02T09:00:01+07:00",
                data: .init(action: "assign", stage: "examine", assignee: "cv-1", dueAt: due))
        ])
        #expect(try Self.row(fixture, id).next == CoordinatorFixture.instant("2026-03-05T17:00:00+07:00"))
        // Fee requested Wednesday 4 March: the step and its stage stop.
        try fixture.apply([
            fixture.event(
                .feeRequested, id, at: "2026-03-04T10:00:00+07:00",
                data: .init(outcome: .approve, review: .official, procedure: "P-TEST", amount: 500_000))
        ])
        #expect(try fixture.deadline(id, step: 0).status == "paused")
        #expect(try Self.row(fixture, id).next == nil)
        // Past the stage's due-soon, due and director instants as first planned: nothing fires.
        let timer = fixture.timer()
        for instant in ["2026-03-05T17:01:00+07:00", "2026-03-06T17:01:00+07:00", "2026-03-09T17:01:00+07:00"] {
            fixture.clock.set(CoordinatorFixture.instant(instant))
            _ = try timer.fireDue()
        }
        #expect(try Self.escalations(fixture, id).isEmpty)
        #expect(try fixture.published(.stageEscalated, id) == 0)

        // Paid Tuesday 10 March: paused Wed 4, Thu 5, Fri 6 and Mon 9 = 4 working days, as the step counts them.
        fixture.clock.set(CoordinatorFixture.instant("2026-03-10T10:00:00+07:00"))
        try fixture.apply([
            fixture.event(
                .feePaid, id, at: "2026-03-10T10:00:00+07:00",
                data: .init(official: "payment-gateway", amount: 500_000, paymentChannel: "counter", receipt: "R-9"))
        ])
        let paused = try fixture.count(
            "SELECT working_days FROM deadline_pauses WHERE dossier_id = $1 AND step = 0 AND ended_at IS NOT NULL", [id])
        #expect(paused == 4)
        #expect(try fixture.deadline(id, step: 0).due == "2026-03-26")
        let moved = try Self.row(fixture, id)
        // Friday 6 March + 4 working days = Thursday 12 March, 17:00; due soon from Wednesday 11 at 17:00; the
        // director a working day after the due instant, Friday 13 at 17:00.
        #expect(moved.due == CoordinatorFixture.instant("2026-03-12T17:00:00+07:00"))
        #expect(moved.head == CoordinatorFixture.instant("2026-03-11T17:00:00+07:00"))
        #expect(moved.director == CoordinatorFixture.instant("2026-03-13T17:00:00+07:00"))
        #expect(moved.next == moved.head)
        _ = try timer.fireDue()
        #expect(try Self.escalations(fixture, id).isEmpty, "the moved stage is not due soon yet")
        fixture.clock.set(CoordinatorFixture.instant("2026-03-11T17:01:00+07:00"))
        _ = try timer.fireDue()
        _ = try timer.fireDue()
        #expect(try Self.escalations(fixture, id) == ["head due-soon"])
        #expect(try fixture.published(.stageEscalated, id) == 1)
    }

    @Test("a stage handed over while the step waits for its fee fires nothing until the payment; then it moves by the working days since its own entry")
    func stageEnteredDuringAPause() throws {
        let fixture = try CoordinatorFixture()
        defer { fixture.drop() }
        let id = CoordinatorFixture.dossierId()
        try fixture.receive(id, at: "2026-03-02T09:00:00+07:00", due: "2026-03-20")
        try fixture.apply([
            fixture.event(
                .feeRequested, id, at: "2026-03-02T10:00:00+07:00",
                data: .init(outcome: .approve, review: .official, procedure: "P-TEST", amount: 500_000))
        ])
        // Handed over (proposed to the head) Wednesday 4 March during the pause, due Monday 9 March at 17:00.
        try fixture.apply([
            fixture.event(
                .stageMoved, id, at: "2026-03-04T09:00:00+07:00",
                data: .init(official: "cv-1", action: "propose", stage: "check", assignee: "tp-1",
                            dueAt: CoordinatorFixture.instant("2026-03-09T17:00:00+07:00")))
        ])
        #expect(try Self.row(fixture, id).next == nil)
        fixture.clock.set(CoordinatorFixture.instant("2026-03-11T09:00:00+07:00"))
        _ = try fixture.timer().fireDue()
        #expect(try Self.escalations(fixture, id).isEmpty)
        // Paid Wednesday 11 March: the step paused Mon 2 .. Tue 10 (7 working days), the stage only from its entry,
        // Wed 4 .. Tue 10: 5 working days. Monday 9 + 5 = Monday 16 March, 17:00.
        try fixture.apply([
            fixture.event(
                .feePaid, id, at: "2026-03-11T09:00:00+07:00",
                data: .init(official: "payment-gateway", amount: 500_000, paymentChannel: "counter", receipt: "R-7"))
        ])
        #expect(try fixture.count(
            "SELECT working_days FROM deadline_pauses WHERE dossier_id = $1 AND step = 0", [id]) == 7)
        let moved = try Self.row(fixture, id)
        #expect(moved.due == CoordinatorFixture.instant("2026-03-16T17:00:00+07:00"))
        #expect(moved.next == CoordinatorFixture.instant("2026-03-13T17:00:00+07:00"))
        _ = try fixture.timer().fireDue()
        #expect(try Self.escalations(fixture, id).isEmpty)
    }

    @Test("a supplement request stops the stage's clock; the applicant's supplement opens the next round, which closes the previous round's stage: it never escalates")
    func supplementClosesThePreviousRound() throws {
        let fixture = try CoordinatorFixture()
        defer { fixture.drop() }
        let id = CoordinatorFixture.dossierId()
        try fixture.receive(id, at: "2026-03-02T09:00:00+07:00", due: "2026-03-20")
        try fixture.apply([
            fixture.event(
                .stageMoved, id, at: "2026-03-02T09:00:01+07:00",
                data: .init(action: "assign", stage: "examine", assignee: "cv-1",
                            dueAt: CoordinatorFixture.instant("2026-03-06T17:00:00+07:00"))),
            fixture.event(.supplementRequested, id, at: "2026-03-03T10:00:00+07:00", data: .init(reason: "page 2")),
        ])
        #expect(try Self.row(fixture, id).next == nil)
        fixture.clock.set(CoordinatorFixture.instant("2026-03-10T09:00:00+07:00"))
        _ = try fixture.timer().fireDue()
        #expect(try Self.escalations(fixture, id).isEmpty)
        try fixture.apply([fixture.event(.supplemented, id, round: 1, at: "2026-03-10T09:00:00+07:00")])
        #expect(try fixture.count(
            "SELECT count(*) FROM stage_deadlines WHERE dossier_id = $1 AND status = 'closed' AND round = 0", [id]) == 1)
        fixture.clock.set(CoordinatorFixture.instant("2026-03-20T09:00:00+07:00"))
        _ = try fixture.timer().fireDue()
        #expect(try Self.escalations(fixture, id).isEmpty)
    }
}
