import CRdKafka
import Logging

/// A topic as the cluster describes it.
public struct KafkaTopicMetadata: Sendable, Hashable {
    public var name: String
    public var partitions: [KafkaPartitionMetadata]
}

/// A partition as the cluster describes it.
public struct KafkaPartitionMetadata: Sendable, Hashable {
    public var id: Int32
    public var leader: Int32
    public var replicas: Int
}

/// A topic to create.
public struct KafkaTopicSpec: Sendable, Hashable {
    public var name: String
    public var partitions: Int
    public var replicationFactor: Int
    /// Topic-level configuration (`retention.ms`, `min.insync.replicas`, …).
    public var config: [String: String]

    public init(name: String, partitions: Int, replicationFactor: Int = 1, config: [String: String] = [:]) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.config = config
    }
}

/// Cluster queries and topic administration.
public final class KafkaAdmin: Sendable {
    let client: RDKafkaClient

    public init(options: KafkaClientOptions, logger: Logger) throws(KafkaError) {
        var properties = options.dictionary()
        properties.merge(options.properties(for: .producer)) { _, override in override }
        client = try RDKafkaClient(kind: RD_KAFKA_PRODUCER, properties: properties, logger: logger)
    }

    /// Topics of the cluster (all, or just `topic`), with their partitions. Internal topics are left out.
    public func metadata(topic: String? = nil, timeout: Duration = .seconds(10)) throws(KafkaError) -> [KafkaTopicMetadata] {
        var metadata: UnsafePointer<rd_kafka_metadata>? = nil
        let rkt = topic.map { rd_kafka_topic_new(client.handle, $0, nil) }
        defer { if let rkt = rkt ?? nil { rd_kafka_topic_destroy(rkt) } }
        let err = rd_kafka_metadata(client.handle, topic == nil ? 1 : 0, rkt ?? nil, &metadata, Int32(clamping: timeout.milliseconds))
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
            throw KafkaError(.query, "metadata for \(topic.map { "topic '\($0)'" } ?? "all topics")", error: err)
        }
        defer { rd_kafka_metadata_destroy(metadata) }
        var result: [KafkaTopicMetadata] = []
        for index in 0..<Int(metadata.pointee.topic_cnt) {
            let t = metadata.pointee.topics[index]
            let name = String(cString: t.topic)
            if name.hasPrefix("__") { continue }
            if t.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw KafkaError(.query, "metadata for topic '\(name)'", error: t.err)
            }
            let partitions = (0..<Int(t.partition_cnt)).map { p in
                let part = t.partitions[p]
                return KafkaPartitionMetadata(id: part.id, leader: part.leader, replicas: Int(part.replica_cnt))
            }
            result.append(KafkaTopicMetadata(name: name, partitions: partitions.sorted { $0.id < $1.id }))
        }
        return result.sorted { $0.name < $1.name }
    }

    /// The low (first kept) and high (next to be written) offsets of a partition, asked of its leader.
    public func watermarks(_ partition: TopicPartition, timeout: Duration = .seconds(10)) throws(KafkaError) -> (low: Int64, high: Int64) {
        var low: Int64 = -1
        var high: Int64 = -1
        let err = rd_kafka_query_watermark_offsets(
            client.handle, partition.topic, partition.partition, &low, &high, Int32(clamping: timeout.milliseconds))
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(.query, "watermarks of \(partition)", error: err) }
        return (low, high)
    }

    /// For each partition, the first offset whose timestamp is at or after the given time (milliseconds since the
    /// epoch); `-1` where no such message exists yet.
    ///
    /// Throws ``KafkaError/Code/unsupportedByBroker`` where the broker rejects the request. librdkafka 2.0.2's mock
    /// cluster does not reject it but answers `-1` for every partition (measured by `KafkaAdminTests`): callers that
    /// get `-1` for a partition whose high watermark is above its low one must scan instead.
    public func offsetsForTimes(
        _ times: [TopicPartition: Int64], timeout: Duration = .seconds(10)
    ) throws(KafkaError) -> [TopicPartition: Int64] {
        let list = makeList(times.map { ($0.key, KafkaOffset($0.value)) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_offsets_for_times(client.handle, list, Int32(clamping: timeout.milliseconds))
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw offsetsForTimesError(err) }
        var result: [TopicPartition: Int64] = [:]
        for (partition, offset, partitionError) in partitions(of: list) {
            if partitionError != RD_KAFKA_RESP_ERR_NO_ERROR { throw offsetsForTimesError(partitionError) }
            result[partition] = offset
        }
        return result
    }

    private func offsetsForTimesError(_ err: rd_kafka_resp_err_t) -> KafkaError {
        switch err {
        case RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE, RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION,
            RD_KAFKA_RESP_ERR_INVALID_REQUEST, RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED, RD_KAFKA_RESP_ERR_UNKNOWN:
            return KafkaError(
                .unsupportedByBroker,
                "offsets-for-times is not supported by this broker (librdkafka's mock cluster lacks it); scan instead",
                error: err)
        default:
            return KafkaError(.query, "offsets for times", error: err)
        }
    }

    /// Creates topics; with `ifNotExists` an existing topic of that name is not an error.
    public func createTopics(
        _ topics: [KafkaTopicSpec], ifNotExists: Bool = true, timeout: Duration = .seconds(30)
    ) throws(KafkaError) {
        guard !topics.isEmpty else { return }
        var errorBuffer = [CChar](repeating: 0, count: 512)
        var newTopics: [OpaquePointer?] = []
        defer { for topic in newTopics { rd_kafka_NewTopic_destroy(topic) } }
        for spec in topics {
            guard let topic = rd_kafka_NewTopic_new(
                spec.name, Int32(spec.partitions), Int32(spec.replicationFactor), &errorBuffer, errorBuffer.count)
            else {
                let detail = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                throw KafkaError(.admin, "topic '\(spec.name)': \(detail)")
            }
            newTopics.append(topic)
            for (key, value) in spec.config.sorted(by: { $0.key < $1.key }) {
                let err = rd_kafka_NewTopic_set_config(topic, key, value)
                if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                    throw KafkaError(.admin, "topic '\(spec.name)' config '\(key)'", error: err)
                }
            }
        }
        let queue = rd_kafka_queue_new(client.handle)
        defer { rd_kafka_queue_destroy(queue) }
        newTopics.withUnsafeMutableBufferPointer { buffer in
            rd_kafka_CreateTopics(client.handle, buffer.baseAddress, buffer.count, nil, queue)
        }
        guard let event = rd_kafka_queue_poll(queue, Int32(clamping: timeout.milliseconds)) else {
            throw KafkaError(.timeout, "create topics: no answer within \(timeout)")
        }
        defer { rd_kafka_event_destroy(event) }
        let eventError = rd_kafka_event_error(event)
        if eventError != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(.admin, "create topics: \(String(cString: rd_kafka_event_error_string(event)))",
                             rdKafkaCode: eventError.rawValue)
        }
        guard let result = rd_kafka_event_CreateTopics_result(event) else { return }
        var count = 0
        guard let results = rd_kafka_CreateTopics_result_topics(result, &count) else { return }
        for index in 0..<count {
            let topicResult = results[index]
            let err = rd_kafka_topic_result_error(topicResult)
            if err == RD_KAFKA_RESP_ERR_NO_ERROR || (ifNotExists && err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
                continue
            }
            let name = String(cString: rd_kafka_topic_result_name(topicResult))
            let text = rd_kafka_topic_result_error_string(topicResult).map { String(cString: $0) } ?? ""
            throw KafkaError(.admin, "create topic '\(name)': \(text)", rdKafkaCode: err.rawValue)
        }
    }
}
