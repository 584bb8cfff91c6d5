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
        let topics = try admin.metadata()
        let group = try #require(topics.first { $0.name == "test.kafka.group" })
        #expect(group.partitions.map(\.id) == Array(0..<6))
        let one = try admin.metadata(topic: "test.kafka.admin")
        #expect(one.count == 1)
        #expect(one.first?.partitions.count == 5)
    }

    @Test("watermarks are ordered and grow with produced messages")
    func watermarks() async throws {
        let partition = TopicPartition("test.kafka.admin", 4)
        let before = try admin.watermarks(partition)
        #expect(before.low <= before.high)
        let producer = try KafkaProducer(
            configuration: KafkaProducerConfiguration(client: KafkaClientOptions(bootstrapServers: try TestEnvironment.kafkaBootstrap())),
            logger: TestEnvironment.logger)
        try await producer.send(KafkaOutgoingMessage(topic: partition.topic, partition: 4, key: nil, value: [42]))
        try producer.close()
        #expect(try admin.watermarks(partition).high == before.high + 1)
    }

    @Test("offsets-for-times answers, or says clearly that the broker lacks it")
    func offsetsForTimes() throws {
        do {
            let result = try admin.offsetsForTimes([TopicPartition("test.kafka.admin", 0): 0])
            #expect(result[TopicPartition("test.kafka.admin", 0)] != nil)
        } catch {
            #expect(error.code == .unsupportedByBroker)
            #expect(error.description.contains("offsets-for-times"))
        }
    }

    @Test("creating topics on the mock cluster either works or fails with an admin error")
    func createTopics() throws {
        do {
            try admin.createTopics([KafkaTopicSpec(name: TestEnvironment.unique("created"), partitions: 2)], timeout: .seconds(10))
        } catch {
            #expect(error.code == .admin || error.code == .timeout || error.code == .unsupportedByBroker)
        }
    }
}
