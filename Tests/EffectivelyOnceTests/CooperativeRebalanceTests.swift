@testable import EffectivelyOnce
import Foundation
import Kafka
import Logging
import Postgres
import Synchronization
import TestSupport
import Testing

/// The effectively-once consumer under `partition.assignment.strategy=cooperative-sticky` (the workers' default):
/// librdkafka's COOPERATIVE rebalance protocol hands out and takes back only the partitions that move
/// (`rd_kafka_incremental_assign` / `rd_kafka_incremental_unassign` in the rebalance callback), so the members that
/// stay keep consuming theirs through a rebalance.
@Suite("Consumer: cooperative-sticky rebalancing")
struct CooperativeRebalanceTests {
    /// Writes every message it is given as a row (partition, offset) of `table`, in the consumer's transaction.
    final class RowWriter: BatchWriter {
        let table: String
        var outboxSource: String { "test-cooperative" }
        init(table: String) { self.table = table }
        func prepare(_ connection: PostgresConnection) throws {}
        func write(_ messages: [KafkaMessage], into transaction: PostgresConnection) throws -> BatchReport {
            try transaction.copyIn("COPY \(table) (partition, \"offset\") FROM STDIN") { rows in
                for message in messages { try rows.row(text: [String(message.partition), String(message.offset)]) }
            }
            var report = BatchReport()
            report.processed = messages.count
            return report
        }
    }

    /// What a member's consumer logged about its assignment, and its errors (``SharedLog``).
    final class Shared: Sendable {
        let events = Mutex<[(String, Int)]>([])
        let errors = Mutex<[String]>([])
    }

    /// The producing side: messages sent per partition, and whether to go on.
    final class Stream: Sendable {
        let sent: Mutex<[Int]>
        let streaming = Atomic<Bool>(true)
        init(partitions: Int) { sent = Mutex(Array(repeating: 0, count: partitions)) }
    }

