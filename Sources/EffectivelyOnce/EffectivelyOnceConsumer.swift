import Foundation
import Kafka
import Logging
import Metrics
import Postgres
import Synchronization

/// Consumes topics in a consumer group and applies each batch in one PostgreSQL transaction together with the
/// offsets it consumed; PostgreSQL, not Kafka, holds the offsets.
///
/// - On assignment each partition starts at the offset stored in `consumer_offsets` (the beginning if none).
/// - A batch is written by the ``BatchWriter`` and the offsets are advanced, fenced (``OffsetStore``), in one
///   transaction; a crash before the commit loses nothing (the batch is read again), after it duplicates nothing.
/// - One batch's transaction runs on a queue of its own while the consumer polls the next batch and stages it (the
///   writer's work that needs no database, ``BatchWriter/stage(_:)``): the process's CPU and PostgreSQL's overlap.
///   At most one transaction is in flight; the next is sent only after it committed.
/// - Rebalance callbacks run inside the poll, between batches, and first wait for the transaction in flight: work of
///   a revoked partition is always finished before the revocation completes.
/// - When PostgreSQL fails, the consumer pauses its partitions, retries with backoff while still polling (so it
///   keeps its group membership), then rewinds every partition to the stored offsets and resumes.
/// - A batch that fails for another reason is retried message by message; a message that fails alone becomes a
///   dead letter, with its reason, and the stream continues.
/// - Offsets are never silently wrong. Beside each stored offset PostgreSQL keeps the identity of the last message
///   consumed (``OffsetStore/identity(of:)``). On assignment, and whenever the broker says a position is out of its
///   range (the consumer runs with `auto.offset.reset=error`: librdkafka never jumps on its own), the consumer
///   checks the partition against the broker: a stored offset beyond its high watermark (data lost), below its low
///   watermark (deleted by retention before it was consumed), or a message at `next - 1` that is not the one
///   consumed (the topic recreated and refilled past the stored offset) stops the partition — an error log naming
///   group, topic, partition and both offsets, `/health/ready` failing, `motcua_partitions_stopped` — until an
///   operator stores where it resumes (`motcua offsets reset … --confirm`); it then resumes by itself.
public final class EffectivelyOnceConsumer: Sendable {
    public struct Settings: Sendable {
        public var group: String
        public var topics: [String]
        /// Most messages per transaction. Default: 500.
        public var batchSize: Int = 500
        /// Whether a batch's transaction runs while the next batch is polled and staged. Default: true. Off, every
        /// batch is polled, staged and committed before the next poll (one thread's work at a time).
        public var overlapsTransactions = true
        /// How long a poll waits for the first message of a batch. Default: 50 ms.
        public var pollTimeout: Duration = .milliseconds(50)
        /// Backoff while PostgreSQL is unavailable. Default: 100 ms doubling to 5 s.
        public var retry = PostgresConfiguration.RetryPolicy(attempts: .max, initialDelay: .milliseconds(100), maximumDelay: .seconds(5))
        /// `partition.assignment.strategy` of the group (nil: the Kafka module's default, eager `range,roundrobin`).
        /// Every member of a group must use the same. A `KAFKA_PARTITION_ASSIGNMENT_STRATEGY` in the environment
        /// (``KafkaClientOptions/properties``) overrides it.
        public var assignmentStrategy: String?

        public init(group: String, topics: [String]) {
            self.group = group
            self.topics = topics
        }
    }

