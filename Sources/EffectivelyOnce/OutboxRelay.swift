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
/// `messaging_client_parked_messages`, announced on the PostgreSQL channel `motcua_outbox_parked` (a JSON
/// notification: id, source, topic, reason) — and the relay goes on with the rows of other keys: one bad row never
/// blocks a source. A refusal the broker gives a whole produce request (several rows) does not say which row is to
/// blame: the relay then publishes those rows again one at a time, waiting for each acknowledgement, and parks only
/// the one refused alone. Order per key is kept: a parked row holds back the later rows of its topic and key (the
/// reads skip them; `motcua outbox parked` lists them as held behind it) until an operator retries it (published,
/// they follow) or discards it (they follow without it). Rows of that key already handed to the broker before the
/// refusal came back (at most the window in flight) cannot be recalled and may arrive ahead of it.
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
        /// How many parked rows the source may hold before ``isReady`` turns false (/health/ready fails): one
        /// parked row is an operator's task (alert MotCuaOutboxRowParked), a hundred a producer gone wrong.
        /// Default: 100.
        public var parkedReadyLimit: Int = 100
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
    private let parkedGauge: Gauge
    /// Parked rows of the source, as last counted (-1: not counted yet).
    private let parkedCount = Atomic<Int>(-1)

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
        self.parkedGauge = Gauge(label: "motcua_outbox_parked_rows", dimensions: [("outbox_source", settings.source)])
    }

    /// Parked rows of this source now (counted every few seconds and after each park; nil before the first count).
    public var parkedRows: Int? {
        let count = parkedCount.load(ordering: .relaxed)
        return count < 0 ? nil : count
    }

    /// False while the source holds more parked rows than ``Settings/parkedReadyLimit``.
    public var isReady: Bool { (parkedRows ?? 0) <= settings.parkedReadyLimit }

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
        var lastParkedCount: ContinuousClock.Instant?
        // Rows of a produce request the broker refused as a whole, to publish again one at a time.
        var isolating = Set<Int64>()
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
                if !isolating.isEmpty { try isolate(connection!, &isolating) }
                if lastParkedCount.map({ ContinuousClock.now - $0 >= .seconds(2) }) ?? true {
                    // An operator's retry or discard releases rows below the floor: read from the start at once.
                    if try countParked(connection!) { floor = ScanFloor() }
                    lastParkedCount = ContinuousClock.now
                }
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
                    isolating.formUnion(inFlight.suspects)
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
        // them (several writers share a source), so they are left out by id rather than by a cursor. The anti-join
        // that holds back the keys of parked rows doubled a read's time (median of 20 alternated reads of 2,000
        // rows, nothing parked: 2.31 ms against 1.03 ms): it runs only while the source has parked rows (counted
        // before the first read and after every park; only the active relay of a source parks).
        // Through motcua_outbox_unsent (migrations 013 and 015): a relay's role may not read outbox payloads
        // (applicants' data) directly, only its own source's unsent rows.
        let holdParkedKeys = (parkedRows ?? 1) > 0
        let rows = try connection.query(
            """
            SELECT id, event_id, topic, key, ce_type, payload, headers
            FROM motcua_outbox_unsent($1::text, $3::int8, $2::int4, $4::int8[], $5::boolean)
            """, [settings.source, limit, above, unmarked.isEmpty ? nil : PostgresIntArray(unmarked), holdParkedKeys])
        guard !rows.isEmpty else { return 0 }
        let wakeup = wakeup
        var highest: Int64 = 0
        defer { floor.saw(highest, at: now) }
        // Keys whose row was refused in this read: their later rows wait behind it (the next read skips them).
        var held = Set<HeldKey>()
        for row in rows {
            let id = try row.decode(Int64.self, "id")
            let message = try outgoing(row)
            highest = max(highest, id)
            let key = HeldKey(topic: message.topic, key: message.key ?? [])
            if held.contains(key) { continue }
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
                // Refused before it left (librdkafka checks the size itself), so this very row: park it now (the next
                // read then holds its key back) and go on.
                inFlight.settle(sequence, failure: nil, parked: true)
                try park(connection, id: id, reason: error.reason)
                held.insert(key)
            } catch {
                inFlight.settle(sequence, failure: error)
                throw error
            }
        }
        return rows.count
    }

    /// The delivery report of one message (set on the producer's polling thread).
    private final class Delivery: Sendable {
        private let state = Mutex<KafkaError??>(.none)
        /// `.none`: no report yet; `.some(nil)`: delivered; `.some(error)`: failed.
        var result: KafkaError?? { state.withLock { $0 } }
        func report(_ failure: KafkaError?) { state.withLock { $0 = .some(failure) } }
    }

    struct HeldKey: Hashable {
        var topic: String
        var key: [UInt8]
    }

    /// The message of an outbox row (columns id, event_id, topic, key, ce_type, payload, headers).
    private func outgoing(_ row: PostgresRow) throws -> KafkaOutgoingMessage {
        let eventId = try row.decode(String.self, "event_id")
        var headers = CloudEvents.headers(
            id: eventId, type: try row.decode(String.self, "ce_type"), source: "motcua/\(settings.source)")
        if let extra = try row.decodeIfPresent(PostgresJSON.self, "headers"),
            let object = try? JSONSerialization.jsonObject(with: Data(extra.text.utf8)) as? [String: String]
        {
            for (name, value) in object.sorted(by: { $0.key < $1.key }) { headers.append(KafkaHeader(name, value)) }
        }
        return KafkaOutgoingMessage(
            topic: try row.decode(String.self, "topic"), key: try row.decode(String.self, "key"),
            value: try row.decode(PostgresBytes.self, "payload").bytes, headers: headers)
    }

    /// Publishes the rows of a refused produce request again, one at a time in id order, each acknowledged before
    /// the next: a row refused for good alone is the culprit and is parked; the others are marked sent. Nothing
    /// else is in flight (the failure that named them settled everything). A transient failure leaves the rest to
    /// the next round.
    func isolate(_ connection: PostgresConnection, _ isolating: inout Set<Int64>) throws {
        for id in isolating.sorted() {
            let rows = try connection.query(
                "SELECT id, event_id, topic, key, ce_type, payload, headers FROM motcua_outbox_row($1::text, $2::int8)",
                [settings.source, id])
            guard let row = rows.first else {
                // Sent meanwhile (by a relay before a takeover), or held behind a row parked just now.
                isolating.remove(id)
                continue
            }
            let outcome = Delivery()
            do {
                try producer.produce(try outgoing(row)) { failure in outcome.report(failure) }
                try producer.flush(timeout: .seconds(30))
            } catch let error as KafkaError where error.refusesMessageForGood {
                outcome.report(error)
            }
            switch outcome.result {
            case .some(.none):
                try connection.execute("UPDATE outbox SET sent_at = now() WHERE id = $1", [id])
                published.increment()
            case .some(.some(let error)) where error.refusesMessageForGood:
                try park(connection, id: id, reason: error.reason + " (refused alone, after its batch was refused)")
            case .some(.some(let error)):
                throw error
            case .none:
                throw KafkaError(.timeout, "the broker did not acknowledge outbox row \(id) within 30 s")
            }
            isolating.remove(id)
        }
    }

    /// Parks a row the broker refuses for good, announces it (log, metrics, `NOTIFY motcua_outbox_parked`) and
    /// counts the source's parked rows again.
    func park(_ connection: PostgresConnection, id: Int64, reason: String) throws {
        let topic = try connection.transaction { tx -> String? in
            let topic = try tx.query(
                """
                UPDATE outbox SET parked_at = now(), park_reason = $2
                WHERE id = $1 AND sent_at IS NULL AND parked_at IS NULL RETURNING topic
                """, [id, reason]
            ).first?.decode(String.self, "topic")
            guard let topic else { return nil }
            let notice = try JSONSerialization.data(
                withJSONObject: ["id": id, "source": settings.source, "topic": topic, "reason": reason],
                options: [.sortedKeys])
            _ = try tx.query("SELECT pg_notify('motcua_outbox_parked', $1)", [String(decoding: notice, as: UTF8.self)])
            return topic
        }
        guard let topic else { return }
        parked.increment()
        logger.error(
            "outbox row parked: the broker refuses it for good; later rows of its key wait behind it, other keys go on. Resolve with `motcua outbox retry|discard \(id) --reason …`",
            metadata: [
                "outbox.source": "\(settings.source)", "outbox.id": "\(id)", "kafka.topic": "\(topic)",
                "error": "\(reason)",
            ])
        _ = try countParked(connection)
    }

    /// Counts the source's parked rows (gauge, readiness); true when there are fewer than at the last count (an
    /// operator released some).
    @discardableResult
    func countParked(_ connection: PostgresConnection) throws -> Bool {
        let count = try connection.query(
            """
            SELECT count(*) AS n FROM outbox
            WHERE source = $1 AND parked_at IS NOT NULL AND sent_at IS NULL AND discarded_at IS NULL
            """, [settings.source])[0].decode(Int.self, "n")
        let previous = parkedCount.exchange(count, ordering: .relaxed)
        parkedGauge.record(count)
        return previous > count
    }

    /// Marks sent the rows acknowledged so far, up to the first one that is not (in the order produced); rows parked
    /// when produced are left as they are.
    func markAcknowledged(_ connection: PostgresConnection, inFlight: InFlight) throws {
        let ids = inFlight.takeAcknowledged()
        if !ids.isEmpty {
            try connection.execute("UPDATE outbox SET sent_at = now() WHERE id = ANY($1::int8[])", [PostgresIntArray(ids)])
            published.increment(by: ids.count)
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
            /// Rows among them parked when produced, by sequence number: settled, never marked sent.
            var parked: Set<Int> = []
            /// Rows the broker refused for good in a delivery report: perhaps for another row of their produce
            /// request, so they are published again one at a time.
            var suspects: [Int64] = []
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
        /// Rows refused for good in delivery reports (see ``settle(_:failure:parked:)``).
        var suspects: [Int64] { state.withLock { $0.suspects } }

        /// Records a row being produced; returns its sequence number.
        func add(_ id: Int64) -> Int {
            state.withLock { state in
                state.ids.append(id)
                state.acknowledged.append(false)
                return state.base + state.ids.count - 1
            }
        }

        /// Records a delivery report; true when the delivery failed and the rows from it on must be sent again.
        /// `parked`: the row was parked when produced (settled, never to be marked sent). A refusal for good in a
        /// delivery report fails like any failure and also makes the row a suspect: the broker answers a whole
        /// produce request at once, so the relay publishes it again alone to learn whether it is the culprit.
        @discardableResult
        func settle(_ sequence: Int, failure: KafkaError?, parked: Bool = false) -> Bool {
            state.withLock { state in
                let index = sequence - state.base
                if let failure {
                    if failure.refusesMessageForGood, index >= 0, index < state.ids.count {
                        state.suspects.append(state.ids[index])
                    }
                    if state.failure == nil { state.failure = failure }
                    return true
                }
                if parked { state.parked.insert(sequence) }
                if index >= 0 && index < state.acknowledged.count { state.acknowledged[index] = true }
                return false
            }
        }

        /// Removes and returns the delivered rows that precede every unsettled one (rows parked when produced are
        /// removed, not returned).
        func takeAcknowledged() -> [Int64] {
            state.withLock { state in
                let prefix = state.acknowledged.firstIndex(of: false) ?? state.acknowledged.count
                guard prefix > 0 else { return [] }
                var sent: [Int64] = []
                for (offset, id) in state.ids.prefix(prefix).enumerated()
                where state.parked.remove(state.base + offset) == nil {
                    sent.append(id)
                }
                state.ids.removeFirst(prefix)
                state.acknowledged.removeFirst(prefix)
                state.base += prefix
                return sent
            }
        }
    }
}
