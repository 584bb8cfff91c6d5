@testable import EffectivelyOnce
import Foundation
import Kafka
import Postgres
import Synchronization
import TestSupport
import Testing

/// Regression of the seed-505 chaos stall (RELIABILITY.md): the status projection stopped consuming six partitions
/// for good after a PostgreSQL restart among rebalances. While PostgreSQL is away the consumer pauses every partition
/// it holds; librdkafka keeps that pause on a partition revoked meanwhile, so a partition lost in a rebalance during
/// the outage and given back later stayed paused: assigned, never fetched, no error, lag growing.
@Suite("Consumer: partitions paused during a PostgreSQL outage and reassigned later")
struct PausedReassignedTests {
    /// Records the partitions and offsets it is given.
    final class Recorder: BatchWriter {
        let seen = Mutex<Set<String>>([])
        var outboxSource: String { "test-paused" }
        func prepare(_ connection: PostgresConnection) throws {}
        func write(_ messages: [KafkaMessage], into transaction: PostgresConnection) throws -> BatchReport {
            seen.withLock { set in for message in messages { set.insert("\(message.partition)@\(message.offset)") } }
            var report = BatchReport()
            report.processed = messages.count
            return report
        }
        func saw(_ partition: Int32, _ offset: Int64) -> Bool { seen.withLock { $0.contains("\(partition)@\(offset)") } }
    }

    @Test("partitions paused while PostgreSQL was away, lost in a rebalance and given back are consumed again")
    func pausedDuringOutageThenReassigned() async throws {
        let topic = try TestTopics.single("outage-rebalance", partitions: 4)
        // Two members of one group with a database each (the fence is not what this is about), so that only the
        // first one's PostgreSQL goes away.
        let first = try TestDatabase("outagea")
        let second = try TestDatabase("outageb")
        defer {
            _ = try? first.admin.execute("ALTER DATABASE \(first.name) ALLOW_CONNECTIONS true", [])
            first.drop()
            second.drop()
        }
        let group = TestEnvironment.unique("outage")
        let kafka = KafkaClientOptions(bootstrapServers: try TestEnvironment.kafkaBootstrap())
        func member(_ database: TestDatabase, _ writer: Recorder) -> (EffectivelyOnceConsumer, Task<Void, any Error>) {
            var settings = EffectivelyOnceConsumer.Settings(group: group, topics: [topic])
            settings.retry = PostgresConfiguration.RetryPolicy(
                attempts: .max, initialDelay: .milliseconds(100), maximumDelay: .seconds(1))
            let consumer = EffectivelyOnceConsumer(
                settings: settings, kafka: kafka, postgres: PostgresConfiguration(connectionString: database.url),
                writer: writer, logger: TestEnvironment.logger)
            return (consumer, Task.detached { try await onThread("consumer") { try consumer.runBlocking() } })
        }
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(client: kafka), logger: TestEnvironment.logger)
        func produceOneEach() async throws {
            for partition in Int32(0)..<4 {
                try await producer.send(KafkaOutgoingMessage(topic: topic, partition: partition, key: [1], value: [2]))
            }
        }

        // The first member alone consumes offset 0 of every partition.
        let recorderA = Recorder()
        let (memberA, taskA) = member(first, recorderA)
        defer { memberA.stop() }
        try await produceOneEach()
        #expect(await eventually(timeout: TestEnvironment.consumerDeadline) {
            (0..<4).allSatisfy { recorderA.saw(Int32($0), 0) }
        }, "the first member did not consume the four partitions")

        // Its PostgreSQL goes away; the next messages fail its transaction: it pauses all four and waits.
        try first.admin.execute("ALTER DATABASE \(first.name) ALLOW_CONNECTIONS false", [])
        try first.admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            [first.name])
        try await produceOneEach()
        #expect(await eventually(timeout: .seconds(60)) { !memberA.isHealthy }, "the first member did not notice")

        // A second member joins during the outage: two partitions move to it (it reads them from the start).
        let recorderB = Recorder()
        let (memberB, taskB) = member(second, recorderB)
        let moved = await eventually(timeout: TestEnvironment.consumerDeadline) {
            Set((0..<4).filter { recorderB.saw(Int32($0), 1) }).count == 2
        }
        #expect(moved, "the second member took no partitions: \(recorderB.seen.withLock { $0 })")

        // PostgreSQL is back; then the second member leaves and all four return to the first.
        try first.admin.execute("ALTER DATABASE \(first.name) ALLOW_CONNECTIONS true", [])
        #expect(await eventually(timeout: TestEnvironment.consumerDeadline) { memberA.isHealthy })
        memberB.stop()
        try await taskB.value
        try await produceOneEach()
        let all = await eventually(timeout: TestEnvironment.consumerDeadline) {
            (0..<4).allSatisfy { recorderA.saw(Int32($0), 2) }
        }
        #expect(all, "the first member consumed offset 2 only on \((0..<4).filter { recorderA.saw(Int32($0), 2) })")
        memberA.stop()
        try await taskA.value
    }
}
