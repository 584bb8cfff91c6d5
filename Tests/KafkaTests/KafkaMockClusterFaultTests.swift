import Foundation
import Kafka
import TestSupport
import Testing

/// The mock cluster's fault verbs (what `tools/chaos` drives through the devbroker's control endpoint), each against
/// a cluster of the test's own, in-process, with a real producer: the fault must reach the client as Kafka would
/// deliver it.
@Suite("Kafka mock cluster faults")
struct KafkaMockClusterFaultTests {
    /// Topic authorization failed: the producer does not retry it, so the delivery fails at once.
    static let notAuthorised: Int32 = 29

    func producer(_ cluster: KafkaMockCluster) throws -> KafkaProducer {
        var configuration = KafkaProducerConfiguration(
            client: KafkaClientOptions(bootstrapServers: cluster.bootstrapServers))
        configuration.deliveryTimeout = .seconds(20)
        return try KafkaProducer(configuration: configuration, logger: TestEnvironment.logger)
    }

    func message(_ topic: String) -> KafkaOutgoingMessage {
        KafkaOutgoingMessage(topic: topic, key: "k", value: Array("v".utf8))
    }

    @Test("error names and request names map to librdkafka's codes and Kafka's ApiKeys")
    func names() {
        #expect(KafkaMockCluster.errorCode(named: "REQUEST_TIMED_OUT") == 7)
        #expect(KafkaMockCluster.errorCode(named: "TOPIC_AUTHORIZATION_FAILED") == Self.notAuthorised)
        #expect(KafkaMockCluster.errorCode(named: "_TRANSPORT") == -195)
        #expect(KafkaMockCluster.errorCode(named: "NO_SUCH_ERROR") == nil)
        #expect(KafkaMockCluster.errorName(7) == "REQUEST_TIMED_OUT")
        #expect(KafkaMockCluster.Request(name: "join") == .joinGroup)
        #expect(KafkaMockCluster.Request(name: "commit")?.rawValue == 8)
        #expect(KafkaMockCluster.Request(name: "nonsense") == nil)
        #expect(Set(KafkaMockCluster.Request.allCases.map(\.name)).count == KafkaMockCluster.Request.allCases.count)
    }

    /// After the faulted delivery, a new producer's (this one keeps the topic's authorization error until its next
    /// metadata refresh) is acknowledged: the error was used up.
    func deliversAgain(_ cluster: KafkaMockCluster, _ topic: String) async throws {
        let fresh = try producer(cluster)
        defer { try? fresh.close() }
        _ = try await fresh.send(message(topic))
    }

    @Test("errors pushed for produce requests fail the next delivery; the one after is acknowledged")
    func produceErrors() async throws {
        let cluster = try KafkaMockCluster(logger: TestEnvironment.logger)
        try cluster.createTopic("faults", partitions: 1)
        let producer = try producer(cluster)
        defer { try? producer.close() }
        _ = try await producer.send(message("faults"))  // connected, metadata known
        cluster.pushRequestErrors(.produce, errors: [Self.notAuthorised])
        await #expect { _ = try await producer.send(message("faults")) } throws: { error in
            (error as? KafkaError)?.rdKafkaCode == Self.notAuthorised
        }
        try await deliversAgain(cluster, "faults")
    }

    @Test("a broker's delayed answer (the variadic librdkafka call, through the C shim) arrives after the delay")
    func delayedBrokerError() async throws {
        let cluster = try KafkaMockCluster(logger: TestEnvironment.logger)
        try cluster.createTopic("delayed", partitions: 1)
        let producer = try producer(cluster)
        defer { try? producer.close() }
        _ = try await producer.send(message("delayed"))
        try cluster.pushBrokerRequestErrors(
            broker: 1, .produce, error: Self.notAuthorised, delay: .milliseconds(1500), count: 1)
        let started = ContinuousClock.now
        await #expect { _ = try await producer.send(message("delayed")) } throws: { error in
            (error as? KafkaError)?.rdKafkaCode == Self.notAuthorised
        }
        #expect(ContinuousClock.now - started >= .milliseconds(1400))
        try await deliversAgain(cluster, "delayed")
    }

    @Test("a partition moved to a broker that stays up is writable while the other brokers are down")
    func leaderMove() async throws {
        let cluster = try KafkaMockCluster(brokers: 3, logger: TestEnvironment.logger)
        try cluster.createTopic("moved", partitions: 1, replicationFactor: 3)
        let producer = try producer(cluster)
        defer { try? producer.close() }
        _ = try await producer.send(message("moved"))
        try cluster.setPartitionLeader(topic: "moved", partition: 0, broker: 2)
        try cluster.setGroupCoordinator(group: "any-group", broker: 3)
        try cluster.setBroker(1, up: false)
        try cluster.setBroker(3, up: false)
        let report = try await producer.send(message("moved"))
        #expect(report.partition == 0)
        try cluster.setBroker(1, up: true)
        try cluster.setBroker(3, up: true)
    }

    @Test("an unknown broker id is refused with librdkafka's reason")
    func unknownBroker() throws {
        let cluster = try KafkaMockCluster(brokers: 3, logger: TestEnvironment.logger)
        #expect(throws: KafkaError.self) { try cluster.setBroker(9, up: false) }
        #expect(throws: KafkaError.self) {
            try cluster.pushBrokerRequestErrors(broker: 9, .fetch, error: 0, delay: .milliseconds(10), count: 1)
        }
    }
}