    private final class State: @unchecked Sendable {
        // Touched only on the consuming thread (run() and the rebalance callbacks it triggers inside poll), except
        // `connection`, which the transaction in flight uses; the consuming thread touches it only after
        // collecting that transaction (``collect()``: the semaphore orders the two).
        var owned: [TopicPartition: Int64?] = [:]
        var connection: PostgresConnection?
        var needsRewind = false
        var inFlight: InFlight?
        /// The transaction collected last, kept until the next one is sent: its batch and staged work are freed on
        /// the consuming thread while that transaction runs, not on the transaction queue before it starts (freeing
        /// a staged batch of 500 was 8% of the transaction thread's CPU, BENCHMARKS.md).
        var retired: InFlight?
        /// Partitions that no longer hold what PostgreSQL says was consumed (see ``Stop``): not consumed until an
        /// operator moves the stored offset (`motcua offsets reset`).
        var stopped: [TopicPartition: Stop] = [:]
        /// Partitions stopped in the assignment callback, to pause once the assignment is applied.
        var pendingPause: Set<TopicPartition> = []
        var lastStoppedCheck = ContinuousClock.now
        /// A group-less reader of single messages, for the identity check (made when first needed).
        var verifier: KafkaConsumer?
    }

    /// Why a partition is stopped: its stored offset and what the broker holds instead, in words.
    struct Stop {
        var stored: Int64
        /// `topic[partition] stored N, …` (what ``stoppedPartitions`` lists).
        var text: String
    }

    /// A batch's transaction running on ``transactions`` while the consumer polls and stages the next batch.
    private final class InFlight: @unchecked Sendable {
        let batch: [KafkaMessage]
        /// ``BatchWriter/stage(_:)``'s work for `batch`.
        let staged: (any Sendable)?
        let moves: [TopicPartition: (expected: Int64?, next: Int64)]
        let identities: [TopicPartition: String]
        let done = DispatchSemaphore(value: 0)
        /// Set before `done` is signalled; read after waiting on it.
        var failure: (any Error)?

        init(
            batch: [KafkaMessage], staged: (any Sendable)?, moves: [TopicPartition: (expected: Int64?, next: Int64)],
            identities: [TopicPartition: String]
        ) {
            self.batch = batch
            self.staged = staged
            self.moves = moves
            self.identities = identities
        }
    }

    public let settings: Settings
    private let kafka: KafkaConsumerConfiguration
    private let clientOptions: KafkaClientOptions
    private let postgres: PostgresConfiguration
    private let writer: any BatchWriter
    private let logger: Logger
    private let state = State()
    private let stopping = Atomic<Bool>(false)
    private let healthy = Atomic<Bool>(false)
    private let afterCommit: @Sendable () -> Void
    private let offsets: OffsetStore
    private let metrics: ConsumerMetrics
    private let transactions: DispatchQueue

    public init(
        settings: Settings, kafka: KafkaClientOptions, postgres: PostgresConfiguration, writer: any BatchWriter,
        logger: Logger, metrics factory: (any MetricsFactory)? = nil, afterCommit: @escaping @Sendable () -> Void = {}
    ) {
        self.settings = settings
        var consumerConfig = KafkaConsumerConfiguration(client: kafka, groupID: settings.group)
        // Never jump: a position out of the broker's range is reported (``takeOffsetErrors``) and checked.
        consumerConfig.offsetReset = .error
        if let strategy = settings.assignmentStrategy { consumerConfig.assignmentStrategy = strategy }
        self.kafka = consumerConfig
        self.clientOptions = kafka
        self.postgres = postgres
        self.writer = writer
        self.logger = logger
        self.afterCommit = afterCommit
        self.offsets = OffsetStore(group: settings.group)
        self.metrics = ConsumerMetrics(group: settings.group, factory: factory ?? MetricsSystem.factory)
        self.transactions = DispatchQueue(label: "motcua.consumer.transactions.\(settings.group)")
    }

    /// Asks ``runBlocking()`` to finish its current batch, leave the group and return.
    public func stop() { stopping.store(true, ordering: .releasing) }

    /// Whether the last database operation succeeded.
    public var isHealthy: Bool { healthy.load(ordering: .relaxed) }

