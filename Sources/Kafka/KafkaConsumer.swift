import CRdKafka
import Foundation
import Logging
import Synchronization

/// What a consumer does when its group assigns or revokes partitions.
///
/// Both closures run on the thread that polls the consumer, inside the poll, so no batch of the caller is being
/// processed at that moment: a batch returned by the previous poll has been handled (the caller polled again), and
/// nothing of a revoked partition can be written after `revoked` returns.
public struct KafkaRebalanceHandler: Sendable {
    /// Returns the offset to start each newly assigned partition at (the next offset to read). Partitions left out
    /// start at the group's committed offset, or per `auto.offset.reset`.
    public var assigned: @Sendable ([TopicPartition]) -> [TopicPartition: KafkaOffset]
    /// Finishes or drops work of partitions about to be taken away.
    public var revoked: @Sendable ([TopicPartition]) -> Void

    public init(
        assigned: @escaping @Sendable ([TopicPartition]) -> [TopicPartition: KafkaOffset],
        revoked: @escaping @Sendable ([TopicPartition]) -> Void
    ) {
        self.assigned = assigned
        self.revoked = revoked
    }
}

/// A Kafka consumer over librdkafka: a group member with manual offsets, or a group-less reader of assigned
/// partitions.
///
/// Polling blocks; ``batches(maxMessages:timeout:)`` runs it on the consumer's own dispatch queue, off the
/// cooperative thread pool.
public final class KafkaConsumer: Sendable {
    let client: RDKafkaClient
    private let queue: DispatchQueue
    private let topicNames = Mutex<[UInt: String]>([:])
    private let closed = Atomic<Bool>(false)
    private let logger: Logger
    private let offsetErrors = Mutex<Set<TopicPartition>>([])
    private let readHeaders: Bool

    public init(
        configuration: KafkaConsumerConfiguration, rebalance: KafkaRebalanceHandler? = nil, logger: Logger
    ) throws(KafkaError) {
        let useRebalance = rebalance != nil && configuration.groupID != nil
        client = try RDKafkaClient(kind: RD_KAFKA_CONSUMER, properties: configuration.dictionary(), logger: logger) {
            if useRebalance { rd_kafka_conf_set_rebalance_cb($0, rebalanceCallback) }
        }
        self.logger = logger
        self.readHeaders = configuration.readHeaders
        queue = DispatchQueue(label: "kafka-consumer")
        if let rebalance, useRebalance {
            client.context.rebalance.withLock {
                $0 = { handle, err, list in handleRebalance(handle, err, list, rebalance, logger) }
            }
        }
        // Serve everything (rebalances, errors, messages) from the one consumer queue.
        rd_kafka_poll_set_consumer(client.handle)
    }

    deinit {
        close()
    }