    @Test("a member joins and leaves mid-stream: only the moved partitions change hands; nothing lost or written twice")
    func joinAndLeaveMidStream() async throws {
        let partitions = 6
        let topic = try TestTopics.single("cooperative", partitions: partitions)
        let database = try TestEnvironment.databaseURL()
        let connection = try PostgresConnection.connect(
            PostgresConfiguration(connectionString: database), logger: TestEnvironment.logger)
        let group = TestEnvironment.unique("cooperative")
        let table = TestEnvironment.unique("cooperative_rows")
        try connection.execute("CREATE TABLE \(table) (partition int NOT NULL, \"offset\" bigint NOT NULL)", [])
        defer {
            _ = try? connection.execute("DROP TABLE IF EXISTS \(table)", [])
            _ = try? connection.execute("DELETE FROM consumer_offsets WHERE consumer_group = $1", [group])
        }
        let kafka = KafkaClientOptions(bootstrapServers: try TestEnvironment.kafkaBootstrap())
        func member(_ writer: RowWriter, _ log: Shared) -> (EffectivelyOnceConsumer, Task<Void, any Error>) {
            var settings = EffectivelyOnceConsumer.Settings(group: group, topics: [topic])
            settings.batchSize = 50
            settings.assignmentStrategy = "cooperative-sticky"
            let consumer = EffectivelyOnceConsumer(
                settings: settings, kafka: kafka, postgres: PostgresConfiguration(connectionString: database),
                writer: writer, logger: Logger(label: "cooperative") { _ in SharedLog(shared: log) })
            return (consumer, Task.detached { try await onThread("consumer") { try consumer.runBlocking() } })
        }
        func rows() throws -> Int {
            Int(try connection.query("SELECT count(*)::int8 AS n FROM \(table)", [])[0].decode(Int64.self, "n"))
        }

        // A steady stream: 10 messages to every partition every 100 ms, until told to stop.
        let producer = try KafkaProducer(
            configuration: KafkaProducerConfiguration(client: kafka), logger: TestEnvironment.logger)
        let flow = Stream(partitions: partitions)
        let stream = Task.detached {
            while flow.streaming.load(ordering: .acquiring) {
                for partition in 0..<partitions {
                    for _ in 0..<10 {
                        try producer.produce(
                            KafkaOutgoingMessage(topic: topic, partition: Int32(partition), key: [1], value: [2]))
                    }
                    flow.sent.withLock { $0[partition] += 10 }
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            try producer.flush()
        }
        defer { flow.streaming.store(false, ordering: .releasing) }

        let logA = Shared(), logB = Shared()
        let writerA = RowWriter(table: table), writerB = RowWriter(table: table)
        let (memberA, taskA) = member(writerA, logA)
        defer { memberA.stop() }
        let started = await eventually(timeout: TestEnvironment.consumerDeadline) {
            let all = logA.events.withLock { $0.contains { $0 == ("partitions assigned", partitions) } }
            return try all && rows() >= 300
        }
        #expect(started, "the first member did not start consuming all \(partitions) partitions")

        // A second member joins mid-stream: it gets some partitions, the first gives up only those.
        let (memberB, taskB) = member(writerB, logB)
        let joined = await eventually(timeout: TestEnvironment.consumerDeadline) {
            logB.events.withLock { $0.contains { $0.0 == "partitions assigned" && $0.1 > 0 } }
        }
        #expect(joined, "the second member got no partitions: \(logB.events.withLock { $0 })")
        let atJoin = try rows()
        #expect(await eventually(timeout: TestEnvironment.consumerDeadline) { (try rows()) >= atJoin + 600 },
                "consumption did not go on after the join")
        memberB.stop()
        try await taskB.value
        // Back to one member, still mid-stream; then the stream ends.
        let atLeave = try rows()
        #expect(await eventually(timeout: TestEnvironment.consumerDeadline) { (try rows()) >= atLeave + 600 },
                "consumption did not go on after the second member left")
        flow.streaming.store(false, ordering: .releasing)
        try await stream.value
        let total = flow.sent.withLock { $0.reduce(0, +) }
        let caughtUp = await eventually(timeout: TestEnvironment.consumerDeadline) { (try rows()) >= total }
        let written = try rows()
        #expect(caughtUp, "\(written) rows of \(total) messages sent")
        // (Before the first member stops: closing, it gives up all it holds.)
        let eventsA = logA.events.withLock { $0 }
        let eventsB = logB.events.withLock { $0 }
        memberA.stop()
        try await taskA.value

        // Against SQL: every message once, none twice, and the stored offsets at the end of every partition.
        let check = try connection.query(
            """
            SELECT count(*)::int8 AS n, count(DISTINCT (partition, "offset"))::int8 AS d FROM \(table)
            """, [])[0]
        #expect(try check.decode(Int64.self, "n") == Int64(total), "rows written")
        #expect(try check.decode(Int64.self, "d") == Int64(total), "distinct (partition, offset): some written twice")
        let perPartition = flow.sent.withLock { $0 }
        for row in try connection.query(
            """
            SELECT partition, count(*)::int8 AS n, max("offset")::int8 AS last,
                   (SELECT next_offset FROM consumer_offsets o WHERE o.consumer_group = $1 AND o.topic = $2
                    AND o.partition = r.partition) AS stored
            FROM \(table) r GROUP BY partition
            """, [group, topic])
        {
            let partition = Int(try row.decode(Int32.self, "partition"))
            let expected = Int64(perPartition[partition])
            #expect(try row.decode(Int64.self, "n") == expected, "partition \(partition): rows")
            #expect(try row.decode(Int64.self, "last") == expected - 1, "partition \(partition): a gap")
            #expect(try row.decode(Int64.self, "stored") == expected, "partition \(partition): stored offset")
        }
        // Incremental: the first member never gave up all its partitions at once, and when the second left it was
        // handed only the second's, not a whole new assignment.
        let revokedA = eventsA.filter { $0.0 == "partitions revoked" }.map(\.1)
        let assignedA = eventsA.filter { $0.0 == "partitions assigned" }.map(\.1)
        let assignedB = eventsB.filter { $0.0 == "partitions assigned" }.map(\.1).reduce(0, +)
        #expect(!revokedA.isEmpty && revokedA.allSatisfy { $0 < partitions },
                "the first member gave up everything at once (eager): \(eventsA)")
        #expect(revokedA.first == assignedB, "the first member gave up other partitions than the second got: \(eventsA), \(eventsB)")
        #expect(assignedA.dropFirst().allSatisfy { $0 < partitions },
                "the first member was handed a whole new assignment (eager): \(eventsA)")
        #expect(assignedA.dropFirst().reduce(0, +) == assignedB, "the first member did not get back exactly the second's: \(eventsA)")
        let errors = logA.errors.withLock { $0 } + logB.errors.withLock { $0 }
        #expect(!errors.contains { $0.contains("assign") || $0.contains("resume") }, "rebalance errors: \(errors)")
    }
}

/// Keeps a consumer's "partitions assigned" / "partitions revoked" logs (how many partitions each time) and its
/// errors in a ``CooperativeRebalanceTests/Shared``.
struct SharedLog: LogHandler {
    let shared: CooperativeRebalanceTests.Shared
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    var logLevel: Logger.Level = .info
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        let text = event.message.description
        if event.level >= .error { shared.errors.withLock { $0.append(text) } }
        guard text == "partitions assigned" || text == "partitions revoked" else { return }
        let count = event.metadata?["kafka.partitions"].flatMap { Int("\($0)") } ?? -1
        shared.events.withLock { $0.append((text, count)) }
    }
}