    /// The partitions stopped because the broker no longer holds what PostgreSQL says was consumed, as
    /// `topic[partition] stored N, broker high M` (or `broker low M`, or `message at N-1 is not the one consumed`);
    /// empty when every partition is consumed.
    public var stoppedPartitions: [String] { stoppedText.withLock { $0 } }
    private let stoppedText = Mutex<[String]>([])

    /// Consumes until ``stop()``. Blocking: call it on a thread of its own (``run()`` does, as a `Service`).
    public func runBlocking() throws {
        let state = state
        let handler = KafkaRebalanceHandler(
            assigned: { [self] partitions in
                collect()
                return assigned(partitions)
            },
            revoked: { [self] partitions in
                // The batch in flight may hold these partitions' messages: it commits (or fails) first.
                collect()
                for partition in partitions {
                    state.owned.removeValue(forKey: partition)
                    state.stopped.removeValue(forKey: partition)
                    // Not to be paused once assigned again unless found stopped again then.
                    state.pendingPause.remove(partition)
                }
                publishStopped()
                logger.info("partitions revoked", metadata: ["kafka.partitions": "\(partitions.count)"])
            })
        let consumer = try KafkaConsumer(configuration: kafka, rebalance: handler, logger: logger)
        defer { consumer.close() }
        defer {
            state.verifier?.close()
            state.verifier = nil
        }
        defer { collect() }
        try consumer.subscribe(topics: settings.topics)
        logger.info("consuming", metadata: ["kafka.group": "\(settings.group)", "kafka.topics": "\(settings.topics)"])

        var failures = 0
        while !stopping.load(ordering: .acquiring) {
            if state.needsRewind {
                collect()
                if rewind(consumer) {
                    failures = 0
                } else {
                    failures += 1
                    pauseWhileRetrying(consumer, failures: failures)
                }
                continue
            }
            let batch: [KafkaMessage]
            do {
                batch = try consumer.pollBatch(maxMessages: settings.batchSize, timeout: settings.pollTimeout)
            } catch {
                logger.error("poll failed: \(error)")
                collect()
                Thread.sleep(forTimeInterval: 0.2)
                continue
            }
            checkPositions(consumer)
            guard !batch.isEmpty else {
                collect()
                updateLag(consumer)
                retryStopped(consumer)
                continue
            }
            // Offsets only grow while a batch is in flight, so filtering against them before it commits keeps
            // exactly what filtering after would.
            let mine = batch.filter { message in
                guard let expected = state.owned[message.topicPartition], state.stopped[message.topicPartition] == nil
                else { return false }
                return expected.map { message.offset >= $0 } ?? true
            }
            guard !mine.isEmpty else { continue }
            let staged = writer.stage(mine)
            collect()
            // The batch before failed (the rewind reads this one again from the stored offsets), or stopping cut
            // its message-by-message retry short: this one must not be written past what that left unwritten.
            guard !state.needsRewind, !stopping.load(ordering: .acquiring) else { continue }
            send(mine, staged: staged)
            state.retired = nil
            if !settings.overlapsTransactions { collect() }
            updateLag(consumer)
            if !state.stopped.isEmpty {
                collect()
                retryStopped(consumer)
            }
        }
        logger.info("stopping: leaving the group")
    }

    /// Starts `batch`'s transaction on the transaction queue.
    private func send(_ batch: [KafkaMessage], staged: (any Sendable)?) {
        let flight = InFlight(
            batch: batch, staged: staged, moves: moves(of: batch), identities: identities(of: batch))
        state.inFlight = flight
        transactions.async { [self] in
            do {
                try transact(flight.batch, moves: flight.moves, identities: flight.identities, staged: flight.staged)
            } catch {
                flight.failure = error
            }
            flight.done.signal()
        }
    }

