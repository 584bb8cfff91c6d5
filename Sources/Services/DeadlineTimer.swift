import Authority
import EffectivelyOnce
import Foundation
import Kafka
import Logging
import Messages
import Metrics
import Operations
import Postgres
import Store
import Synchronization

/// Fires the deadlines held in PostgreSQL at the injected clock's "now": `due-soon`, `overdue` with the level-1
/// escalation to the department head, and the level-2 escalation to the delegator — each exactly once.
///
/// A round claims up to `batchSize` due rows with `FOR UPDATE SKIP LOCKED` and, in the same transaction, records
/// the levels fired in the row (`fired`), moves `next_fire_at`, opens the escalations, writes the timeline and the
/// `escalations` messages to the outbox. Several timers (processes or connections) share the work without firing
/// a row twice; a timer that crashes before its commit leaves the rows for the next one.
public final class DeadlineTimer: Sendable {
    public struct Settings: Sendable {
        /// Most deadlines per transaction. Default: 1,000.
        public var batchSize = 1_000
        /// Sleep when nothing is due. Default: 200 ms.
        public var idleWait: Duration = .milliseconds(200)
        /// How often the gauges (open dossiers, overdue by department, open escalations, lag) are refreshed.
        /// Default: 10 s.
        public var gaugeInterval: Duration = .seconds(10)
        /// The outbox source of the timer's messages (its relay publishes them). Default: `coordinator-timer`.
        public var outboxSource = "coordinator-timer"
        /// The system's topic names (the escalations it publishes). Default: production names.
        public var topics = Topics()
        /// Backoff while PostgreSQL is unavailable. Default: 100 ms doubling to 5 s.
        public var retry = PostgresConfiguration.RetryPolicy(
            attempts: .max, initialDelay: .milliseconds(100), maximumDelay: .seconds(5))
        public init() {}
    }

    public let settings: Settings
    private let postgres: PostgresConfiguration
    private let clock: any MotCuaClock
    private let recipients: EscalationRecipients
    let logger: Logger
    private let metrics: CoordinatorMetrics
    private let connection = Mutex<PostgresConnection?>(nil)
    private let stopping = Atomic<Bool>(false)
    let projectionGate: ProjectionGate?
    let waitingForProjection = Atomic<Bool>(false)
    private let healthy = Atomic<Bool>(false)
    private let afterCommit: @Sendable () -> Void

    public init(
        settings: Settings = Settings(), postgres: PostgresConfiguration, clock: any MotCuaClock,
        recipients: EscalationRecipients, logger: Logger, metrics factory: (any MetricsFactory)? = nil,
        afterCommit: @escaping @Sendable () -> Void = {}, waitFor projection: ProjectionGate? = nil
    ) {
        self.projectionGate = projection
        self.settings = settings
        self.postgres = postgres
        self.clock = clock
        self.recipients = recipients
        self.logger = logger
        self.metrics = CoordinatorMetrics(factory: factory ?? MetricsSystem.factory)
        self.afterCommit = afterCommit
    }

    /// Asks ``runBlocking()`` to return after its current round.
    public func stop() { stopping.store(true, ordering: .releasing) }

    /// Whether the last database operation succeeded.
    public var isHealthy: Bool { healthy.load(ordering: .relaxed) }

    /// Fires until ``stop()``, after the projection caught up when there is a gate (``ProjectionGate``). Blocking:
    /// call it on a thread of its own (``run()`` does, as a `Service`).
    public func runBlocking() {
        waitForProjection()
        var failures = 0
        var lastGauges = ContinuousClock.now - settings.gaugeInterval
        logger.info("deadline timer running", metadata: ["timer.batch_size": "\(settings.batchSize)"])
        while !stopping.load(ordering: .acquiring) {
            do {
                let fired = try fireRound()
                failures = 0
                if ContinuousClock.now - lastGauges >= settings.gaugeInterval {
                    try refreshGauges()
                    lastGauges = ContinuousClock.now
                }
                if fired < settings.batchSize { sleep(settings.idleWait) }
            } catch {
                failures += 1
                if let error = error as? PostgresError, error.isConnectionFailure {
                    connection.withLock { $0 = nil }
                    healthy.store(false, ordering: .relaxed)
                }
                logger.warning("deadline round failed; retrying", metadata: ["error": "\(error)"])
                sleep(settings.retry.delay(beforeAttempt: failures))
            }
        }
        logger.info("deadline timer stopped")
    }

    /// Fires everything due now, round after round; returns the deadlines handled.
    @discardableResult
    public func fireDue() throws -> Int {
        var total = 0
        while true {
            let fired = try fireRound()
            total += fired
            if fired < settings.batchSize { return total }
        }
    }

