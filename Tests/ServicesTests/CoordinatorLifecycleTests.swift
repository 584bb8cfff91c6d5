import Audit
import Authority
import EffectivelyOnce
import Foundation
import Messages
import Pages
import Postgres
import ServiceCommands
import Services
import Simulation
import Store
import TestSupport
import Testing

@Suite("Coordinator lifecycle ends")
struct CoordinatorLifecycleTests {
    @Test("a withdrawal closes the escalations and deadlines, counted neither on time nor late")
    func withdrawalClosesEscalations() throws {
        let fixture = try CoordinatorFixture()
        defer { fixture.drop() }
        let id = CoordinatorFixture.dossierId()
        try fixture.receive(id, at: "2026-03-02T09:00:00+07:00", due: "2026-03-20", stepDue: "2026-03-09")
        let timer = fixture.timer()
        fixture.clock.set(CoordinatorFixture.instant("2026-03-09T17:30:00+07:00"))
        try timer.fireDue()
        #expect(try fixture.count("SELECT count(*) FROM escalations WHERE dossier_id = $1 AND closed_at IS NULL", [id]) == 1)
        try fixture.apply([fixture.event(
            .withdrawn, id, at: "2026-03-10T10:00:00+07:00", data: .init(reason: "applicant request"))])
        #expect(try fixture.count(
            "SELECT count(*) FROM escalations WHERE dossier_id = $1 AND closed_at IS NOT NULL AND closed_by = 'withdrawn'",
            [id]) == 1)
        #expect(try fixture.count("SELECT count(*) FROM deadlines WHERE dossier_id = $1 AND status <> 'closed'", [id]) == 0)
        #expect(try fixture.count(
            "SELECT count(*) FROM deadlines WHERE dossier_id = $1 AND closed_on_time IS NOT NULL", [id]) == 0)
        #expect(try fixture.count(
            "SELECT count(*) FROM dossier_status WHERE dossier_id = $1 AND status = 'withdrawn'", [id]) == 1)
        // The timer has nothing left to fire for it, however late it gets.
        fixture.clock.set(CoordinatorFixture.instant("2026-04-30T17:00:00+07:00"))
        try timer.fireDue()
        #expect(try fixture.count("SELECT count(*) FROM escalations WHERE dossier_id = $1", [id]) == 1)
        let stats = try fixture.database.query(
            "SELECT on_time, late, open FROM on_time_statistics WHERE department = 'industry-trade' AND procedure = 'P-TEST'"
        ).first
        #expect(try stats?.decode(Int.self, "on_time") == 0)
        #expect(try stats?.decode(Int.self, "late") == 0)
        #expect(try stats?.decode(Int.self, "open") == 0)
    }

    @Test("a refused withdrawal leaves the status as it was; result-returned ends the lifecycle and closes what is open")
    func resultReturned() throws {
        let fixture = try CoordinatorFixture()
        defer { fixture.drop() }
        let id = CoordinatorFixture.dossierId()
        try fixture.receive(id, at: "2026-03-02T09:00:00+07:00", due: "2026-03-20")
        try fixture.apply([fixture.event(
            .escalatedAuthority, id, at: "2026-03-03T10:00:00+07:00",
            data: .init(outcome: .escalate, escalationReason: .revoked, procedure: "P-TEST"))])
        try fixture.apply([fixture.event(
            .withdrawalRejected, id, at: "2026-03-03T11:00:00+07:00", data: .init(reason: "the dossier is already decided"))])
        #expect(try fixture.count(
            "SELECT count(*) FROM dossier_status WHERE dossier_id = $1 AND status = 'escalated-authority'", [id]) == 1)
        #expect(try fixture.count(
            "SELECT count(*) FROM dossier_timeline WHERE dossier_id = $1 AND type = 'withdrawal-rejected'", [id]) == 1)
        try fixture.apply([fixture.event(
            .resultReturned, id, department: "city", at: "2026-03-05T10:00:00+07:00")])
        #expect(try fixture.count(
            "SELECT count(*) FROM escalations WHERE dossier_id = $1 AND closed_by = 'result-returned'", [id]) == 1)
        #expect(try fixture.count("SELECT count(*) FROM deadlines WHERE dossier_id = $1 AND status <> 'closed'", [id]) == 0)
        #expect(try fixture.count(
            "SELECT count(*) FROM dossier_status WHERE dossier_id = $1 AND status = 'result-returned'", [id]) == 1)
        #expect(try fixture.count(
            """
            SELECT count(*) FROM dossier_timeline WHERE dossier_id = $1 AND type = 'result-returned'
                AND from_department = 'one-stop desk' AND to_department = 'applicant'
            """, [id]) == 1)
    }
}