    /// Waits for the transaction in flight, if any, and applies its outcome: the offsets it advanced, or the
    /// handling of its failure (pause and rewind, or retrying its messages one by one).
    private func collect() {
        guard let flight = state.inFlight else { return }
        flight.done.wait()
        state.inFlight = nil
        state.retired = flight
        guard let error = flight.failure else {
            for (partition, move) in flight.moves { state.owned[partition] = move.next }
            return
        }
        if let fault = DatabaseFault(error) {
            if fault == .schema {
                // Not the messages' fault: never dead-letter them for it; wait for `motcua migrate`.
                logger.error("the database schema is older than this program; pausing consumption until it is migrated",
                             metadata: ["db.error": "\(error)"])
            } else {
                logger.warning("PostgreSQL unavailable; pausing consumption", metadata: ["db.error": "\(error)"])
            }
            dropConnection()
            state.needsRewind = true
        } else if error is OffsetFenceError {
            logger.warning("offset fence: \(error)")
            state.needsRewind = true
        } else {
            logger.error("batch failed; retrying message by message", metadata: ["error": "\(error)"])
            isolate(flight.batch)
        }
    }

    /// A failure that is the database's, not the messages': the remedy is to reconnect, rewind and retry (with
    /// backoff), never to dead-letter.
    enum DatabaseFault {
        /// Lost or refused connection, or a deadlock or serialization failure: reconnect, rewind, retry.
        case connection
        /// The schema is older than this build (``DatabaseSchema/Outdated``, or a statement naming a missing table,
        /// column or function), or the login cannot serve a prefixed system (``DatabaseSchema/PrefixNeedsOwner``):
        /// an operator's remedy, logged as an error.
        case schema

        init?(_ error: any Error) {
            if error is DatabaseSchema.Outdated || error is DatabaseSchema.PrefixNeedsOwner {
                self = .schema
            } else if let error = error as? PostgresError, error.isSchemaMismatch {
                self = .schema
            } else if let error = error as? PostgresError, error.isTransient {
                // Lost connection, or a deadlock / serialization failure (two owners of a partition during a
                // rebalance): retry from the stored offsets, never dead-letter.
                self = .connection
            } else {
                return nil
            }
        }
    }

    /// Forgets the connection (the next use reconnects and checks the schema again) and reports unhealthy.
    private func dropConnection() {
        state.connection = nil
        healthy.store(false, ordering: .relaxed)
    }

    private func assigned(_ partitions: [TopicPartition]) -> [TopicPartition: KafkaOffset] {
        var attempt = 0
        while !stopping.load(ordering: .acquiring) {
            do {
                let stored = try offsets.positions(partitions, from: try connection())
                var start: [TopicPartition: KafkaOffset] = [:]
                for partition in partitions {
                    let offset = stored[partition]?.next
                    state.owned[partition] = offset
                    start[partition] = offset.map(KafkaOffset.init) ?? .beginning
                    // The assignment is applied after this returns: a stopped partition starts at the end (a
                    // position the broker accepts, so its fetcher stays alive for the seek that resumes it; what
                    // arrives meanwhile is dropped) and is paused right after.
                    if let position = stored[partition], let stop = check(partition, position) {
                        stopPartition(partition, stop)
                        state.pendingPause.insert(partition)
                        start[partition] = .end
                    }
                }
                logger.info("partitions assigned", metadata: ["kafka.partitions": "\(partitions.count)"])
                return start
            } catch {
                attempt += 1
                dropConnection(after: error)
                Thread.sleep(forTimeInterval: settings.retry.delay(beforeAttempt: attempt).seconds)
            }
        }
        // Stopping: start nowhere useful; the fence keeps anything from being written from a wrong position.
        for partition in partitions { state.owned[partition] = .some(nil) }
        return [:]
    }

    private func connection() throws -> PostgresConnection {
        if let connection = state.connection { return connection }
        var config = postgres
        config.retry.attempts = 1
        let connection = try PostgresConnection.connect(config, logger: logger)
        try DatabaseSchema.check(connection)
        try writer.prepare(connection)
        state.connection = connection
        healthy.store(true, ordering: .relaxed)
        return connection
    }

