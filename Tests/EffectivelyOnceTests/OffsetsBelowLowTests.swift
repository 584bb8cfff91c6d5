@testable import EffectivelyOnce
import Foundation
import Kafka
import Postgres
import Synchronization
import TestSupport
import Testing

/// Messages deleted before the group consumed them (retention ran while the consumers were down): the stored offset
/// is below the partition's low watermark. The devbroker's mock cluster cannot be told to delete records, but it
/// keeps at most 5 MiB per partition and drops the oldest message sets beyond that (librdkafka's
/// `rd_kafka_mock_msgset_new`: "Remove old msgsets until within limits"), moving the low watermark up as a
/// retention run would. The test fills a partition past that while its group is stopped.
@Suite("Offsets stored below the broker's low watermark")
struct OffsetsBelowLowTests {
    @Test("a partition whose unconsumed messages were deleted stops loudly, hands nothing on, and resumes where the operator says")
    func belowLowWatermarkStops() async throws {
        let topic = try TestTopics.single("below-low", partitions: 1)
        let partition = TopicPartition(topic, 0)
        let database = try TestEnvironment.databaseURL()
        let connection = try PostgresConnection.connect(
            PostgresConfiguration(connectionString: database), logger: TestEnvironment.logger)
        let group = TestEnvironment.unique("below-low")
        let store = OffsetStore(group: group)
        defer {
            _ = try? connection.execute("DELETE FROM consumer_offsets WHERE consumer_group = $1", [group])
            _ = try? connection.execute("DELETE FROM offset_resets WHERE consumer_group = $1", [group])
        }
        let kafka = KafkaClientOptions(bootstrapServers: try TestEnvironment.kafkaBootstrap())
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(client: kafka), logger: TestEnvironment.logger)
        for index in 0..<3 { try producer.produce(KafkaOutgoingMessage(topic: topic, key: "k\(index)", value: [UInt8(index)])) }
        try producer.flush()

        func run(_ writer: OffsetsAheadTests.RecordingWriter) -> (EffectivelyOnceConsumer, Task<Void, any Error>) {
            var settings = EffectivelyOnceConsumer.Settings(group: group, topics: [topic])
            settings.batchSize = 100
            let consumer = EffectivelyOnceConsumer(
                settings: settings, kafka: kafka, postgres: PostgresConfiguration(connectionString: database),
                writer: writer, logger: TestEnvironment.logger)
            return (consumer, Task.detached { try await onThread("consumer") { try consumer.runBlocking() } })
        }
        // The group consumes the three messages; PostgreSQL keeps offset 3.
        let (consumer1, task1) = run(OffsetsAheadTests.RecordingWriter())
        let consumed = await eventually(timeout: TestEnvironment.consumerDeadline) {
            try store.load([partition], from: connection)[partition] == 3
        }
        consumer1.stop()
        try await task1.value
        #expect(consumed)

        // While the group is down, 16 messages of 400 KiB (6.4 MiB, one message set each) arrive: the broker keeps
        // 5 MiB and deletes the oldest, the three consumed ones and the first new ones among them.
        let filler = [UInt8](repeating: 0x61, count: 400 * 1_024)
        for index in 0..<16 {
            try producer.produce(KafkaOutgoingMessage(topic: topic, key: "big\(index)", value: filler))
            try producer.flush()
        }
        let admin = try KafkaAdmin(options: kafka, logger: TestEnvironment.logger)
        let marks = try admin.watermarks(partition)
        #expect(marks.high == 19)
        #expect(marks.low > 3, "the broker kept every message (low \(marks.low)): the test proves nothing")

        let writer = OffsetsAheadTests.RecordingWriter()
        let (consumer2, task2) = run(writer)
        defer { consumer2.stop() }
        let stopped = await eventually(timeout: TestEnvironment.consumerDeadline) {
            consumer2.stoppedPartitions.first?.contains("stored 3, broker low \(marks.low)") == true
        }
        #expect(stopped, "not stopped: \(consumer2.stoppedPartitions)")
        #expect(consumer2.stoppedPartitions.first?.contains("were deleted before this group consumed them") == true,
                "\(consumer2.stoppedPartitions)")
        try await Task.sleep(for: .seconds(2))
        #expect(writer.seen.withLock { $0 }.isEmpty, "messages after the gap were handed on as if nothing was missing")
        #expect(try store.load([partition], from: connection)[partition] == 3, "the stored offset moved")

        // The operator decides: resume at the earliest message the broker still has. Recorded; resumes by itself.
        try store.reset(partition, to: marks.low, operator: "tester", reason: "retention deleted 3..\(marks.low - 1)", on: connection)
        let resumed = await eventually(timeout: TestEnvironment.consumerDeadline) {
            consumer2.stoppedPartitions.isEmpty && writer.seen.withLock { $0.count } == Int(marks.high - marks.low)
        }
        #expect(resumed, "stopped: \(consumer2.stoppedPartitions), seen: \(writer.seen.withLock { $0 })")
        #expect(writer.seen.withLock { $0 }.sorted() == Array(marks.low..<marks.high))
        consumer2.stop()
        try await task2.value
    }
}