    /// One transaction: claims up to `batchSize` due deadlines and fires their due levels. Returns the rows claimed.
    @discardableResult
    public func fireRound() throws -> Int {
        let now = clock.now()
        let database = try databaseConnection()
        let encoder = MessageCoding.encoder()
        let (claimed, counts) = try database.transaction { tx -> (Int, [String: Int]) in
            let rows = try TimerStore.claimDue(now: now, limit: settings.batchSize, in: tx)
            var counts: [String: Int] = [:]
            // The stages' in-department escalations (issue 20), in the same transaction and behind the same gate.
            let stages = try fireStages(now: now, limit: settings.batchSize, in: tx, encoder: encoder, counts: &counts)
            if !stages.outbox.isEmpty {
                try OutboxWriter.write(
                    stages.outbox, source: settings.outboxSource, limits: settings.topics.messageSizeLimits, into: tx)
            }
            guard !rows.isEmpty else { return (stages.claimed, counts) }
            var round = TimerStore.Fired()
            var outbox: [OutboxMessage] = []
            outbox.reserveCapacity(rows.count)
            for row in rows {
                let id = row.dossierId
                let step = row.step
                let kind = DeadlineKind(rawValue: row.kind) ?? .step
                let department = row.department
                let dueDate = row.dueDate
                let schedule = (soon: row.soonAt, due: row.dueAt, level2: row.level2At)
                var fired = row.fired
                for level in DeadlineLevel.allCases where fired & level.rawValue == 0 {
                    let instant: Date? =
                        switch level {
                        case .dueSoon: schedule.soon
                        case .overdue: schedule.due
                        case .level2: schedule.level2
                        }
                    guard let instant, instant <= now else { continue }
                    fired |= level.rawValue
                    let escalates = kind != .overall
                    let event: CoordinatorEvent
                    switch level {
                    case .dueSoon:
                        event = CoordinatorEvent(
                            eventId: StableID.make("coordinator", "due-soon", id, String(step), dueDate), dossierId: id,
                            type: .dueSoon, step: step, department: department, dueDate: dueDate, at: now)
                    case .overdue:
                        round.overdue.append(id)
                        event = CoordinatorEvent(
                            eventId: StableID.make("coordinator", "overdue", id, String(step), dueDate), dossierId: id,
                            type: .overdue, step: step, department: department, dueDate: dueDate,
                            level: escalates ? 1 : nil, recipient: escalates ? recipients.head(of: department) : nil,
                            reason: "overdue", at: now)
                    case .level2:
                        event = CoordinatorEvent(
                            eventId: StableID.make("coordinator", "escalated-deadline", id, String(step), dueDate),
                            dossierId: id, type: .escalatedDeadline, step: step, department: department,
                            dueDate: dueDate, level: 2, recipient: recipients.delegator, reason: "overdue-unresolved",
                            at: now)
                    }
                    if let level = event.level, escalates {
                        round.escalations.append([
                            id, String(step), "deadline", String(level), event.reason, department?.rawValue, event.recipient,
                            PostgresTimestamp.format(now),
                        ])
                        counts["level\(level)", default: 0] += 1
                    }
                    counts[event.type.rawValue, default: 0] += 1
                    outbox.append(try event.outboxMessage(topics: settings.topics, encoder: encoder))
                    round.timeline.append([
                        id, event.eventId.uuidString.lowercased(), event.type.rawValue, String(step),
                        PostgresTimestamp.format(now), department?.rawValue, event.recipient, dueDate,
                        DeadlineStore.timing(now, due: LocalDateText.parse(dueDate)), event.reason,
                    ])
                }
                let next = [
                    fired & DeadlineLevel.dueSoon.rawValue == 0 ? schedule.soon : nil,
                    fired & DeadlineLevel.overdue.rawValue == 0 ? schedule.due : nil,
                    fired & DeadlineLevel.level2.rawValue == 0 ? schedule.level2 : nil,
                ].compactMap { $0 }.min()
                round.ids.append(id)
                round.steps.append(String(step))
                round.fired.append(String(fired))
                round.next.append(next.map(PostgresTimestamp.format) ?? "")
            }
            try TimerStore.record(round, in: tx)
            try OutboxWriter.write(outbox, source: settings.outboxSource, limits: settings.topics.messageSizeLimits, into: tx)
            return (max(rows.count, stages.claimed), counts)
        }
        healthy.store(true, ordering: .relaxed)
        if claimed > 0 {
            metrics.fired(counts)
            afterCommit()
        }
        return claimed
    }

    /// Refreshes the gauges from PostgreSQL: open dossiers, overdue deadlines by department, open escalations by
    /// level, and the timer lag (now minus the due instant of the oldest unfired timer).
    public func refreshGauges() throws {
        let database = try databaseConnection()
        let now = clock.now()
        let gauges = try TimerStore.gauges(on: database)
        let oldest = gauges.oldestDue
        let lag = oldest.map { max(0, now.timeIntervalSince($0)) } ?? 0
        metrics.gauges(
            openDossiers: gauges.openDossiers, overdue: gauges.overdueByDepartment,
            escalations: gauges.openEscalationsByLevel, lag: lag)
    }

    func databaseConnection() throws -> PostgresConnection {
        if let existing = connection.withLock({ $0 }) { return existing }
        var config = postgres
        config.retry.attempts = 1
        let fresh = try PostgresConnection.connect(config, logger: logger)
        connection.withLock { $0 = fresh }
        healthy.store(true, ordering: .relaxed)
        return fresh
    }

    var isStopping: Bool { stopping.load(ordering: .acquiring) }

    func pause(_ duration: Duration) { sleep(duration) }

    private func sleep(_ duration: Duration) {
        let deadline = ContinuousClock.now + duration
        while ContinuousClock.now < deadline && !stopping.load(ordering: .acquiring) {
            Thread.sleep(forTimeInterval: min(0.05, (deadline - ContinuousClock.now).seconds))
        }
    }
}

/// `YYYY-MM-DD` as the server sends a `date`.
package enum LocalDateText {
    static func parse(_ text: String) -> LocalDate { LocalDate(text) ?? LocalDate(dayNumber: 0) }
}