    private func dropConnection(after error: any Error) {
        let fault = DatabaseFault(error)
        if fault != nil { dropConnection() }
        logger.log(level: fault == .schema ? .error : .warning, "database not ready: \(error)")
    }

    /// The offsets `batch` advances: per partition, the offset this consumer last stored and the next one.
    private func moves(of batch: [KafkaMessage]) -> [TopicPartition: (expected: Int64?, next: Int64)] {
        var moves: [TopicPartition: (expected: Int64?, next: Int64)] = [:]
        for message in batch {
            let partition = message.topicPartition
            let expected = moves[partition]?.expected ?? state.owned[partition] ?? nil
            moves[partition] = (expected, message.offset + 1)
        }
        return moves
    }

    /// The identity of the last message of each partition of `batch` (stored beside its offset).
    private func identities(of batch: [KafkaMessage]) -> [TopicPartition: String] {
        var last: [TopicPartition: KafkaMessage] = [:]
        for message in batch where (last[message.topicPartition]?.offset ?? -1) < message.offset {
            last[message.topicPartition] = message
        }
        return last.mapValues(OffsetStore.identity(of:))
    }

    /// One batch's transaction: the writer's work and the fenced offsets, committed together.
    private func transact(
        _ batch: [KafkaMessage], moves: [TopicPartition: (expected: Int64?, next: Int64)],
        identities: [TopicPartition: String], staged: (any Sendable)?
    ) throws {
        let started = ContinuousClock.now
        let connection = try connection()
        let report = try connection.transaction { tx in
            let report = try writer.write(batch, staged: staged, into: tx)
            try offsets.advance(moves, identities: identities, in: tx)
            return report
        }
        writer.committed()
        healthy.store(true, ordering: .relaxed)
        metrics.record(report, messages: batch.count, duration: ContinuousClock.now - started)
        afterCommit()
    }

    /// `batch` in one transaction, now, on the consuming thread (nothing in flight).
    private func commit(_ batch: [KafkaMessage]) throws {
        let moves = moves(of: batch)
        try transact(batch, moves: moves, identities: identities(of: batch), staged: nil)
        for (partition, move) in moves { state.owned[partition] = move.next }
    }

    /// Retries a failed batch one message at a time; a message that fails alone becomes a dead letter.
    private func isolate(_ batch: [KafkaMessage]) {
        for message in batch where !stopping.load(ordering: .acquiring) {
            do {
                try commit([message])
            } catch where DatabaseFault(error) != nil {
                dropConnection()
                state.needsRewind = true
                return
            } catch is OffsetFenceError {
                state.needsRewind = true
                return
            } catch {
                logger.error("message failed alone; sending it to the dead-letter topic",
                             metadata: ["kafka.topic": "\(message.topic)", "kafka.partition": "\(message.partition)",
                                        "kafka.offset": "\(message.offset)"])
                do {
                    try deadLetter(message, reason: "\(error)")
                } catch {
                    state.needsRewind = true
                    return
                }
            }
        }
    }

    private func deadLetter(_ message: KafkaMessage, reason: String) throws {
        let partition = message.topicPartition
        let expected = state.owned[partition] ?? nil
        let connection = try connection()
        try connection.transaction { tx in
            try OutboxWriter.write(
                [OutboxMessage.deadLetter(of: message, error: reason, consumer: settings.group)],
                source: writer.outboxSource, into: tx)
            try offsets.advance(
                [partition: (expected, message.offset + 1)],
                identities: [partition: OffsetStore.identity(of: message)], in: tx)
        }
        state.owned[partition] = message.offset + 1
        var report = BatchReport()
        report.deadLetters = 1
        metrics.record(report, messages: 1, duration: .zero)
        afterCommit()
    }

