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

        // Stopped at assignment or when the broker reports the position out of range; the text follows the broker.
        let stopped = await eventually(timeout: TestEnvironment.consumerDeadline) {
            consumer.stoppedPartitions.first?.contains("stored 50, broker high 5") == true
        }
        #expect(stopped, "the partition was not stopped: \(consumer.stoppedPartitions)")
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

    /// The second finding, the harder half: the broker lost its data and was refilled past the offset
    /// PostgreSQL stored (a recreated topic, a restore). The watermarks then look fine; only the messages differ.
    @Test("a partition refilled past the stored offset with other messages stops (identity check), and resumes after a recorded reset")
    func refilledPartitionStops() async throws {
        let original = try TestTopics.single("refill-a", partitions: 1)
        let refilled = try TestTopics.single("refill-b", partitions: 1)
        let database = try TestEnvironment.databaseURL()
        let connection = try PostgresConnection.connect(
            PostgresConfiguration(connectionString: database), logger: TestEnvironment.logger)
        let group = TestEnvironment.unique("refill")
        let store = OffsetStore(group: group)
        defer {
            _ = try? connection.execute("DELETE FROM consumer_offsets WHERE consumer_group = $1", [group])
            _ = try? connection.execute("DELETE FROM offset_resets WHERE consumer_group = $1", [group])
        }
        let kafka = KafkaClientOptions(bootstrapServers: try TestEnvironment.kafkaBootstrap())
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(client: kafka), logger: TestEnvironment.logger)
        for index in 0..<5 {
            try producer.produce(KafkaOutgoingMessage(topic: original, key: "k\(index)", value: Array("first-\(index)".utf8)))
        }
        for index in 0..<8 {
            try producer.produce(KafkaOutgoingMessage(topic: refilled, key: "k\(index)", value: Array("second-\(index)".utf8)))
        }
        try producer.flush()

        // The group consumes the five messages of the first life of the topic; PostgreSQL keeps offset 5 and the
        // identity of message 4.
        func run(_ topic: String, _ writer: RecordingWriter) -> (EffectivelyOnceConsumer, Task<Void, any Error>) {
            var settings = EffectivelyOnceConsumer.Settings(group: group, topics: [topic])
            settings.batchSize = 100
            let consumer = EffectivelyOnceConsumer(
                settings: settings, kafka: kafka, postgres: PostgresConfiguration(connectionString: database),
                writer: writer, logger: TestEnvironment.logger)
            return (consumer, Task.detached { try await onThread("consumer") { try consumer.runBlocking() } })
        }
        let first = RecordingWriter()
        let (consumer1, task1) = run(original, first)
        let consumed = await eventually(timeout: TestEnvironment.consumerDeadline) {
            try store.positions([TopicPartition(original, 0)], from: connection)[TopicPartition(original, 0)]?.next == 5
        }
        consumer1.stop()
        try await task1.value
        #expect(consumed)
        let position = try #require(try store.positions([TopicPartition(original, 0)], from: connection)[TopicPartition(original, 0)])
        #expect(position.lastMessage?.hasPrefix("sha256:") == true, "\(position)")

        // The topic "comes back" with other messages, past offset 5: PostgreSQL's row now describes it.
        try connection.execute(
            "UPDATE consumer_offsets SET topic = $2 WHERE consumer_group = $1 AND topic = $3", [group, refilled, original])
        let second = RecordingWriter()
        let (consumer2, task2) = run(refilled, second)
        defer { consumer2.stop() }
        let stopped = await eventually(timeout: TestEnvironment.consumerDeadline) {
            consumer2.stoppedPartitions.first?.contains("is not the one consumed") == true
        }
        #expect(stopped, "not stopped: \(consumer2.stoppedPartitions)")
        #expect(consumer2.stoppedPartitions.first?.contains("stored 5") == true, "\(consumer2.stoppedPartitions)")
        try await Task.sleep(for: .seconds(2))
        #expect(second.seen.withLock { $0 }.isEmpty, "messages of the refilled partition were handed on")

        // The operator decides: read everything the broker has now. Recorded; the consumer resumes by itself.
        try store.reset(TopicPartition(refilled, 0), to: 0, operator: "tester", reason: "topic recreated", on: connection)
        let resumed = await eventually(timeout: TestEnvironment.consumerDeadline) {
            consumer2.stoppedPartitions.isEmpty && second.seen.withLock { $0.count } == 8
        }
        #expect(resumed, "stopped: \(consumer2.stoppedPartitions), seen: \(second.seen.withLock { $0 })")
        let recorded = try connection.query(
            "SELECT previous_offset, new_offset, operator, reason FROM offset_resets WHERE consumer_group = $1", [group])
        #expect(recorded.count == 1)
        #expect(try recorded.first?.decode(Int64.self, "previous_offset") == 5)
        #expect(try recorded.first?.decode(String.self, "operator") == "tester")
        consumer2.stop()
        try await task2.value
    }
}