    /// Joins the group for these topics.
    public func subscribe(topics: [String]) throws(KafkaError) {
        let list = makeList(topics.map { (TopicPartition($0, RD_KAFKA_PARTITION_UA), nil) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_subscribe(client.handle, list)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(.assignment, "subscribe to \(topics.joined(separator: ", "))", error: err)
        }
    }

    /// Reads exactly these partitions from these offsets, outside any group balancing (replaces the assignment).
    public func assign(_ offsets: [TopicPartition: KafkaOffset]) throws(KafkaError) {
        let list = makeList(offsets.map { ($0.key, $0.value) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_assign(client.handle, list)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(.assignment, "assign \(offsets.count) partitions", error: err)
        }
    }

    /// The partitions currently assigned.
    public func assignment() throws(KafkaError) -> [TopicPartition] {
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>? = nil
        let err = rd_kafka_assignment(client.handle, &list)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let list else {
            throw KafkaError(.assignment, "read assignment", error: err)
        }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        return partitions(of: list).map(\.0)
    }

    /// Stops fetching these partitions until ``resume(_:)``.
    public func pause(_ partitions: [TopicPartition]) throws(KafkaError) {
        let list = makeList(partitions.map { ($0, nil) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_pause_partitions(client.handle, list)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(.assignment, "pause", error: err) }
    }

    /// Fetches again from partitions paused with ``pause(_:)``.
    public func resume(_ partitions: [TopicPartition]) throws(KafkaError) {
        let list = makeList(partitions.map { ($0, nil) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_resume_partitions(client.handle, list)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(.assignment, "resume", error: err) }
    }

    /// Moves the read position of assigned partitions.
    public func seek(_ offsets: [TopicPartition: KafkaOffset], timeout: Duration = .seconds(10)) throws(KafkaError) {
        let list = makeList(offsets.map { ($0.key, $0.value) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        if let error = rd_kafka_seek_partitions(client.handle, list, Int32(clamping: timeout.milliseconds)) {
            let text = String(cString: rd_kafka_error_string(error))
            rd_kafka_error_destroy(error)
            throw KafkaError(.assignment, "seek: \(text)")
        }
        // Per-partition failures (a partition whose fetcher stopped on an offset error refuses a seek: _STATE).
        if let (partition, _, err) = partitions(of: list).first(where: { $0.2 != RD_KAFKA_RESP_ERR_NO_ERROR }) {
            throw KafkaError(.assignment, "seek \(partition)", error: err)
        }
    }

    /// Commits offsets (the next offset to read) to the group, synchronously.
    ///
    /// MotCua keeps its authoritative offsets in PostgreSQL; committing them to Kafka as well lets standard tools
    /// show consumer lag.
    public func commit(_ offsets: [TopicPartition: Int64]) throws(KafkaError) {
        guard !offsets.isEmpty else { return }
        let list = makeList(offsets.map { ($0.key, KafkaOffset($0.value)) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_commit(client.handle, list, 0)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(.commit, "commit \(offsets.count) offsets", error: err) }
    }

    /// Waits up to `timeout` for one message; `nil` when none came.
    public func poll(timeout: Duration) throws(KafkaError) -> KafkaMessage? {
        var topics = TopicNameCache()
        return try poll(timeout: timeout, topics: &topics)
    }

    /// Waits up to `timeout` for a first message, then takes whatever else is already fetched, up to `maxMessages`.
    public func pollBatch(maxMessages: Int, timeout: Duration) throws(KafkaError) -> [KafkaMessage] {
        var topics = TopicNameCache()
        guard let first = try poll(timeout: timeout, topics: &topics) else { return [] }
        var batch: [KafkaMessage] = []
        batch.reserveCapacity(maxMessages)
        batch.append(first)
        // What is already fetched: one non-blocking poll per message, no clock reads.
        while batch.count < maxMessages, let next = try pollNow(topics: &topics) {
            batch.append(next)
        }
        return batch
    }

    private func poll(timeout: Duration, topics: inout TopicNameCache) throws(KafkaError) -> KafkaMessage? {
        // With no time to wait, one non-blocking poll is all the loop below would do.
        if timeout <= .zero { return try pollNow(topics: &topics) }
        guard !closed.load(ordering: .acquiring) else { throw KafkaError(.closed, "consumer is closed") }
        let deadline = ContinuousClock.now + timeout
        while true {
            let remaining = max(0, (deadline - ContinuousClock.now).milliseconds)
            guard let pointer = rd_kafka_consumer_poll(client.handle, Int32(clamping: remaining)) else { return nil }
            defer { rd_kafka_message_destroy(pointer) }
            if let message = try convert(pointer, topics: &topics) { return message }
            if remaining == 0 { return nil }
        }
    }

    /// One non-blocking poll: the next fetched message, or `nil` (none ready, or an event that is not a message).
    private func pollNow(topics: inout TopicNameCache) throws(KafkaError) -> KafkaMessage? {
        guard !closed.load(ordering: .acquiring) else { throw KafkaError(.closed, "consumer is closed") }
        guard let pointer = rd_kafka_consumer_poll(client.handle, 0) else { return nil }
        defer { rd_kafka_message_destroy(pointer) }
        return try convert(pointer, topics: &topics)
    }

    /// Batches of messages as an asynchronous sequence; polling runs on the consumer's dispatch queue.
    ///
    /// The sequence ends when the consumer is closed or the task is cancelled. Asking for the next batch means the
    /// previous one is done: rebalance callbacks run only inside that next poll.
    public func batches(maxMessages: Int = 1000, timeout: Duration = .milliseconds(100)) -> KafkaBatches {
        KafkaBatches(consumer: self, maxMessages: maxMessages, timeout: timeout)
    }

    func nextBatch(maxMessages: Int, timeout: Duration) async throws -> [KafkaMessage]? {
        while !Task.isCancelled && !closed.load(ordering: .acquiring) {
            let batch: [KafkaMessage] = try await withCheckedThrowingContinuation { continuation in
                queue.async {
                    do {
                        continuation.resume(returning: try self.pollBatch(maxMessages: maxMessages, timeout: timeout))
                    } catch {
                        continuation.resume(throwing: error)
                    }
                }
            }
            if !batch.isEmpty { return batch }
        }
        return nil
    }

    /// The low and high watermarks of a partition, asked of its leader now.
    public func queryWatermarks(
        _ partition: TopicPartition, timeout: Duration = .seconds(5)
    ) throws(KafkaError) -> (low: Int64, high: Int64) {
        var low: Int64 = -1
        var high: Int64 = -1
        let err = rd_kafka_query_watermark_offsets(
            client.handle, partition.topic, partition.partition, &low, &high, Int32(clamping: timeout.milliseconds))
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(.query, "watermarks of \(partition)", error: err) }
        return (low, high)
    }

    /// The low and high watermarks last reported by the broker for a partition (no network call), or `nil`.
    public func cachedWatermarks(_ partition: TopicPartition) -> (low: Int64, high: Int64)? {
        var low: Int64 = -1
        var high: Int64 = -1
        let err = rd_kafka_get_watermark_offsets(client.handle, partition.topic, partition.partition, &low, &high)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, high >= 0 else { return nil }
        return (low, high)
    }

    /// The partitions whose fetch position was out of the broker's range since the last call (with
    /// `auto.offset.reset=error` they stop fetching until sought), and forgets them.
    public func takeOffsetErrors() -> Set<TopicPartition> {
        offsetErrors.withLock { errors in
            defer { errors = [] }
            return errors
        }
    }

    /// The last client-level error (for example "all brokers down"), if any since the last successful poll.
    public var lastClientError: KafkaError? { client.context.lastClientError.withLock { $0 } }

    /// Leaves the group (running the revocation callback) and stops fetching. Safe to call twice.
    public func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let err = rd_kafka_consumer_close(client.handle)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            logger.warning("closing the consumer: \(String(cString: rd_kafka_err2str(err)))")
        }
    }

    private func convert(
        _ pointer: UnsafeMutablePointer<rd_kafka_message_t>, topics: inout TopicNameCache
    ) throws(KafkaError) -> KafkaMessage? {
        let m = pointer.pointee
        if m.err != RD_KAFKA_RESP_ERR_NO_ERROR {
            switch m.err {
            case RD_KAFKA_RESP_ERR__PARTITION_EOF:
                return nil
            case RD_KAFKA_RESP_ERR__FATAL:
                throw client.fatalError() ?? KafkaError(.fatal, "consumer", error: m.err)
            case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
                RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED, RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
                let topic = m.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? "?"
                throw KafkaError(.consume, "topic '\(topic)'", error: m.err)
            case RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET, RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE:
                // With auto.offset.reset=error the partition stops fetching until it is sought: the owner decides.
                if let rkt = m.rkt {
                    let partition = TopicPartition(String(cString: rd_kafka_topic_name(rkt)), m.partition)
                    offsetErrors.withLock { _ = $0.insert(partition) }
                }
                logger.warning("offset error: \(String(cString: rd_kafka_err2str(m.err)))")
                return nil
            default:
                client.context.lastClientError.withLock { $0 = KafkaError(.consume, "poll", error: m.err) }
                logger.debug("consumer event: \(String(cString: rd_kafka_err2str(m.err)))")
                return nil
            }
        }
        client.context.lastClientError.withLock { $0 = nil }
        return message(pointer, topics: &topics)
    }

    /// The message `pointer` holds, copied out (it has no error).
    private func message(
        _ pointer: UnsafeMutablePointer<rd_kafka_message_t>, topics: inout TopicNameCache
    ) -> KafkaMessage {
        let m = pointer.pointee
        let topic = topicName(m.rkt, cache: &topics)
        let value = m.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: m.len)) } ?? []
        let key = m.key.map { Array(UnsafeRawBufferPointer(start: $0, count: m.key_len)) }
        var headers: [KafkaHeader] = []
        var hdrs: OpaquePointer? = nil
        if readHeaders, rd_kafka_message_headers(pointer, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR, let hdrs {
            var index = 0
            var name: UnsafePointer<CChar>? = nil
            var valuePointer: UnsafeRawPointer? = nil
            var size = 0
            while rd_kafka_header_get_all(hdrs, index, &name, &valuePointer, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                let bytes = valuePointer.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }
                headers.append(KafkaHeader(name: name.map { String(cString: $0) } ?? "", value: bytes))
                index += 1
            }
        }
        var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let timestamp = rd_kafka_message_timestamp(pointer, &timestampType)
        return KafkaMessage(
            topic: topic, partition: m.partition, offset: m.offset, key: key, value: value, headers: headers,
            timestampMilliseconds: timestampType == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : timestamp)
    }

    private func topicName(_ rkt: OpaquePointer?, cache: inout TopicNameCache) -> String {
        guard let rkt else { return "" }
        let key = UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(rkt)))
        // Messages of one poll batch mostly come from one topic: skip the lock and the hash for a repeat.
        if key == cache.key { return cache.name }
        let name: String
        if let cached = topicNames.withLock({ $0[key] }) {
            name = cached
        } else {
            name = String(cString: rd_kafka_topic_name(rkt))
            topicNames.withLock { $0[key] = name }
        }
        cache = TopicNameCache(key: key, name: name)
        return name
    }
}

