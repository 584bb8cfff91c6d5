import Audit
import EffectivelyOnce
import Foundation
import Kafka
import Messages
import Pages
import Postgres
import ServiceCommands
import Services
import Simulation
import Store
import TestSupport
import Testing

@Suite("Coordinator timers")
struct CoordinatorTimerTests {
    /// `count` open step deadlines, all overdue at 2026-03-10 (due 9/3, due-soon 5/3, level 2 on 12/3).
    static func seed(_ fixture: CoordinatorFixture, count: Int) throws {
        try fixture.database.execute(
            """
            INSERT INTO deadlines (dossier_id, step, kind, department, procedure, opened_at, due_date, soon_at, due_at,
                                   level2_at, next_fire_at)
            SELECT 'd-' || i, 0, 'step', 'labour', 'P-TEST', '2026-03-02 02:00+00', '2026-03-09',
                   '2026-03-05 01:00+00', '2026-03-09 10:00+00', '2026-03-12 10:00+00', '2026-03-05 01:00+00'
            FROM generate_series(1, $1::int) AS i
            """, [count])
    }

    @Test("a restarted timer fires exactly what it had not fired, none twice")
    func restart() throws {
        let fixture = try CoordinatorFixture(at: "2026-03-10T09:00:00+07:00")
        defer { fixture.drop() }
        try Self.seed(fixture, count: 50)
        let first = fixture.timer(batchSize: 10)
        #expect(try first.fireRound() == 10)
        #expect(try first.fireRound() == 10)
        // A round that dies before its commit fires nothing: hold 10 rows in a transaction, then abandon it.
        let dying = try PostgresConnection.connect(fixture.postgres, logger: TestEnvironment.logger)
        try dying.executeScript("BEGIN")
        let locked = try dying.query(
            "SELECT dossier_id FROM deadlines WHERE fired = 0 ORDER BY dossier_id LIMIT 10 FOR UPDATE SKIP LOCKED")
        #expect(locked.count == 10)
        // The restarted timer (a new instance, a new connection) skips the locked rows and fires the rest.
        let restarted = fixture.timer(batchSize: 10)
        #expect(try restarted.fireDue() == 20)
        try dying.executeScript("ROLLBACK")
        #expect(try restarted.fireDue() == 10)
        #expect(try restarted.fireDue() == 0)
        #expect(try fixture.count("SELECT count(*) FROM outbox WHERE ce_type = $1", [CoordinatorEvent.messageType(.overdue)]) == 50)
        #expect(try fixture.count("SELECT count(*) FROM outbox WHERE ce_type = $1", [CoordinatorEvent.messageType(.dueSoon)]) == 50)
        #expect(try fixture.count("SELECT count(*) FROM escalations WHERE level = 1") == 50)
        #expect(try fixture.count("SELECT count(*) FROM deadlines WHERE fired = 3") == 50)
        // Later, level 2 fires once for each, whichever instance runs.
        fixture.clock.set(CoordinatorFixture.instant("2026-03-12T17:00:00+07:00"))
        #expect(try first.fireDue() == 50)
        #expect(try restarted.fireDue() == 0)
        #expect(try fixture.count("SELECT count(*) FROM escalations WHERE level = 2") == 50)
        #expect(try fixture.count("SELECT count(*) FROM deadlines WHERE next_fire_at IS NULL AND fired = 7") == 50)
    }

    @Test("two timers on two connections, running concurrently, never fire the same timer")
    func concurrentTimers() async throws {
        let fixture = try CoordinatorFixture(at: "2026-03-10T09:00:00+07:00")
        defer { fixture.drop() }
        try Self.seed(fixture, count: 2_000)
        let timers = [fixture.timer(batchSize: 25), fixture.timer(batchSize: 25)]
        let claimed = try await withThrowingTaskGroup(of: Int.self) { group in
            for (index, timer) in timers.enumerated() {
                group.addTask { try await onThread("timer-\(index)") { try timer.fireDue() } }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(claimed.reduce(0, +) == 2_000)
        // The unique (dossier, step, kind, level) of escalations and of outbox event ids would have failed a
        // double firing; count them anyway.
        #expect(try fixture.count("SELECT count(*) FROM escalations WHERE level = 1") == 2_000)
        #expect(try fixture.count("SELECT count(DISTINCT dossier_id) FROM escalations") == 2_000)
        #expect(try fixture.count("SELECT count(*) FROM outbox WHERE ce_type = $1", [CoordinatorEvent.messageType(.overdue)]) == 2_000)
        #expect(try fixture.count("SELECT count(*) FROM deadlines WHERE fired = 3") == 2_000)
        #expect(try timers[0].fireDue() + timers[1].fireDue() == 0)
    }
}