    /// Reloads the stored offsets, seeks every owned partition there and resumes. False while the database is down.
    private func rewind(_ consumer: KafkaConsumer) -> Bool {
        do {
            let partitions = Array(state.owned.keys)
            let stored = try offsets.load(partitions, from: try connection())
            var positions: [TopicPartition: KafkaOffset] = [:]
            for partition in partitions {
                state.owned[partition] = stored[partition]
                positions[partition] = stored[partition].map(KafkaOffset.init) ?? .beginning
            }
            if !positions.isEmpty {
                try consumer.seek(positions)
                try consumer.resume(partitions)
            }
            state.needsRewind = false
            logger.info("resumed from stored offsets", metadata: ["kafka.partitions": "\(partitions.count)"])
            return true
        } catch {
            dropConnection(after: error)
            return false
        }
    }

    private func pauseWhileRetrying(_ consumer: KafkaConsumer, failures: Int) {
        try? consumer.pause(Array(state.owned.keys))
        let deadline = ContinuousClock.now + settings.retry.delay(beforeAttempt: failures)
        // Keep polling (and discarding: the rewind re-reads) so the group does not drop this member.
        while ContinuousClock.now < deadline && !stopping.load(ordering: .acquiring) {
            _ = try? consumer.pollBatch(maxMessages: settings.batchSize, timeout: .milliseconds(100))
        }
        try? consumer.pause(Array(state.owned.keys))
    }

    private func updateLag(_ consumer: KafkaConsumer) {
        for (partition, next) in state.owned {
            guard let next, let marks = consumer.cachedWatermarks(partition) else { continue }
            if marks.high < next && state.stopped[partition] == nil {
                stopIfAhead(partition, stored: next, consumer: consumer)
            }
            metrics.lag(partition, max(0, marks.high - next))
        }
    }

    /// The broker's high watermark is below the offset stored for `partition`: the broker lost data this group had
    /// consumed (a topic deleted and recreated, a restore). Reading on would skip every new message below the
    /// stored offset, so the partition stops, loudly, until an operator decides where it resumes. The cached
    /// watermark may be stale after a rebalance: it is confirmed with the leader first.
    private func stopIfAhead(_ partition: TopicPartition, stored: Int64, consumer: KafkaConsumer) {
        guard let marks = try? consumer.queryWatermarks(partition), marks.high < stored else { return }
        try? consumer.pause([partition])
        stopPartition(partition, Stop(
            stored: stored, text: "\(partition.topic)[\(partition.partition)] stored \(stored), broker high \(marks.high)"))
    }

    /// Whether `partition` still holds what PostgreSQL says was consumed up to `position`: the stored offset within
    /// the broker's watermarks, and the message at `next - 1` the one consumed. Nil when it does, or when the broker
    /// cannot be asked now (the next offset error or assignment asks again); otherwise why not.
    private func check(_ partition: TopicPartition, _ position: OffsetStore.Position) -> Stop? {
        let name = "\(partition.topic)[\(partition.partition)]"
        let marks: (low: Int64, high: Int64)
        do {
            marks = try verifier().queryWatermarks(partition)
        } catch {
            logger.warning("cannot check \(name) against the broker now: \(error)")
            return nil
        }
        if position.next > marks.high {
            return Stop(stored: position.next, text: "\(name) stored \(position.next), broker high \(marks.high)")
        }
        if position.next < marks.low {
            return Stop(
                stored: position.next,
                text: "\(name) stored \(position.next), broker low \(marks.low): messages \(position.next)–\(marks.low - 1) "
                    + "were deleted before this group consumed them")
        }
        guard let expected = position.lastMessage, position.next - 1 >= marks.low else { return nil }
        guard let found = try? readOne(partition, at: position.next - 1) else {
            logger.warning("cannot read \(name) at \(position.next - 1) to check it now")
            return nil
        }
        guard found.offset == position.next - 1, OffsetStore.identity(of: found) == expected else {
            return Stop(
                stored: position.next,
                text: "\(name) stored \(position.next), broker high \(marks.high): the message at \(position.next - 1) is not "
                    + "the one consumed (the topic was recreated or the broker lost data and was refilled)")
        }
        return nil
    }

