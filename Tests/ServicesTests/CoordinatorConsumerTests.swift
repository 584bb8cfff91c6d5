import Audit
import EffectivelyOnce
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

@Suite("Coordinator projection through Kafka")
struct CoordinatorConsumerTests {
    @Test("events produced on dossier.events reach the projection through the effectively-once consumer")
    func throughConsumer() async throws {
        let fixture = try CoordinatorFixture()
        defer { fixture.drop() }
        let kafka = KafkaClientOptions(bootstrapServers: try TestEnvironment.kafkaBootstrap())
        // Topics of the test's own: no other test's events reach this consumer.
        let topics = try TestTopics.system("projection")
        let group = topics.group("motcua.coordinator")
        var settings = EffectivelyOnceConsumer.Settings(group: group, topics: [topics.events])
        settings.batchSize = 100
        let consumer = EffectivelyOnceConsumer(
            settings: settings, kafka: kafka, postgres: fixture.postgres, writer: fixture.projection,
            logger: TestEnvironment.logger)
        let run = Task.detached { try await onThread("coordinator-consumer") { try consumer.runBlocking() } }
        defer { consumer.stop() }
        let id = CoordinatorFixture.dossierId()
        let events = [
            fixture.event(.received, id, at: "2026-03-02T09:00:00+07:00", data: .init(dueDate: "2026-03-09", procedure: "P-K")),
            fixture.event(.assigned, id, at: "2026-03-02T09:00:00+07:00", data: .init(dueDate: "2026-03-09", procedure: "P-K")),
            fixture.event(.supplementRequested, id, at: "2026-03-03T09:00:00+07:00"),
        ]
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(client: kafka), logger: TestEnvironment.logger)
        let encoder = MessageCoding.encoder()
        // Twice: the second copy is a republished event the projection must ignore.
        for event in events + events {
            try producer.produce(KafkaOutgoingMessage(
                topic: topics.events, key: id, value: Array(try encoder.encode(event)),
                headers: [KafkaHeader("ce_type", MessageType.event)]))
        }
        try producer.flush()
        let applied = await eventually(timeout: TestEnvironment.consumerDeadline) {
            try fixture.count("SELECT count(*) FROM dossier_timeline WHERE dossier_id = $1", [id]) == 3
        }
        #expect(applied, """
            after \(TestEnvironment.consumerDeadline): timeline rows \(
                (try? fixture.count("SELECT count(*) FROM dossier_timeline WHERE dossier_id = $1", [id])) ?? -1), \
            offsets stored for the group \(
                (try? fixture.count("SELECT count(*) FROM consumer_offsets WHERE consumer_group = $1", [group])) ?? -1)
            """)
        // Let the duplicates through too, then check nothing was applied twice.
        _ = await eventually(timeout: .seconds(5)) { false }
        consumer.stop()
        try await run.value
        #expect(try fixture.count(
            "SELECT count(*) FROM dossier_status WHERE dossier_id = $1 AND status = 'supplement-requested'", [id]) == 1)
        #expect(try fixture.count("SELECT count(*) FROM deadlines WHERE dossier_id = $1 AND status = 'paused'", [id]) == 2)
        #expect(try fixture.count("SELECT count(*) FROM deadline_pauses WHERE dossier_id = $1", [id]) == 2)
        #expect(try fixture.count("SELECT count(*) FROM dossier_timeline WHERE dossier_id = $1", [id]) == 3)
    }
}
