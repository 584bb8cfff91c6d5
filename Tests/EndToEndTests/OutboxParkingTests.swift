@testable import EffectivelyOnce
import Foundation
import Kafka
import Postgres
import TestSupport
import Testing

/// The issue's first finding through the real relay and the devbroker: one oversized message used to hold back every
/// later row of its source. Now it is parked, the next 100 go on, its key waits, and the operator resolves it with
/// `motcua outbox`.
@Suite("Outbox parking through the devbroker and motcua outbox", .serialized)
struct OutboxParkingTests {
    @Test("an oversized row is parked, the 100 rows after it are published, its key waits; motcua outbox lists, refuses bad input, discards (recorded) and releases")
    func oversizedThenHundred() async throws {
        let topic = try TestTopics.single("parking", partitions: 3)
        let postgres = PostgresConfiguration(connectionString: try TestEnvironment.databaseURL())
        let connection = try PostgresConnection.connect(postgres, logger: TestEnvironment.logger)
        let source = TestEnvironment.unique("parking")
        let kafka = KafkaClientOptions(bootstrapServers: try TestEnvironment.kafkaBootstrap())
        let relay = try OutboxRelay(settings: .init(source: source), kafka: kafka, postgres: postgres, logger: TestEnvironment.logger)
        let run = Task.detached { try await onThread("relay") { relay.runBlocking() } }
        defer { relay.stop() }
        func row(_ key: String, _ text: String) -> OutboxMessage {
            OutboxMessage(eventId: UUID(), topic: topic, key: key, type: "motcua.test", payload: Array(text.utf8))
        }
        func count(_ condition: String) throws -> Int {
            try connection.query("SELECT count(*) FROM outbox WHERE source = $1 AND \(condition)", [source])[0]
                .decode(Int.self, at: 0)
        }
        let big = "big:" + String(repeating: "x", count: 2_000_000)  // over librdkafka's message.max.bytes (1,000,000)
        try connection.transaction { tx in
            try OutboxWriter.write(
                [row("dossier-big", big)] + (0..<100).map { row("dossier-\($0)", "good-\($0)") }
                    + [row("dossier-big", "after-big")],
                source: source, into: tx)
        }
        relay.nudge()
        let settled = await eventually(timeout: .seconds(60)) {
            try count("sent_at IS NOT NULL") == 100 && count("parked_at IS NOT NULL") == 1
        }
        #expect(settled, "sent \(String(describing: try? count("sent_at IS NOT NULL"))), parked \(String(describing: try? count("parked_at IS NOT NULL")))")
        #expect(try count("sent_at IS NULL AND parked_at IS NULL") == 1, "the row behind the parked one is held")

        // What reached the broker: the 100, nothing of the parked key.
        var config = KafkaConsumerConfiguration(client: kafka, groupID: nil)
        config.offsetReset = .earliest
        let consumer = try KafkaConsumer(configuration: config, logger: TestEnvironment.logger)
        defer { consumer.close() }
        try consumer.assign(Dictionary(uniqueKeysWithValues: (0..<3).map { (TopicPartition(topic, $0), KafkaOffset.beginning) }))
        var texts: [String] = []
        let readAll = await eventually(timeout: .seconds(60)) {
            texts += try consumer.pollBatch(maxMessages: 200, timeout: .milliseconds(200)).map { String(decoding: $0.value, as: UTF8.self) }
            return Set(texts).count >= 100
        }
        #expect(readAll, "\(texts.count) read")
        #expect(Set(texts) == Set((0..<100).map { "good-\($0)" }))

        let environment = ["DATABASE_URL": try TestEnvironment.databaseURL()]
        let listed = try await CommandRun.motcua("outbox", "parked", "--source", source, environment: environment)
        #expect(listed.status == 0, "\(listed)")
        #expect(listed.stdout.contains("dossier-big") && listed.stdout.lowercased().contains("too large"), "\(listed)")
        let id = try #require(try OutboxParking.parked(source: source, on: connection).first?.id)
        #expect(listed.stdout.contains(String(id)))

        let noReason = try await CommandRun.motcua("outbox", "discard", String(id), "--reason", " ", "--by", "op", environment: environment)
        #expect(noReason.status != 0)
        #expect(noReason.stderr.contains("--reason is empty"), "\(noReason)")
        let noRow = try await CommandRun.motcua("outbox", "retry", "999999999999", "--reason", "r", "--by", "op", environment: environment)
        #expect(noRow.status != 0)
        #expect(noRow.stderr.contains("there is no outbox row 999999999999"), "\(noRow)")

        let discarded = try await CommandRun.motcua(
            "outbox", "discard", String(id), "--reason", "oversized, re-submitted smaller", "--by", "nguyen.an",
            environment: environment)
        #expect(discarded.status == 0, "\(discarded)")
        #expect(discarded.stdout.contains("1 row(s) of its key follow"), "\(discarded)")
        let released = await eventually(timeout: .seconds(60)) { try count("sent_at IS NULL AND discarded_at IS NULL") == 0 }
        #expect(released, "the row held behind the discarded one was not published")
        let action = try connection.query(
            "SELECT action, operator, reason, db_role, park_reason FROM outbox_actions WHERE outbox_id = $1", [id])
        #expect(action.count == 1)
        #expect(try action.first?.decode(String.self, "action") == "discard")
        #expect(try action.first?.decode(String.self, "operator") == "nguyen.an")
        #expect(try action.first?.decode(String.self, "reason") == "oversized, re-submitted smaller")

        let again = try await CommandRun.motcua("outbox", "retry", String(id), "--reason", "r", "--by", "op", environment: environment)
        #expect(again.status != 0)
        #expect(again.stderr.contains("was discarded"), "\(again)")
        relay.stop()
        try await run.value
    }