    private func verifier() throws -> KafkaConsumer {
        if let verifier = state.verifier { return verifier }
        let verifier = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(client: clientOptions, groupID: nil), logger: logger)
        state.verifier = verifier
        return verifier
    }

    /// The message at `offset` (or the first after it, if that one is gone), read by the group-less verifier.
    private func readOne(_ partition: TopicPartition, at offset: Int64) throws -> KafkaMessage? {
        let verifier = try verifier()
        try verifier.assign([partition: KafkaOffset(offset)])
        defer { try? verifier.assign([:]) }
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            for message in try verifier.pollBatch(maxMessages: 1, timeout: .milliseconds(200))
            where message.topicPartition == partition {
                return message
            }
        }
        return nil
    }

    /// Stops `partition`, loudly: error log naming group, topic, partition and both offsets, the metric, health.
    private func stopPartition(_ partition: TopicPartition, _ stop: Stop) {
        state.stopped[partition] = stop
        publishStopped()
        let command = "motcua offsets reset --group \(settings.group) --topic \(partition.topic) "
            + "--partition \(partition.partition) --to earliest|latest|N --confirm"
        logger.error(
            "partition stopped: it no longer holds what PostgreSQL says this group consumed; nothing is skipped. \(stop.text). Decide where it resumes: `\(command)`",
            metadata: ["kafka.group": "\(settings.group)", "kafka.topic": "\(partition.topic)",
                       "kafka.partition": "\(partition.partition)", "offset.stored": "\(stop.stored)"])
    }

    /// Pauses what the assignment callback stopped, and checks the partitions whose position the broker said is
    /// out of its range (`auto.offset.reset=error`): they stop, or, if they still hold what PostgreSQL says (the
    /// range moved back), are sought to the stored offset again.
    private func checkPositions(_ consumer: KafkaConsumer) {
        if !state.pendingPause.isEmpty {
            try? consumer.pause(Array(state.pendingPause))
            state.pendingPause = []
        }
        let errors = consumer.takeOffsetErrors().filter { state.owned[$0] != nil && state.stopped[$0] == nil }
        guard !errors.isEmpty else { return }
        collect()
        guard let stored = try? offsets.positions(Array(errors), from: try connection()) else {
            state.needsRewind = true
            return
        }
        for partition in errors {
            let position = stored[partition] ?? OffsetStore.Position(next: 0, lastMessage: nil)
            if let stop = check(partition, position) {
                try? consumer.pause([partition])
                stopPartition(partition, stop)
            } else {
                logger.warning("offset error on \(partition) but it holds what PostgreSQL says: seeking again")
                restart(partition, at: stored[partition]?.next, consumer)
            }
        }
    }

    /// Moves `partition` to `next` (nil: the beginning) and resumes it. A partition whose fetcher stopped on an offset
    /// error (`auto.offset.reset=error`) refuses a seek; the whole assignment is then applied again at the owned
    /// offsets (what the stored offsets say: nothing in flight), and the stopped partitions paused again.
    @discardableResult
    private func restart(_ partition: TopicPartition, at next: Int64?, _ consumer: KafkaConsumer) -> Bool {
        do {
            try consumer.seek([partition: next.map(KafkaOffset.init) ?? .beginning])
            try consumer.resume([partition])
            return true
        } catch {
            logger.info("seek of \(partition) refused (\(error)): assigning the partitions again")
        }
        collect()
        var positions = Dictionary(uniqueKeysWithValues: state.owned.map { owned in
            (owned.key, owned.value.map(KafkaOffset.init) ?? .beginning)
        })
        positions[partition] = next.map(KafkaOffset.init) ?? .beginning
        let stillStopped = state.stopped.keys.filter { $0 != partition }
        for other in stillStopped { positions[other] = .end }
        do {
            try consumer.assign(positions)
            if !stillStopped.isEmpty { try consumer.pause(Array(stillStopped)) }
            return true
        } catch {
            logger.warning("cannot resume \(partition) yet: \(error)")
            return false
        }
    }

    /// Every few seconds, a stopped partition whose stored offset an operator moved within the broker's range
    /// resumes from there.
    private func retryStopped(_ consumer: KafkaConsumer) {
        guard !state.stopped.isEmpty, ContinuousClock.now - state.lastStoppedCheck >= .seconds(2) else { return }
        state.lastStoppedCheck = ContinuousClock.now
        let partitions = Array(state.stopped.keys)
        guard let stored = try? offsets.positions(partitions, from: try connection()) else { return }
        for partition in partitions {
            guard state.owned[partition] != nil else { continue }
            let next = stored[partition]?.next
            if let position = stored[partition], let stop = check(partition, position) {
                state.stopped[partition] = stop
                continue
            }
            state.owned[partition] = next
            guard restart(partition, at: next, consumer) else { continue }
            state.stopped.removeValue(forKey: partition)
            logger.notice(
                "partition resumed from the offset the operator stored",
                metadata: ["kafka.topic": "\(partition.topic)", "kafka.partition": "\(partition.partition)",
                           "offset.next": "\(next.map(String.init) ?? "beginning")"])
        }
        publishStopped()
    }

    private func publishStopped() {
        let text = state.stopped.sorted { ($0.key.topic, $0.key.partition) < ($1.key.topic, $1.key.partition) }
            .map(\.value.text)
        stoppedText.withLock { $0 = text }
        metrics.stopped(text.count)
    }
}

