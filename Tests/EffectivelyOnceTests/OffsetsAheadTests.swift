@testable import EffectivelyOnce
import Foundation
import Kafka
import Postgres
import Synchronization
import TestSupport
import Testing

/// The scenario: the broker lost its data (killed, restarted empty, a topic recreated) while PostgreSQL kept
/// the group's offsets. New messages then sit below the stored offset; the consumer used to skip them all silently.
@Suite("Offsets stored ahead of the broker")
struct OffsetsAheadTests {
    /// Counts what it is given.
    final class RecordingWriter: BatchWriter {
        let seen = Mutex<[Int64]>([])
        var outboxSource: String { "test-ahead" }
        func prepare(_ connection: PostgresConnection) throws {}
        func write(_ messages: [KafkaMessage], into transaction: PostgresConnection) throws -> BatchReport {
            seen.withLock { $0 += messages.map(\.offset) }
            var report = BatchReport()
            report.processed = messages.count
            return report
        }
    }

    @Test("a partition whose stored offset is beyond the broker stops loudly, skips nothing, and resumes where the operator says")
    func stopsAndResumes() async throws {
        let topic = try TestTopics.single("ahead", partitions: 1)
        let partition = TopicPartition(topic, 0)
        let database = try TestEnvironment.databaseURL()
        let connection = try PostgresConnection.connect(
            PostgresConfiguration(connectionString: database), logger: TestEnvironment.logger)
        let group = TestEnvironment.unique("ahead")
        let store = OffsetStore(group: group)
        defer { _ = try? connection.execute("DELETE FROM consumer_offsets WHERE consumer_group = $1", [group]) }
        // PostgreSQL remembers 50 messages consumed; the broker has none.
        try store.reset(partition, to: 50, on: connection)
        let kafka = KafkaClientOptions(bootstrapServers: try TestEnvironment.kafkaBootstrap())
        let writer = RecordingWriter()
        var settings = EffectivelyOnceConsumer.Settings(group: group, topics: [topic])
        settings.batchSize = 100
        let consumer = EffectivelyOnceConsumer(
            settings: settings, kafka: kafka, postgres: PostgresConfiguration(connectionString: database),
            writer: writer, logger: TestEnvironment.logger)
        let run = Task.detached { try await onThread("consumer") { try consumer.runBlocking() } }
        defer { consumer.stop() }
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(client: kafka), logger: TestEnvironment.logger)
        for index in 0..<5 { try producer.produce(KafkaOutgoingMessage(topic: topic, key: "k\(index)", value: [UInt8(index)])) }
        try producer.flush()

        let stopped = await eventually(timeout: TestEnvironment.consumerDeadline) { consumer.stoppedPartitions.count == 1 }
        #expect(stopped, "the partition was not stopped")
        #expect(consumer.stoppedPartitions.first?.contains("stored 50, broker high 5") == true, "\(consumer.stoppedPartitions)")
        #expect(writer.seen.withLock { $0 }.isEmpty, "messages below the stored offset were handed on")
        #expect(try store.load([partition], from: connection)[partition] == 50, "the stored offset moved")

        // The operator decides: read everything the broker has.
        try store.reset(partition, to: 0, on: connection)
        let resumed = await eventually(timeout: TestEnvironment.consumerDeadline) {
            consumer.stoppedPartitions.isEmpty && writer.seen.withLock { $0.count } == 5
        }
        #expect(resumed, "stopped: \(consumer.stoppedPartitions), seen: \(writer.seen.withLock { $0 })")
        #expect(writer.seen.withLock { $0 }.sorted() == [0, 1, 2, 3, 4])
        #expect(await eventually(timeout: .seconds(30)) { try store.load([partition], from: connection)[partition] == 5 })
        consumer.stop()
        try await run.value
    }
}