    @Test("motcua offsets reset: a dry run without --confirm, --reason required, recorded; earliest/latest/N within the broker's range")
    func offsetsResetCLI() async throws {
        let topic = try TestTopics.single("reset", partitions: 1)
        let kafka = KafkaClientOptions(bootstrapServers: try TestEnvironment.kafkaBootstrap())
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(client: kafka), logger: TestEnvironment.logger)
        for index in 0..<3 { try producer.produce(KafkaOutgoingMessage(topic: topic, key: "k\(index)", value: [UInt8(index)])) }
        try producer.flush()
        let connection = try PostgresConnection.connect(
            PostgresConfiguration(connectionString: try TestEnvironment.databaseURL()), logger: TestEnvironment.logger)
        let group = TestEnvironment.unique("reset")
        defer {
            _ = try? connection.execute("DELETE FROM consumer_offsets WHERE consumer_group = $1", [group])
            _ = try? connection.execute("DELETE FROM offset_resets WHERE consumer_group = $1", [group])
        }
        let environment = ["DATABASE_URL": try TestEnvironment.databaseURL()]
        func stored() throws -> Int? {
            try OffsetStore(group: group).positions([TopicPartition(topic, 0)], from: connection)[TopicPartition(topic, 0)].map { Int($0.next) }
        }
        let dry = try await CommandRun.motcua(
            "offsets", "reset", "--group", group, "--topic", topic, "--partition", "0", "--to", "latest", environment: environment)
        #expect(dry.status == 0, "\(dry)")
        #expect(dry.stdout.contains("would store") && dry.stdout.contains("nothing → 3") && dry.stdout.contains("Nothing changed"), "\(dry)")
        #expect(try stored() == nil, "a dry run changed the stored offset")
        let noReason = try await CommandRun.motcua(
            "offsets", "reset", "--group", group, "--topic", topic, "--partition", "0", "--to", "0", "--confirm",
            environment: environment)
        #expect(noReason.status != 0)
        #expect(noReason.stderr.contains("--confirm needs --reason"), "\(noReason)")
        let outside = try await CommandRun.motcua(
            "offsets", "reset", "--group", group, "--topic", topic, "--partition", "0", "--to", "99", environment: environment)
        #expect(outside.status != 0)
        #expect(outside.stderr.contains("outside the broker's range 0–3"), "\(outside)")
        let negative = try await CommandRun.motcua(
            "offsets", "reset", "--group", group, "--topic", topic, "--partition", "0", "--to", "-5", environment: environment)
        #expect(negative.status != 0)
        #expect(negative.stderr.contains("--to must be an offset (0 or more), got -5"), "\(negative)")
        let confirmed = try await CommandRun.motcua(
            "offsets", "reset", "--group", group, "--topic", topic, "--partition", "0", "--to", "earliest", "--confirm",
            "--reason", "broker restarted empty", "--by", "nguyen.an", environment: environment)
        #expect(confirmed.status == 0, "\(confirmed)")
        #expect(try stored() == 0)
        let recorded = try connection.query(
            "SELECT new_offset, operator, reason FROM offset_resets WHERE consumer_group = $1", [group])
        #expect(recorded.count == 1)
        #expect(try recorded.first?.decode(String.self, "operator") == "nguyen.an")
        let shown = try await CommandRun.motcua("offsets", "show", "--group", group, environment: environment)
        #expect(shown.status == 0 && shown.stdout.contains("lag 3"), "\(shown)")
    }
}
