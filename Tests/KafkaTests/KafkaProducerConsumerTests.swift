import Foundation
import Kafka
import Synchronization
import TestSupport
import Testing

@Suite("Kafka producer and consumer against the devbroker")
struct KafkaProducerConsumerTests {
    let options: KafkaClientOptions

    init() throws {
        options = KafkaClientOptions(bootstrapServers: try TestEnvironment.kafkaBootstrap())
    }

    func producer() throws -> KafkaProducer {
        try KafkaProducer(configuration: KafkaProducerConfiguration(client: options), logger: TestEnvironment.logger)
    }

    @Test("messages keep their keys, values and headers, in order per key")
    func roundTrip() async throws {
        let topic = try TestTopics.single("kafka.roundtrip", partitions: 3)
        let producer = try producer()
        let run = UUID().uuidString
        var sent: [String: [String]] = [:]
        for index in 0..<60 {
            let key = "dossier-\(index % 7)"
            let value = "\(run):\(index)"
            sent[key, default: []].append(value)
            let report = try await producer.send(
                KafkaOutgoingMessage(
                    topic: topic, key: key, value: Array(value.utf8),
                    headers: [KafkaHeader("ce_id", "\(run)-\(index)"), KafkaHeader(name: "empty", value: nil)]))
            #expect(report.topic == topic)
            #expect(report.offset >= 0)
        }
        try producer.close()

        var config = KafkaConsumerConfiguration(client: options, groupID: nil)
        config.offsetReset = .earliest
        let consumer = try KafkaConsumer(configuration: config, logger: TestEnvironment.logger)
        defer { consumer.close() }
        try consumer.assign(Dictionary(uniqueKeysWithValues: (0..<3).map { (TopicPartition(topic, $0), KafkaOffset.beginning) }))
        var received: [String: [String]] = [:]
        var count = 0
        let deadline = ContinuousClock.now + .seconds(30)
        while count < 60 && ContinuousClock.now < deadline {
            for message in try consumer.pollBatch(maxMessages: 100, timeout: .milliseconds(200)) {
                let value = String(decoding: message.value, as: UTF8.self)
                guard value.hasPrefix(run) else { continue }  // earlier runs of this test
                let key = String(decoding: message.key ?? [], as: UTF8.self)
                received[key, default: []].append(value)
                let index = value.split(separator: ":")[1]
                #expect(message.header("ce_id") == "\(run)-\(index)")
                #expect(message.headers.contains { $0.name == "empty" && $0.value == nil })
                #expect(message.timestampMilliseconds != nil)
                count += 1
            }
        }
        #expect(count == 60)
        #expect(received == sent)
    }

    @Test("a consumer that does not read headers gets the payloads without them")
    func withoutHeaders() async throws {
        let topic = try TestTopics.single("kafka.roundtrip", partitions: 3)
        let producer = try producer()
        let run = UUID().uuidString
        let report = try await producer.send(KafkaOutgoingMessage(
            topic: topic, key: run, value: Array(run.utf8), headers: [KafkaHeader("ce_id", run)]))
        try producer.close()
        var config = KafkaConsumerConfiguration(client: options, groupID: nil)
        config.readHeaders = false
        let consumer = try KafkaConsumer(configuration: config, logger: TestEnvironment.logger)
        defer { consumer.close() }
        try consumer.assign([TopicPartition(topic, report.partition): KafkaOffset(report.offset)])
        let message = try #require(try consumer.poll(timeout: .seconds(20)))
        #expect(message.value == Array(run.utf8))
        #expect(message.headers.isEmpty)
    }

    @Test("fire-and-forget produce then flush delivers everything")
    func produceAndFlush() async throws {
        let topic = try TestTopics.single("kafka.batches", partitions: 4)
        let producer = try producer()
        let admin = try KafkaAdmin(options: options, logger: TestEnvironment.logger)
        let before = try (0..<4).map { try admin.watermarks(TopicPartition(topic, $0)).high }.reduce(0, +)
        for index in 0..<2_000 {
            try producer.produce(KafkaOutgoingMessage(topic: topic, key: "k\(index)", value: Array(repeating: 65, count: 100)))
        }
        try producer.flush(timeout: .seconds(30))
        #expect(producer.failedDeliveries == 0)
        #expect(producer.outstanding == 0)
        let after = try (0..<4).map { try admin.watermarks(TopicPartition(topic, $0)).high }.reduce(0, +)
        #expect(after - before == 2_000)
        try producer.close()
    }

    @Test("a send to a partition that does not exist fails with a delivery error naming the topic")
    func deliveryFailure() async throws {
        var config = KafkaProducerConfiguration(client: options)
        config.deliveryTimeout = .seconds(2)
        let topic = try TestTopics.single("kafka.roundtrip", partitions: 3)
        let producer = try KafkaProducer(configuration: config, logger: TestEnvironment.logger)
        await #expect(throws: KafkaError.self) {
            try await producer.send(KafkaOutgoingMessage(topic: topic, partition: 99, key: [1], value: [1]))
        }
        try producer.close()
    }

    @Test("an unknown librdkafka property is a configuration error naming it")
    func badProperty() throws {
        var options = options
        options.properties["no.such.property"] = "1"
        do {
            _ = try KafkaProducer(configuration: KafkaProducerConfiguration(client: options), logger: TestEnvironment.logger)
            Issue.record("expected a configuration error")
        } catch {
            #expect(error.code == .configuration)
            #expect(error.description.contains("no.such.property"))
        }
    }

    @Test("KAFKA_* environment variables become librdkafka properties")
    func environmentPassThrough() {
        let options = KafkaClientOptions.fromEnvironment([
            "KAFKA_BOOTSTRAP": "broker:9093", "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "KAFKA_SASL_MECHANISMS": "SCRAM-SHA-512", "PATH": "/bin",
        ])
        #expect(options.bootstrapServers == "broker:9093")
        #expect(options.properties == ["security.protocol": "SASL_SSL", "sasl.mechanisms": "SCRAM-SHA-512"])
    }

    @Test("the batches sequence yields what was produced")
    func asyncBatches() async throws {
        let topic = try TestTopics.single("kafka.resume", partitions: 2)
        let producer = try producer()
        let run = UUID().uuidString
        for index in 0..<25 {
            try await producer.send(KafkaOutgoingMessage(topic: topic, key: "\(index)", value: Array("\(run)/\(index)".utf8)))
        }
        try producer.close()
        let consumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(client: options, groupID: nil), logger: TestEnvironment.logger)
        try consumer.assign([TopicPartition(topic, 0): .beginning, TopicPartition(topic, 1): .beginning])
        var seen = Set<String>()
        let task = Task {
            for try await batch in consumer.batches(maxMessages: 50, timeout: .milliseconds(100)) {
                for message in batch {
                    let value = String(decoding: message.value, as: UTF8.self)
                    if value.hasPrefix(run) { seen.insert(value) }
                }
                if seen.count == 25 { break }
            }
            return seen.count
        }
        let timeout = Task {
            try await Task.sleep(for: .seconds(30))
            consumer.close()
        }
        let count = try await task.value
        timeout.cancel()
        consumer.close()
        #expect(count == 25)
    }
}
