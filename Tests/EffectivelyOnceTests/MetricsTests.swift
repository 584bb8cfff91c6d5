import Audit
@testable import EffectivelyOnce
import Foundation
import Kafka
import Messages
import Metrics
import MetricsTestKit
import Pages
import Postgres
import ServiceCommands
import Services
import Simulation
import Store
import TestSupport
import Testing

@Suite("Consumer metrics")
struct MetricsTests {
    @Test("a consumer counts messages, decisions by outcome and dead letters under OpenTelemetry-style names")
    func consumerMetrics() async throws {
        let metrics = TestMetrics()
        let database = try TestEnvironment.databaseURL()
        let kafka = KafkaClientOptions(bootstrapServers: try TestEnvironment.kafkaBootstrap())
        let writer = CountingWriter()
        let group = TestEnvironment.unique("metrics")
        let topic = try TestTopics.single("processing.metrics", partitions: 3)
        var settings = EffectivelyOnceConsumer.Settings(group: group, topics: [topic])
        settings.batchSize = 50
        let consumer = EffectivelyOnceConsumer(
            settings: settings, kafka: kafka, postgres: PostgresConfiguration(connectionString: database),
            writer: writer, logger: TestEnvironment.logger, metrics: metrics)
        // Start at the end, then send 30 messages.
        let admin = try KafkaAdmin(options: kafka, logger: TestEnvironment.logger)
        let connection = try PostgresConnection.connect(PostgresConfiguration(connectionString: database), logger: TestEnvironment.logger)
        for partition in 0..<3 {
            let high = try admin.watermarks(TopicPartition(topic, Int32(partition))).high
            try connection.execute(
                "INSERT INTO consumer_offsets (consumer_group, topic, partition, next_offset) VALUES ($1, $2, $3, $4)",
                [group, topic, partition, high])
        }
        let run = Task.detached { try await onThread("consumer") { try consumer.runBlocking() } }
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(client: kafka), logger: TestEnvironment.logger)
        for index in 0..<30 { try producer.produce(KafkaOutgoingMessage(topic: topic, key: "\(index)", value: [1])) }
        try producer.flush()
        let counted = await eventually(timeout: TestEnvironment.consumerDeadline) {
            (try? metrics.expectCounter("messaging_client_consumed_messages", [("consumer_group", group)]).totalValue) == 30
        }
        consumer.stop()
        try await run.value
        #expect(counted)
        #expect(try metrics.expectCounter("motcua_decisions", [("consumer_group", group), ("outcome", "counted")]).totalValue == 30)
        #expect(try connection.query(
            "SELECT sum(next_offset) AS s FROM consumer_offsets WHERE consumer_group = $1", [group])[0].decode(Int.self, "s") > 0)
    }
}

/// Counts messages; writes nothing but the offsets the consumer advances.
final class CountingWriter: BatchWriter {
    var outboxSource: String { "test-metrics" }
    func prepare(_ connection: PostgresConnection) throws {}
    func write(_ messages: [KafkaMessage], into transaction: PostgresConnection) throws -> BatchReport {
        var report = BatchReport()
        report.processed = messages.count
        report.outcomes["counted"] = messages.count
        return report
    }
}
