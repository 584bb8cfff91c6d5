import Foundation
import Kafka
import Logging
import Metrics
import Postgres
import Synchronization

/// Publishes a source's outbox rows to Kafka with the idempotent producer, in id order, and marks them sent.
///
/// One relay per source is active at a time (a PostgreSQL advisory lock held by its session); others of the same
/// source wait as standbys. A crash between publishing and marking publishes those rows again: every message
/// carries its stable `ce_id`, and consumers ignore ids they have seen.
public final class OutboxRelay: Sendable {
    public struct Settings: Sendable {
        public var source: String
        /// Rows per round. Default: 2,000.
        public var batchSize: Int = 2_000
        /// How long to wait for new rows when there are none (a commit in this process wakes it at once).
        /// Default: 100 ms.
        public var idleWait: Duration = .milliseconds(100)
        public init(source: String) { self.source = source }
    }

    private final class Wakeup: Sendable {
        let semaphore = DispatchSemaphore(value: 0)
        let pending = Atomic<Bool>(false)
    }

    public let settings: Settings
    private let producer: KafkaProducer
    private let postgres: PostgresConfiguration
    private let logger: Logger
    private let stopping = Atomic<Bool>(false)
    private let wakeup = Wakeup()
    private let published: Counter

    public init(settings: Settings, kafka: KafkaClientOptions, postgres: PostgresConfiguration, logger: Logger) throws {
        self.settings = settings
        var config = KafkaProducerConfiguration(client: kafka)
        config.linger = .milliseconds(1)
        config.deliveryTimeout = .seconds(15)
        self.producer = try KafkaProducer(configuration: config, logger: logger)
        self.postgres = postgres
        self.logger = logger
        self.published = Counter(label: "messaging_client_sent_messages", dimensions: [("outbox_source", settings.source)])
    }

    /// Wakes the relay: new rows were committed.
    public func nudge() {
        if !wakeup.pending.exchange(true, ordering: .acquiringAndReleasing) { wakeup.semaphore.signal() }
    }

    /// Asks ``run()`` to publish what is left and return.
    public func stop() {
        stopping.store(true, ordering: .releasing)
        wakeup.semaphore.signal()
    }

    /// Publishes until ``stop()``; on stop, one last round drains what was committed. Blocking: own thread.
    public func run() {
        var connection: PostgresConnection?
        var attempt = 0
        while true {
            let stopRequested = stopping.load(ordering: .acquiring)
            do {
                if connection == nil {
                    var config = postgres
                    config.retry.attempts = 1
                    let fresh = try PostgresConnection.connect(config, logger: logger)
                    try waitForLock(fresh)
                    connection = fresh
                }
                // Forget the wake-ups this read serves, then clear the flag before reading: a commit that lands
                // after the read nudges again, so its rows never wait out the idle timeout.
                while wakeup.semaphore.wait(timeout: .now()) == .success {}
                wakeup.pending.store(false, ordering: .releasing)
                let sent = try relayOnce(connection!)
                attempt = 0
                if sent > 0 { continue }
                if stopRequested { break }
                _ = wakeup.semaphore.wait(timeout: .now() + settings.idleWait.seconds)
            } catch {
                if let error = error as? PostgresError, error.isConnectionFailure { connection = nil }
                if stopRequested { break }
                attempt += 1
                logger.warning("outbox relay retrying", metadata: ["outbox.source": "\(settings.source)", "error": "\(error)"])
                Thread.sleep(forTimeInterval: min(5, 0.1 * Double(1 << min(attempt, 6))))
            }
        }
        try? producer.close(timeout: .seconds(10))
    }

    private func waitForLock(_ connection: PostgresConnection) throws {
        while true {
            let got = try connection.query(
                "SELECT pg_try_advisory_lock(hashtext($1)) AS got", ["motcua.outbox." + settings.source]
            )[0].decode(Bool.self, "got")
            if got { return }
            if stopping.load(ordering: .acquiring) { throw CancellationError() }
            // Another relay of this source is active; stand by.
            Thread.sleep(forTimeInterval: 1)
        }
    }

    /// Publishes up to one batch of unsent rows; returns how many.
    func relayOnce(_ connection: PostgresConnection) throws -> Int {
        let rows = try connection.query(
            """
            SELECT id, event_id, topic, key, ce_type, payload, headers FROM outbox
            WHERE source = $1 AND sent_at IS NULL ORDER BY id LIMIT $2
            """, [settings.source, settings.batchSize])
        guard !rows.isEmpty else { return 0 }
        let before = producer.failedDeliveries
        var ids: [Int64] = []
        ids.reserveCapacity(rows.count)
        for row in rows {
            ids.append(try row.decode(Int64.self, "id"))
            let eventId = try row.decode(String.self, "event_id")
            var headers = [
                KafkaHeader("ce_specversion", "1.0"), KafkaHeader("ce_id", eventId),
                KafkaHeader("ce_type", try row.decode(String.self, "ce_type")),
                KafkaHeader("ce_source", "motcua/\(settings.source)"), KafkaHeader("content-type", "application/json"),
            ]
            if let extra = try row.decodeIfPresent(PostgresJSON.self, "headers"),
                let object = try? JSONSerialization.jsonObject(with: Data(extra.text.utf8)) as? [String: String]
            {
                for (name, value) in object.sorted(by: { $0.key < $1.key }) { headers.append(KafkaHeader(name, value)) }
            }
            try producer.produce(KafkaOutgoingMessage(
                topic: try row.decode(String.self, "topic"), key: try row.decode(String.self, "key"),
                value: try row.decode(PostgresBytes.self, "payload").bytes, headers: headers))
        }
        try producer.flush(timeout: .seconds(30))
        guard producer.failedDeliveries == before else {
            throw KafkaError(.delivery, "\(producer.failedDeliveries - before) outbox messages were not acknowledged")
        }
        try connection.execute("UPDATE outbox SET sent_at = now() WHERE id = ANY($1::int8[])", [PostgresIntArray(ids)])
        published.increment(by: ids.count)
        return ids.count
    }
}
