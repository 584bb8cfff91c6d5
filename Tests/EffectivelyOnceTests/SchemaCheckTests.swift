import Audit
@testable import EffectivelyOnce
import Foundation
import Kafka
import Messages
import Pages
import Postgres
import ServiceCommands
import Services
import Simulation
import Store
import TestSupport
import Testing

@Suite("Consumers and the database schema")
struct SchemaCheckTests {
    @Test("the required schema version is the newest migration")
    func requiredIsNewest() throws {
        #expect(try TestDatabase.migrator().migrations.map(\.version).max() == DatabaseSchema.requiredVersion)
    }

    @Test("a consumer on a database not yet migrated waits, dead-letters nothing, and resumes after the migration")
    func waitsForMigration() async throws {
        let database = try TestDatabase("schemacheck", migratedUpTo: DatabaseSchema.requiredVersion - 1)
        defer { database.drop() }
        let topic = try TestTopics.single("processing.schema", partitions: 3)
        let kafka = KafkaClientOptions(bootstrapServers: try TestEnvironment.kafkaBootstrap())
        let group = TestEnvironment.unique("schema")
        var settings = EffectivelyOnceConsumer.Settings(group: group, topics: [topic])
        settings.batchSize = 50
        settings.retry = PostgresConfiguration.RetryPolicy(
            attempts: .max, initialDelay: .milliseconds(50), maximumDelay: .milliseconds(300))
        let consumer = EffectivelyOnceConsumer(
            settings: settings, kafka: kafka, postgres: PostgresConfiguration(connectionString: database.url),
            writer: CountingWriter(), logger: TestEnvironment.logger)
        // Start at the end of each partition, then send 20 messages.
        let admin = try KafkaAdmin(options: kafka, logger: TestEnvironment.logger)
        let db = database.connection
        for partition in 0..<3 {
            let high = try admin.watermarks(TopicPartition(topic, Int32(partition))).high
            try db.execute(
                "INSERT INTO consumer_offsets (consumer_group, topic, partition, next_offset) VALUES ($1, $2, $3, $4)",
                [group, topic, partition, high])
        }
        func consumed() throws -> Int {
            try db.query("SELECT coalesce(sum(next_offset), 0)::int AS s FROM consumer_offsets WHERE consumer_group = $1",
                         [group])[0].decode(Int.self, "s")
        }
        let start = try consumed()
        let run = Task.detached { try await onThread("consumer") { try consumer.runBlocking() } }
        let producer = try KafkaProducer(
            configuration: KafkaProducerConfiguration(client: kafka), logger: TestEnvironment.logger)
        for index in 0..<20 { try producer.produce(KafkaOutgoingMessage(topic: topic, key: "\(index)", value: [1])) }
        try producer.flush()

        // Outdated: nothing is consumed (offsets stay), nothing is dead-lettered, the consumer reports unhealthy.
        try await Task.sleep(for: .seconds(3))
        #expect(try consumed() == start)
        #expect(try db.query("SELECT count(*)::int AS n FROM outbox")[0].decode(Int.self, "n") == 0)
        #expect(!consumer.isHealthy)

        // Migrated: the same consumer, still running, takes all 20.
        #expect(try TestDatabase.migrator().migrate(db) == [DatabaseSchema.requiredVersion])
        let caughtUp = await eventually(timeout: TestEnvironment.consumerDeadline) { (try? consumed()) == start + 20 }
        consumer.stop()
        try await run.value
        #expect(caughtUp)
        #expect(consumer.isHealthy)
        #expect(try db.query("SELECT count(*)::int AS n FROM outbox")[0].decode(Int.self, "n") == 0)
    }
}