/// The last topic name a poll loop resolved (`key` is the `rd_kafka_topic_t` address; 0 = none).
private struct TopicNameCache {
    var key: UInt = 0
    var name: String = ""
}

/// Batches of messages from a ``KafkaConsumer``.
public struct KafkaBatches: AsyncSequence, Sendable {
    public typealias Element = [KafkaMessage]
    let consumer: KafkaConsumer
    let maxMessages: Int
    let timeout: Duration

    public struct AsyncIterator: AsyncIteratorProtocol {
        let consumer: KafkaConsumer
        let maxMessages: Int
        let timeout: Duration
        public mutating func next() async throws -> [KafkaMessage]? {
            try await consumer.nextBatch(maxMessages: maxMessages, timeout: timeout)
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(consumer: consumer, maxMessages: maxMessages, timeout: timeout)
    }
}

func makeList(_ entries: [(TopicPartition, KafkaOffset?)]) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
    let list = rd_kafka_topic_partition_list_new(Int32(max(entries.count, 1)))!
    for (partition, offset) in entries {
        let element = rd_kafka_topic_partition_list_add(list, partition.topic, partition.partition)!
        if let offset { element.pointee.offset = offset.rawValue }
    }
    return list
}

func partitions(of list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> [(TopicPartition, Int64, rd_kafka_resp_err_t)] {
    (0..<Int(list.pointee.cnt)).map { index in
        let element = list.pointee.elems[index]
        return (TopicPartition(String(cString: element.topic), element.partition), element.offset, element.err)
    }
}

private func handleRebalance(
    _ handle: OpaquePointer, _ err: rd_kafka_resp_err_t, _ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>,
    _ handler: KafkaRebalanceHandler, _ logger: Logger
) {
    let cooperative = String(cString: rd_kafka_rebalance_protocol(handle)) == "COOPERATIVE"
    let affected = partitions(of: list).map(\.0)
    switch err {
    case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
        let offsets = handler.assigned(affected)
        for index in 0..<Int(list.pointee.cnt) {
            let element = list.pointee.elems[index]
            let partition = TopicPartition(String(cString: element.topic), element.partition)
            list.pointee.elems[index].offset = (offsets[partition] ?? .committed).rawValue
        }
        if cooperative {
            if let error = rd_kafka_incremental_assign(handle, list) {
                logger.error("incremental assign failed: \(String(cString: rd_kafka_error_string(error)))")
                rd_kafka_error_destroy(error)
            }
        } else {
            let result = rd_kafka_assign(handle, list)
            if result != RD_KAFKA_RESP_ERR_NO_ERROR {
                logger.error("assign failed: \(String(cString: rd_kafka_err2str(result)))")
            }
        }
        // librdkafka keeps a partition's pause (rd_kafka_pause_partitions) across its revocation: a partition this
        // member paused, lost in a rebalance and was given back stayed paused — assigned, never fetched, nothing
        // said (the seed-505 chaos stall). A fresh assignment is fetched; whoever must pause it again does so
        // after this callback (``EffectivelyOnceConsumer`` pauses its stopped partitions after the poll).
        let resumed = rd_kafka_resume_partitions(handle, list)
        if resumed != RD_KAFKA_RESP_ERR_NO_ERROR {
            logger.error("resume of the assigned partitions failed: \(String(cString: rd_kafka_err2str(resumed)))")
        }
    case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
        handler.revoked(affected)
        if cooperative {
            if let error = rd_kafka_incremental_unassign(handle, list) {
                logger.error("incremental unassign failed: \(String(cString: rd_kafka_error_string(error)))")
                rd_kafka_error_destroy(error)
            }
        } else {
            _ = rd_kafka_assign(handle, nil)
        }
    default:
        logger.warning("rebalance error: \(String(cString: rd_kafka_err2str(err)))")
        _ = rd_kafka_assign(handle, nil)
    }
}

private let rebalanceCallback: @convention(c) (
    OpaquePointer?, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?, UnsafeMutableRawPointer?
) -> Void = { handle, err, list, opaque in
    guard let handle, let list, let context = RDKafkaClient.context(of: opaque) else { return }
    let body = context.rebalance.withLock { $0 }
    body?(handle, err, list)
}
