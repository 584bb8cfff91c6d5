import Kafka
import TestSupport
import Testing

@Suite("Kafka admin queries against the devbroker")
struct KafkaAdminTests {
    let admin: KafkaAdmin
    init() throws {
        admin = try KafkaAdmin(
            options: KafkaClientOptions(bootstrapServers: try TestEnvironment.kafkaBootstrap()), logger: TestEnvironment.logger)
    }

    @Test("metadata lists the devbroker's topics with their partition counts")
    func metadata() throws {
        let six = try TestTopics.single("kafka.group", partitions: 6)
        let five = try TestTopics.single("kafka.admin", partitions: 5)
        let topics = try admin.metadata()
        let group = try #require(topics.first { $0.name == six })
        #expect(group.partitions.map(\.id) == Array(0..<6))
        let one = try admin.metadata(topic: five)
        #expect(one.count == 1)
        #expect(one.first?.partitions.count == 5)
    }

    @Test("watermarks are ordered and grow with produced messages")
    func watermarks() async throws {
        let partition = TopicPartition(try TestTopics.single("kafka.admin", partitions: 5), 4)
        let before = try admin.watermarks(partition)
        #expect(before.low <= before.high)
        let producer = try KafkaProducer(
            configuration: KafkaProducerConfiguration(client: KafkaClientOptions(bootstrapServers: try TestEnvironment.kafkaBootstrap())),
            logger: TestEnvironment.logger)
        try await producer.send(KafkaOutgoingMessage(topic: partition.topic, partition: 4, key: nil, value: [42]))
        try producer.close()
        #expect(try admin.watermarks(partition).high == before.high + 1)
    }

    @Test("offsets-for-times: the mock cluster answers -1 (no message) even where messages exist")
    func offsetsForTimes() async throws {
        // Documents the mock's limit that replay works around by scanning: a real broker returns the first offset
        // at or after the time.
        let partition = TopicPartition(try TestTopics.single("kafka.admin", partitions: 5), 0)
        let producer = try KafkaProducer(
            configuration: KafkaProducerConfiguration(client: KafkaClientOptions(bootstrapServers: try TestEnvironment.kafkaBootstrap())),
            logger: TestEnvironment.logger)
        try await producer.send(KafkaOutgoingMessage(topic: partition.topic, partition: 0, key: nil, value: [1]))
        try producer.close()
        #expect(try admin.watermarks(partition).high > 0)
        let result = try admin.offsetsForTimes([partition: 0], timeout: .seconds(5))
        #expect(result[partition] == -1)
    }

    @Test("CreateTopics against the mock cluster fails with a clear error instead of hanging")
    func createTopicsOnMock() throws {
        // librdkafka 2.0.2's mock cluster does not answer CreateTopics (topics come from the devbroker's list).
        let started = ContinuousClock.now
        do {
            try admin.createTopics([KafkaTopicSpec(name: TestEnvironment.unique("created"), partitions: 2)], timeout: .seconds(3))
            Issue.record("the mock cluster unexpectedly created a topic; update DESIGN notes and this test")
        } catch {
            #expect(error.code == .timeout || error.code == .admin)
            #expect(error.description.contains("create topic"))
        }
        #expect(ContinuousClock.now - started < .seconds(15))
    }
}
