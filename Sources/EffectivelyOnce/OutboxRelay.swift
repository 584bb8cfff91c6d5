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
///
/// Publishing is pipelined: the relay reads and produces the next rows while the broker acknowledges the previous
/// ones, and marks rows sent only once they and every row produced before them are acknowledged (in the order
/// produced). The producer is idempotent, so the messages of one partition — of one key — reach it in the order
/// produced. At the first failed delivery the relay stops, waits for what is in flight, marks what was acknowledged
/// before the failure and reads the rest again, in id order: a failure republishes, it never loses a row.
///
/// A row the broker refuses for good (``KafkaError/refusesMessageForGood``: too large, malformed, an illegal topic
/// name) is parked instead — `parked_at` and `park_reason` set, logged as an error, counted in
/// `messaging_client_parked_messages` — and the relay goes on with the rows after it: one bad row never blocks a
/// source. The rows after it keep their order; a parked row stays in the table for an operator.
public final class OutboxRelay: Sendable {
    public struct Settings: Sendable {
        public var source: String
        /// Most rows read per round. Default: 2,000.
        public var batchSize: Int = 2_000
        /// Most rows produced and not yet marked sent; the relay reads no more until acknowledgements free room.
        /// Default: 8,000.
        public var window: Int = 8_000
        /// How long to wait for new rows when there are none (a commit in this process wakes it at once).
        /// Default: 100 ms.
        public var idleWait: Duration = .milliseconds(100)
        /// How often acknowledged rows are marked sent (sooner when a quarter batch is waiting). A crash republishes
        /// at most what was acknowledged since. Default: 100 ms.
        public var markInterval: Duration = .milliseconds(100)
        /// Reads scan the unsent rows from the highest id seen `lookback` before the previous read, not from the
        /// first row: a row marked sent leaves a dead entry in the unsent index until VACUUM (at most once a
        /// minute), and walking a minute of them on every read cost the relay more than its real work
        /// (BENCHMARKS.md). A row whose transaction commits more than `lookback` after writing it, below that point,
        /// is found by the full scan every `fullScanInterval` (also after any failure and when stopping): it is
        /// published, late, and may follow rows written after it. Defaults: 5 s and 15 s.
        public var lookback: Duration = .seconds(5)
        public var fullScanInterval: Duration = .seconds(15)
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
    private let parked: Counter

    public init(settings: Settings, kafka: KafkaClientOptions, postgres: PostgresConfiguration, logger: Logger) throws {
        self.settings = settings
        var config = KafkaProducerConfiguration(client: kafka)
        // A read's rows are handed to librdkafka all at once: lingering for more only delays them.
        config.linger = .milliseconds(1)
        config.deliveryTimeout = .seconds(15)
        self.producer = try KafkaProducer(configuration: config, logger: logger)
        self.postgres = postgres
        self.logger = logger
        self.published = Counter(label: "messaging_client_sent_messages", dimensions: [("outbox_source", settings.source)])
        self.parked = Counter(label: "messaging_client_parked_messages", dimensions: [("outbox_source", settings.source)])
    }

    /// Wakes the relay: new rows were committed.
    public func nudge() {
        if !wakeup.pending.exchange(true, ordering: .acquiringAndReleasing) { wakeup.semaphore.signal() }
    }

    /// Asks ``runBlocking()`` to publish what is left and return.
    public func stop() {
        stopping.store(true, ordering: .releasing)
        wakeup.semaphore.signal()
    }

