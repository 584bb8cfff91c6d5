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

@Suite("Deadline timer after a start")
struct TimerProjectionGateTests {
    @Test("a started timer waits until the projection reached dossier.events' watermarks: a dossier decided on the topic but not yet projected is never escalated")
    func waitsForLaggingProjection() async throws {
        let fixture = try CoordinatorFixture()
        defer { fixture.drop() }
        let kafka = KafkaClientOptions(bootstrapServers: try TestEnvironment.kafkaBootstrap())
        let topics = try TestTopics.system("timergate")
        let group = topics.group("motcua.coordinator")
        let decided = CoordinatorFixture.dossierId()
        let open = CoordinatorFixture.dossierId()
        // Both projected as received, due Monday 9/3; the decision of one is on the topic only.
        try fixture.receive(decided, at: "2026-03-02T09:00:00+07:00", due: "2026-03-09")
        try fixture.receive(open, at: "2026-03-02T09:00:00+07:00", due: "2026-03-09")
        let producer = try KafkaProducer(
            configuration: KafkaProducerConfiguration(client: kafka), logger: TestEnvironment.logger)
        let decision = fixture.event(
            .decided, decided, at: "2026-03-06T10:00:00+07:00", data: .init(outcome: .approve))
        try producer.produce(KafkaOutgoingMessage(
            topic: topics.events, key: decided, value: Array(try MessageCoding.encoder().encode(decision)),
            headers: [KafkaHeader("ce_type", MessageType.event)]))
        try producer.flush()
        // Both overdue now: a timer that did not wait would escalate the decided dossier at once.
        fixture.clock.set(CoordinatorFixture.instant("2026-03-10T09:00:00+07:00"))
        var timerSettings = DeadlineTimer.Settings()
        timerSettings.idleWait = .milliseconds(50)
        let timer = DeadlineTimer(
            settings: timerSettings, postgres: fixture.postgres, clock: fixture.clock,
            recipients: EscalationRecipients(catalogue: fixture.bundle.catalogue), logger: TestEnvironment.logger,
            waitFor: try DeadlineTimer.ProjectionGate(
                group: group, topic: topics.events, kafka: kafka, logger: TestEnvironment.logger))
        let timerRun = Task.detached { try await onThread("timer") { timer.runBlocking() } }
        defer { timer.stop() }
        // Reading the watermarks of a fresh topic's partitions can take a while on the loaded devbroker.
        let waiting = await eventually(timeout: TestEnvironment.consumerDeadline) { timer.isWaitingForProjection }
        #expect(waiting)
        #expect(try fixture.count("SELECT count(*) FROM escalations", []) == 0)

        // The projection catches up through its consumer; only then does the timer fire, and only for the open one.
        var settings = EffectivelyOnceConsumer.Settings(group: group, topics: [topics.events])
        settings.batchSize = 100
        let consumer = EffectivelyOnceConsumer(
            settings: settings, kafka: kafka, postgres: fixture.postgres, writer: fixture.projection,
            logger: TestEnvironment.logger)
        let consumerRun = Task.detached { try await onThread("projection") { try consumer.runBlocking() } }
        defer { consumer.stop() }
        let escalated = await eventually(timeout: TestEnvironment.consumerDeadline) {
            try fixture.count("SELECT count(*) FROM escalations WHERE dossier_id = $1", [open]) == 1
        }
        #expect(escalated)
        #expect(!timer.isWaitingForProjection)
        #expect(try fixture.count("SELECT count(*) FROM escalations WHERE dossier_id = $1", [decided]) == 0)
        #expect(try fixture.count(
            "SELECT count(*) FROM deadlines WHERE dossier_id = $1 AND status = 'closed' AND fired = 0", [decided]) == 2)
        #expect(try fixture.published(.overdue, decided) == 0)
        timer.stop()
        consumer.stop()
        try await timerRun.value
        try await consumerRun.value
    }
}
