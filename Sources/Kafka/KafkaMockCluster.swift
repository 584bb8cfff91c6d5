import CRdKafka
import Logging

/// librdkafka's mock Kafka cluster: real Kafka wire protocol, in memory, on 127.0.0.1 with ports it chooses.
///
/// For tests and demos only. Limits on librdkafka 2.0.2: no CreateTopics requests (they time out; topics are made with
/// ``createTopic(_:partitions:replicationFactor:)``), no offsets-for-times (it answers `-1`), no read_committed, and only about 5 MiB
/// or 100k batches kept per partition — older data is dropped silently, so size test data under that.
public final class KafkaMockCluster: @unchecked Sendable {
    // The mock cluster lives inside the client handle that created it; both live as long as this object.
    private let client: RDKafkaClient
    let cluster: OpaquePointer  // internal: the fault verbs in ForTesting/KafkaMockCluster+Faults.swift use it

    /// The `host:port,…` list clients should use.
    public let bootstrapServers: String

    public init(brokers: Int = 1, logger: Logger) throws(KafkaError) {
        client = try RDKafkaClient(kind: RD_KAFKA_PRODUCER, properties: ["log_level": "4"], logger: logger)
        guard let cluster = rd_kafka_mock_cluster_new(client.handle, Int32(brokers)) else {
            throw KafkaError(.clientCreation, "could not start a mock cluster of \(brokers) brokers")
        }
        self.cluster = cluster
        bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
    }

    deinit {
        rd_kafka_mock_cluster_destroy(cluster)
    }

    /// Creates a topic (an existing one is left as it is).
    public func createTopic(_ name: String, partitions: Int, replicationFactor: Int = 1) throws(KafkaError) {
        let err = rd_kafka_mock_topic_create(cluster, name, Int32(partitions), Int32(replicationFactor))
        if err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS {
            throw KafkaError(.admin, "mock topic '\(name)'", error: err)
        }
    }

    /// Delays every response of the brokers (`-1`: all of them) by `rtt`, to simulate a slow network or broker.
    public func setRoundTripTime(_ rtt: Duration, broker: Int32 = -1) throws(KafkaError) {
        let err = rd_kafka_mock_broker_set_rtt(cluster, broker, Int32(clamping: rtt.milliseconds))
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(.admin, "mock broker \(broker) round-trip time", error: err) }
    }

    /// Makes the next `count` Produce requests fail with `error` (a librdkafka `rd_kafka_resp_err_t` value; e.g.
    /// 29, topic authorization failed, which the producer does not retry), to simulate failed deliveries.
    public func failNextProduceRequests(_ count: Int, error: Int32) {
        let errors = [rd_kafka_resp_err_t](repeating: rd_kafka_resp_err_t(rawValue: error), count: count)
        rd_kafka_mock_push_request_errors_array(cluster, 0, count, errors)
    }

    /// Takes a broker down (connections refused) or brings it back, to simulate broker loss.
    public func setBroker(_ id: Int32, up: Bool) throws(KafkaError) {
        let err = up ? rd_kafka_mock_broker_set_up(cluster, id) : rd_kafka_mock_broker_set_down(cluster, id)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(.admin, "mock broker \(id)", error: err) }
    }
}