    /// Publishes until ``stop()``; on stop, it drains what was committed and waits for its acknowledgements.
    /// Blocking: own thread (``run()`` does, as a `Service`).
    public func runBlocking() {
        var connection: PostgresConnection?
        var inFlight = InFlight()
        var floor = ScanFloor()
        var drainScanned = false
        var lastMark = ContinuousClock.now
        var attempt = 0
        while true {
            let stopRequested = stopping.load(ordering: .acquiring)
            // Stopping drains everything committed, below the floor too.
            if stopRequested && !drainScanned {
                floor = ScanFloor()
                drainScanned = true
            }
            do {
                if connection == nil {
                    var config = postgres
                    config.retry.attempts = 1
                    let fresh = try PostgresConnection.connect(config, logger: logger)
                    try waitForLock(fresh)
                    // A mark lost in a crash only republishes (consumers skip ids they have seen): the relay's
                    // commits need not wait for the WAL flush.
                    try fresh.execute("SET synchronous_commit = off")
                    connection = fresh
                }
                // Forget the wake-ups this read serves, then clear the flag before reading: a commit that lands
                // after the read nudges again, so its rows never wait out the idle timeout.
                while wakeup.semaphore.wait(timeout: .now()) == .success {}
                wakeup.pending.store(false, ordering: .releasing)
                if let failure = inFlight.failure { throw failure }
                let limit = min(settings.batchSize, settings.window - inFlight.count)
                let sent = limit > 0 ? try relayOnce(connection!, limit: limit, inFlight: inFlight, floor: &floor) : 0
                // One UPDATE per mark interval (or per quarter batch acknowledged), not one per round: at low rates
                // a round is a commit of a few rows.
                if stopRequested || ContinuousClock.now - lastMark >= settings.markInterval
                    || inFlight.acknowledgedPrefix >= settings.batchSize / 4
                {
                    try markAcknowledged(connection!, inFlight: inFlight)
                    lastMark = ContinuousClock.now
                }
                attempt = 0
                // A full read leaves rows behind; otherwise the next commit nudges.
                if limit > 0 && sent == limit { continue }
                if inFlight.isEmpty {
                    if stopRequested { break }
                    _ = wakeup.semaphore.wait(timeout: .now() + settings.idleWait.seconds)
                } else if stopRequested {
                    try producer.flush(timeout: .seconds(30))
                } else {
                    _ = wakeup.semaphore.wait(timeout: .now() + settings.markInterval.seconds)
                }
            } catch {
                // Settle what is in flight, mark what was acknowledged before the first failure and forget the
                // rest: still unmarked, it is read and published again, in id order.
                if !inFlight.isEmpty {
                    try? producer.flush(timeout: .seconds(30))
                    if let live = connection { try? markAcknowledged(live, inFlight: inFlight) }
                    inFlight = InFlight()
                }
                // What was forgotten may lie below the floor: the next read scans everything.
                floor = ScanFloor()
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

    /// Reads up to one batch of unsent rows that are not in flight, in id order, and produces them without waiting
    /// for their acknowledgements; returns how many.
    func relayOnce(_ connection: PostgresConnection, limit: Int, inFlight: InFlight, floor: inout ScanFloor) throws
        -> Int
    {
        let unmarked = inFlight.unmarkedIDs
        let now = ContinuousClock.now
        let above = floor.next(at: now, lookback: settings.lookback, fullScanEvery: settings.fullScanInterval)
        // Rows in flight are still unsent in the table; a row of a transaction that committed late may sit between
        // them (several writers share a source), so they are left out by id rather than by a cursor.
        // Through motcua_outbox_unsent (migration 013): a relay's role may not read outbox payloads (applicants'
        // data) directly, only its own source's unsent rows.
        let rows = try connection.query(
            """
            SELECT id, event_id, topic, key, ce_type, payload, headers
            FROM motcua_outbox_unsent($1::text, $3::int8, $2::int4, $4::int8[])
            """, [settings.source, limit, above, unmarked.isEmpty ? nil : PostgresIntArray(unmarked)])
        guard !rows.isEmpty else { return 0 }
        let wakeup = wakeup
        var highest: Int64 = 0
        defer { floor.saw(highest, at: now) }
        for row in rows {
            let id = try row.decode(Int64.self, "id")
            let eventId = try row.decode(String.self, "event_id")
            var headers = CloudEvents.headers(
                id: eventId, type: try row.decode(String.self, "ce_type"), source: "motcua/\(settings.source)")
            if let extra = try row.decodeIfPresent(PostgresJSON.self, "headers"),
                let object = try? JSONSerialization.jsonObject(with: Data(extra.text.utf8)) as? [String: String]
            {
                for (name, value) in object.sorted(by: { $0.key < $1.key }) { headers.append(KafkaHeader(name, value)) }
            }
            let topic = try row.decode(String.self, "topic")
            let message = KafkaOutgoingMessage(
                topic: topic, key: try row.decode(String.self, "key"),
                value: try row.decode(PostgresBytes.self, "payload").bytes, headers: headers)
            highest = max(highest, id)
            let sequence = inFlight.add(id)
            do {
                try producer.produce(message) { failure in
                    // A failure wakes the relay to republish; acknowledgements are marked at its next round (a
                    // wake-up each would cost a round of queries).
                    if inFlight.settle(sequence, failure: failure) {
                        if !wakeup.pending.exchange(true, ordering: .acquiringAndReleasing) { wakeup.semaphore.signal() }
                    }
                }
            } catch where error.refusesMessageForGood {
                // Refused before it left (librdkafka checks the size itself): park it and go on.
                inFlight.settle(sequence, failure: error)
            } catch {
                inFlight.settle(sequence, failure: error)
                throw error
            }
        }
        return rows.count
    }

    /// Marks sent the rows acknowledged so far, up to the first one that is not (in the order produced), and parks
    /// those among them the broker refused for good.
    func markAcknowledged(_ connection: PostgresConnection, inFlight: InFlight) throws {
        let (ids, refused) = inFlight.takeAcknowledged()
        if !ids.isEmpty {
            try connection.execute("UPDATE outbox SET sent_at = now() WHERE id = ANY($1::int8[])", [PostgresIntArray(ids)])
            published.increment(by: ids.count)
        }
        for (id, reason) in refused {
            try connection.execute(
                "UPDATE outbox SET parked_at = now(), park_reason = $2 WHERE id = $1 AND sent_at IS NULL",
                [id, reason])
            parked.increment()
            logger.error(
                "outbox row parked: the broker refuses it for good; the rows after it go on",
                metadata: ["outbox.source": "\(settings.source)", "outbox.id": "\(id)", "error": "\(reason)"])
        }
    }

    /// Where a read starts: the highest id seen a lookback before the previous read (0, everything, at the start,
    /// after a failure, when stopping and every full-scan interval). Touched by the relay's thread only.
    struct ScanFloor {
        private var seen: [(id: Int64, at: ContinuousClock.Instant)] = []
        private var settled: Int64 = 0
        private var lastFullScan: ContinuousClock.Instant?
        private var lastRead: ContinuousClock.Instant?

        /// The id the read at `now` starts above. An id settles a lookback before the previous read, not before
        /// now: a row committed within the lookback of its writing is still read when reads were paused meanwhile.
        mutating func next(at now: ContinuousClock.Instant, lookback: Duration, fullScanEvery interval: Duration)
            -> Int64
        {
            let previous = lastRead ?? now
            lastRead = now
            let old = seen.prefix { previous - $0.at >= lookback }
            if let last = old.last { settled = max(settled, last.id) }
            seen.removeFirst(old.count)
            if let last = lastFullScan, now - last < interval { return settled }
            lastFullScan = now
            return 0
        }

        /// A row with `id` was read at `now`.
        mutating func saw(_ id: Int64, at now: ContinuousClock.Instant) {
            if id > (seen.last?.id ?? settled) { seen.append((id, now)) }
        }
    }

    /// The rows produced and not yet marked sent, in the order produced, with their acknowledgements. Shared by the
    /// relay's thread and the producer's polling thread (delivery callbacks).
    final class InFlight: Sendable {
        private struct State {
            var ids: [Int64] = []
            var acknowledged: [Bool] = []
            /// Why rows among them were refused for good, by sequence number.
            var refused: [Int: String] = [:]
            /// The sequence number of `ids[0]`.
            var base = 0
            var failure: KafkaError?
        }
        private let state = Mutex(State())

        var count: Int { state.withLock { $0.ids.count } }
        var isEmpty: Bool { state.withLock { $0.ids.isEmpty } }
        var unmarkedIDs: [Int64] { state.withLock { $0.ids } }
        /// How many rows ``takeAcknowledged()`` would return.
        var acknowledgedPrefix: Int {
            state.withLock { $0.acknowledged.firstIndex(of: false) ?? $0.acknowledged.count }
        }
        /// The first failed delivery, if any.
        var failure: KafkaError? { state.withLock { $0.failure } }

        /// Records a row being produced; returns its sequence number.
        func add(_ id: Int64) -> Int {
            state.withLock { state in
                state.ids.append(id)
                state.acknowledged.append(false)
                return state.base + state.ids.count - 1
            }
        }

        /// Records a delivery report; true when the delivery failed and the rows from it on must be sent again. A
        /// refusal for good settles the row as done (to be parked, not marked sent).
        @discardableResult
        func settle(_ sequence: Int, failure: KafkaError?) -> Bool {
            state.withLock { state in
                if let failure, failure.refusesMessageForGood {
                    state.refused[sequence] = failure.reason
                } else if let failure {
                    if state.failure == nil { state.failure = failure }
                    return true
                }
                let index = sequence - state.base
                if index >= 0 && index < state.acknowledged.count { state.acknowledged[index] = true }
                return false
            }
        }

        /// Removes and returns the settled rows that precede every unsettled one: those delivered, and those
        /// refused for good with the reason.
        func takeAcknowledged() -> (sent: [Int64], refused: [(id: Int64, reason: String)]) {
            state.withLock { state in
                let prefix = state.acknowledged.firstIndex(of: false) ?? state.acknowledged.count
                guard prefix > 0 else { return ([], []) }
                var sent: [Int64] = []
                var refused: [(Int64, String)] = []
                for (offset, id) in state.ids.prefix(prefix).enumerated() {
                    if let reason = state.refused.removeValue(forKey: state.base + offset) {
                        refused.append((id, reason))
                    } else {
                        sent.append(id)
                    }
                }
                state.ids.removeFirst(prefix)
                state.acknowledged.removeFirst(prefix)
                state.base += prefix
                return (sent, refused)
            }
        }
    }
}
