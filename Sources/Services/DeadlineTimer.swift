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
    private let logger: Logger
    private let metrics: CoordinatorMetrics
    private let connection = Mutex<PostgresConnection?>(nil)
    private let stopping = Atomic<Bool>(false)
    private let healthy = Atomic<Bool>(false)
    private let afterCommit: @Sendable () -> Void

    public init(
        settings: Settings = Settings(), postgres: PostgresConfiguration, clock: any MotCuaClock,
        recipients: EscalationRecipients, logger: Logger, metrics factory: (any MetricsFactory)? = nil,
        afterCommit: @escaping @Sendable () -> Void = {}
    ) {
        self.settings = settings
        self.postgres = postgres
        self.clock = clock
        self.recipients = recipients
        self.logger = logger
        self.metrics = CoordinatorMetrics(factory: factory ?? MetricsSystem.factory)
        self.afterCommit = afterCommit
    }

    /// Asks ``run()`` to return after its current round.
    public func stop() { stopping.store(true, ordering: .releasing) }

    /// Whether the last database operation succeeded.
    public var isHealthy: Bool { healthy.load(ordering: .relaxed) }

    /// Fires until ``stop()``. Blocking: call it on a thread of its own.
    public func run() {
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
            let rows = try tx.query(
                """
                SELECT dossier_id, step, kind, department, due_date::text AS due_date, soon_at, due_at, level2_at, fired
                FROM deadlines WHERE status = 'open' AND next_fire_at <= $1
                ORDER BY next_fire_at LIMIT $2 FOR UPDATE SKIP LOCKED
                """, [now, settings.batchSize])
            guard !rows.isEmpty else { return (0, [:]) }
            var updates: (ids: [String], steps: [String], fired: [String], next: [String]) = ([], [], [], [])
            var outbox: [OutboxMessage] = []
            var escalations: [[String?]] = []
            var timeline: [[String?]] = []
            var overdue: [String] = []
            var counts: [String: Int] = [:]
            outbox.reserveCapacity(rows.count)
            for row in rows {
                let id = try row.decode(String.self, "dossier_id")
                let step = try row.decode(Int.self, "step")
                let kind = DeadlineKind(rawValue: try row.decode(String.self, "kind")) ?? .step
                let department = try row.decodeIfPresent(String.self, "department")
                let dueDate = try row.decode(String.self, "due_date")
                let schedule = (
                    soon: try row.decodeIfPresent(Date.self, "soon_at"), due: try row.decode(Date.self, "due_at"),
                    level2: try row.decodeIfPresent(Date.self, "level2_at"))
                var fired = try row.decode(Int.self, "fired")
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
                        overdue.append(id)
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
                        escalations.append([
                            id, String(step), "deadline", String(level), event.reason, department, event.recipient,
                            PostgresTimestamp.format(now),
                        ])
                        counts["level\(level)", default: 0] += 1
                    }
                    counts[event.type.rawValue, default: 0] += 1
                    outbox.append(try event.outboxMessage(topics: settings.topics, encoder: encoder))
                    timeline.append([
                        id, event.eventId.uuidString.lowercased(), event.type.rawValue, String(step),
                        PostgresTimestamp.format(now), department, event.recipient, dueDate,
                        DeadlineStore.timing(now, due: LocalDateText.parse(dueDate)), event.reason,
                    ])
                }
                let next = [
                    fired & DeadlineLevel.dueSoon.rawValue == 0 ? schedule.soon : nil,
                    fired & DeadlineLevel.overdue.rawValue == 0 ? schedule.due : nil,
                    fired & DeadlineLevel.level2.rawValue == 0 ? schedule.level2 : nil,
                ].compactMap { $0 }.min()
                updates.ids.append(id)
                updates.steps.append(String(step))
                updates.fired.append(String(fired))
                updates.next.append(next.map(PostgresTimestamp.format) ?? "")
            }
            try tx.execute(
                """
                UPDATE deadlines AS d SET fired = u.fired::int2, next_fire_at = NULLIF(u.next, '')::timestamptz
                FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS u(dossier_id, step, fired, next)
                WHERE d.dossier_id = u.dossier_id AND d.step = u.step::int4
                """, [updates.ids, updates.steps, updates.fired, updates.next])
            if !escalations.isEmpty {
                try tx.copyIn(
                    "COPY escalations (dossier_id, step, kind, level, reason, department, recipient, opened_at) FROM STDIN"
                ) { writer in
                    for row in escalations { try writer.row(text: row) }
                }
            }
            if !timeline.isEmpty {
                try tx.copyIn(
                    """
                    COPY dossier_timeline (dossier_id, event_id, type, step, at, from_department, to_department, due_date,
                                           timing, detail) FROM STDIN
                    """
                ) { writer in
                    for row in timeline { try writer.row(text: row) }
                }
            }
            if !overdue.isEmpty {
                try tx.execute("UPDATE dossier_status SET overdue = true WHERE dossier_id = ANY($1::text[])", [overdue])
            }
            try OutboxWriter.write(outbox, source: settings.outboxSource, into: tx)
            return (rows.count, counts)
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
        let open = try database.query(
            """
            SELECT count(*) AS n FROM dossier_status
            WHERE status NOT IN ('decided', 'intake-refused', 'intake-incomplete')
            """)[0].decode(Int.self, "n")
        var overdue: [String: Int] = [:]
        for row in try database.query(
            """
            SELECT COALESCE(department, '') AS department, count(*) AS n FROM deadlines
            WHERE status <> 'closed' AND kind <> 'overall' AND fired & 2 <> 0 GROUP BY 1
            """)
        {
            overdue[try row.decode(String.self, "department")] = try row.decode(Int.self, "n")
        }
        var escalations: [Int: Int] = [:]
        for row in try database.query(
            "SELECT level, count(*) AS n FROM escalations WHERE closed_at IS NULL GROUP BY level")
        {
            escalations[try row.decode(Int.self, "level")] = try row.decode(Int.self, "n")
        }
        let oldest = try database.query(
            "SELECT min(next_fire_at) AS t FROM deadlines WHERE status = 'open' AND next_fire_at IS NOT NULL"
        )[0].decodeIfPresent(Date.self, "t")
        let lag = oldest.map { max(0, now.timeIntervalSince($0)) } ?? 0
        metrics.gauges(openDossiers: open, overdue: overdue, escalations: escalations, lag: lag)
    }

    private func databaseConnection() throws -> PostgresConnection {
        if let existing = connection.withLock({ $0 }) { return existing }
        var config = postgres
        config.retry.attempts = 1
        let fresh = try PostgresConnection.connect(config, logger: logger)
        connection.withLock { $0 = fresh }
        healthy.store(true, ordering: .relaxed)
        return fresh
    }

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