extension Duration {
    /// The duration in seconds, as `TimeInterval`.
    public var seconds: TimeInterval { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// The consumer's metrics (swift-metrics; exported by the Prometheus registry the executable bootstraps).
package struct ConsumerMetrics: Sendable {
    let group: String
    let factory: any MetricsFactory
    let consumed: Counter
    let deadLetters: Counter
    let duplicates: Counter
    let batchDuration: Metrics.Timer

    init(group: String, factory: any MetricsFactory) {
        self.group = group
        self.factory = factory
        consumed = Counter(label: "messaging_client_consumed_messages", dimensions: [("consumer_group", group)], factory: factory)
        deadLetters = Counter(label: "motcua_dead_letters", dimensions: [("consumer_group", group)], factory: factory)
        duplicates = Counter(label: "motcua_duplicates_skipped", dimensions: [("consumer_group", group)], factory: factory)
        batchDuration = Metrics.Timer(label: "motcua_batch_duration", dimensions: [("consumer_group", group)], factory: factory)
    }

    func record(_ report: BatchReport, messages: Int, duration: Duration) {
        consumed.increment(by: messages)
        if report.deadLetters > 0 { deadLetters.increment(by: report.deadLetters) }
        if report.skippedDuplicates > 0 { duplicates.increment(by: report.skippedDuplicates) }
        for (outcome, count) in report.outcomes {
            Counter(label: "motcua_decisions", dimensions: [("consumer_group", group), ("outcome", outcome)], factory: factory)
                .increment(by: count)
        }
        if duration > .zero { batchDuration.recordNanoseconds(Int64(duration.seconds * 1e9)) }
    }

    /// Partitions stopped because their stored offset is ahead of the broker (alert when above 0).
    func stopped(_ count: Int) {
        Gauge(label: "motcua_partitions_stopped", dimensions: [("consumer_group", group)], factory: factory)
            .record(count)
    }

    func lag(_ partition: TopicPartition, _ value: Int64) {
        Gauge(label: "messaging_consumer_lag", dimensions: [
            ("consumer_group", group), ("topic", partition.topic), ("partition", String(partition.partition)),
        ], factory: factory).record(value)
    }
}
