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

/// The outbox relay against PostgreSQL and a mock Kafka cluster of the test's own (the devbroker's engine,
/// in-process), whose brokers answer late: acknowledgements take a second, as on a slow network.
@Suite("Outbox relay: pipelined publishing")
struct OutboxRelayTests {
    let postgres: PostgresConfiguration
    let connection: PostgresConnection

    init() throws {
        postgres = PostgresConfiguration(connectionString: try TestEnvironment.databaseURL())
        connection = try PostgresConnection.connect(postgres, logger: TestEnvironment.logger)
    }

    /// A mock cluster with one topic of 3 partitions.
    func cluster(topic: String) throws -> KafkaMockCluster {
        let cluster = try KafkaMockCluster(logger: TestEnvironment.logger)
        try cluster.createTopic(topic, partitions: 3)
        return cluster
    }

    func message(_ topic: String, key: String, _ text: String) -> OutboxMessage {
        OutboxMessage(eventId: UUID(), topic: topic, key: key, type: "motcua.test", payload: Array(text.utf8))
    }

    func commit(_ messages: [OutboxMessage], source: String, on connection: PostgresConnection? = nil) throws {
        try (connection ?? self.connection).transaction { tx in
            try OutboxWriter.write(messages, source: source, into: tx)
        }
    }

    func unsent(_ source: String) throws -> Int {
        try connection.query("SELECT count(*) FROM outbox WHERE source = $1 AND sent_at IS NULL", [source])[0]
            .decode(Int.self, at: 0)
    }

    /// Every message of the topic: ce_id, payload text, partition, offset and create time.
    func read(_ topic: String, from cluster: KafkaMockCluster, expecting count: Int) throws
        -> [(id: String, text: String, partition: Int32, offset: Int64, created: Int64)]
    {
        var config = KafkaConsumerConfiguration(client: KafkaClientOptions(bootstrapServers: cluster.bootstrapServers), groupID: nil)
        config.offsetReset = .earliest
        let consumer = try KafkaConsumer(configuration: config, logger: TestEnvironment.logger)
        defer { consumer.close() }
        try consumer.assign(Dictionary(uniqueKeysWithValues: (0..<3).map { (TopicPartition(topic, $0), KafkaOffset.beginning) }))
        var result: [(id: String, text: String, partition: Int32, offset: Int64, created: Int64)] = []
        let deadline = ContinuousClock.now + .seconds(30)
        // Read a little past the expected count: a message published twice must show.
        var quietSince = ContinuousClock.now
        while ContinuousClock.now < deadline {
            let batch = try consumer.pollBatch(maxMessages: 100, timeout: .milliseconds(200))
            if batch.isEmpty {
                if result.count >= count && ContinuousClock.now - quietSince > .seconds(1) { break }
                continue
            }
            quietSince = ContinuousClock.now
            for m in batch {
                result.append((m.header("ce_id") ?? "", String(decoding: m.value, as: UTF8.self), m.partition, m.offset,
                               m.timestampMilliseconds ?? 0))
            }
        }
        return result
    }

    func startRelay(
        source: String, cluster: KafkaMockCluster, adjust: (inout OutboxRelay.Settings) -> Void = { _ in }
    ) throws -> (OutboxRelay, Thread, DispatchSemaphore) {
        var settings = OutboxRelay.Settings(source: source)
        adjust(&settings)
        let relay = try OutboxRelay(
            settings: settings, kafka: KafkaClientOptions(bootstrapServers: cluster.bootstrapServers),
            postgres: postgres, logger: TestEnvironment.logger)
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            relay.runBlocking()
            done.signal()
        }
        thread.start()
        return (relay, thread, done)
    }

    /// A relay of a new source publishing to `topic` on a new mock cluster, warmed up: it has published one row,
    /// so the producer has its metadata and connection before a test slows or fails the brokers.
    func startWarmRelay(
        topic: String, adjust: (inout OutboxRelay.Settings) -> Void = { _ in }
    ) throws -> (relay: OutboxRelay, source: String, cluster: KafkaMockCluster, stop: () -> Void) {
        let source = TestEnvironment.unique("relay")
        let cluster = try cluster(topic: topic)
        let (relay, _, done) = try startRelay(source: source, cluster: cluster, adjust: adjust)
        let stop = {
            relay.stop()
            done.wait()
        }
        do {
            try commit([message(topic, key: "warm", "warm")], source: source)
        } catch {
            stop()
            throw error
        }
        relay.nudge()
        #expect(poll { try unsent(source) == 0 }, "the warm-up row was not published")
        return (relay, source, cluster, stop)
    }

    /// Polls on this thread (a test awaiting on the cooperative pool can resume seconds late while other suites
    /// keep its threads busy, which would blur the timings this suite checks).
    func poll(timeout: Duration = .seconds(30), _ condition: () throws -> Bool) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if (try? condition()) == true { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return (try? condition()) == true
    }

    static func wallMilliseconds() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    @Test("rows committed while earlier ones await their acknowledgements are published at once, in order per key")
    func pipelined() throws {
        let topic = "relay.pipelined"
        let (relay, source, cluster, stop) = try startWarmRelay(topic: topic)
        defer { stop() }
        let rtt: Int64 = 1_500
        try cluster.setRoundTripTime(.milliseconds(rtt))
        try commit([message(topic, key: "k", "first")], source: source)
        relay.nudge()
        Thread.sleep(forTimeInterval: 0.3)
        try commit([message(topic, key: "k", "second")], source: source)
        let committed = Self.wallMilliseconds()
        relay.nudge()
        // Marked sent only once acknowledged.
        #expect(poll { try unsent(source) == 0 })
        try cluster.setRoundTripTime(.zero)
        let messages = try read(topic, from: cluster, expecting: 3)
        let first = try #require(messages.first { $0.text == "first" })
        let second = try #require(messages.first { $0.text == "second" })
        #expect(messages.count == 3)
        // The second row committed while the first awaited its acknowledgement (which takes the round trip)...
        #expect(committed < first.created + rtt, "second committed \(committed - first.created) ms after the first was produced")
        // ...and was produced without waiting for it: a relay that waits for every acknowledgement before reading
        // again would have produced it only after the first's round trip.
        #expect(second.created - committed < 1_000, "second produced \(second.created - committed) ms after its commit")
        #expect(second.created < first.created + rtt)
        #expect(first.partition == second.partition && first.offset < second.offset)
    }

    @Test("a row that commits late, below rows already in flight, is published too — each row once")
    func lateCommitBelowInFlight() async throws {
        let topic = "relay.gap"
        let (relay, source, cluster, stop) = try startWarmRelay(topic: topic)
        defer { stop() }
        try cluster.setRoundTripTime(.milliseconds(1500))
        // Another writer of the same source takes the lower id first and commits last.
        let other = try PostgresConnection.connect(postgres, logger: TestEnvironment.logger)
        try other.execute("BEGIN")
        try OutboxWriter.write([message(topic, key: "late", "late")], source: source, into: other)
        try commit((1...3).map { message(topic, key: "k\($0)", "early-\($0)") }, source: source)
        relay.nudge()
        try await Task.sleep(for: .milliseconds(300))
        try other.execute("COMMIT")
        relay.nudge()
        #expect(await eventually(timeout: .seconds(30)) { try unsent(source) == 0 })
        try cluster.setRoundTripTime(.zero)
        let messages = try read(topic, from: cluster, expecting: 5)
        #expect(messages.map(\.text).sorted() == ["early-1", "early-2", "early-3", "late", "warm"])
        #expect(Set(messages.map(\.id)).count == messages.count, "a row was published twice")
    }

    @Test("a row that commits later than the lookback, below where reads start, is published by the next full scan")
    func lateCommitBeyondLookback() async throws {
        let topic = "relay.lookback"
        let (relay, source, cluster, stop) = try startWarmRelay(topic: topic) { settings in
            settings.lookback = .milliseconds(100)
            settings.fullScanInterval = .seconds(3)
        }
        defer { stop() }
        let other = try PostgresConnection.connect(postgres, logger: TestEnvironment.logger)
        try other.execute("BEGIN")
        try OutboxWriter.write([message(topic, key: "late", "late")], source: source, into: other)
        try commit((1...3).map { message(topic, key: "k\($0)", "early-\($0)") }, source: source)
        relay.nudge()
        // The late row is not visible yet: the early ones are all there is to publish.
        #expect(poll { try unsent(source) == 0 }, "the early rows were not published")
        // Reads keep going (idle wake-ups), so the ids above the late row settle below where they start.
        try await Task.sleep(for: .milliseconds(600))
        try other.execute("COMMIT")
        let committed = ContinuousClock.now
        relay.nudge()
        #expect(poll(timeout: .seconds(20)) { try unsent(source) == 0 }, "the late row was never published")
        // Not by the read the commit woke (it starts above the late row) but by a full scan, at most one interval on.
        #expect(ContinuousClock.now - committed < .seconds(10))
        let messages = try read(topic, from: cluster, expecting: 5)
        #expect(messages.map(\.text).sorted() == ["early-1", "early-2", "early-3", "late", "warm"])
        #expect(Set(messages.map(\.id)).count == messages.count, "a row was published twice")
    }

    @Test("a failed delivery republishes from the first unacknowledged row: nothing is lost or marked unsent")
    func failedDelivery() async throws {
        let topic = "relay.failure"
        let (relay, source, cluster, stop) = try startWarmRelay(topic: topic)
        defer { stop() }
        // Topic authorization failed (29): the producer does not retry it, the delivery fails.
        cluster.failNextProduceRequests(2, error: 29)
        let rows = (1...6).map { message(topic, key: "k\($0 % 2)", "row-\($0)") }
        try commit(rows, source: source)
        relay.nudge()
        #expect(await eventually(timeout: .seconds(30)) { try unsent(source) == 0 })
        let messages = try read(topic, from: cluster, expecting: 7)
        // Every row is there (some perhaps twice), and the last copies of each key's rows keep their order.
        #expect(Set(messages.map(\.text)) == Set(["warm"] + (1...6).map { "row-\($0)" }))
        for key in 0..<2 {
            let texts = messages.filter { $0.text != "warm" && Int($0.text.dropFirst(4))! % 2 == key }
                .sorted { ($0.partition, $0.offset) < ($1.partition, $1.offset) }.map(\.text)
            var lastSeen: [String: Int] = [:]
            for (index, text) in texts.enumerated() { lastSeen[text] = index }
            let order = lastSeen.sorted { $0.value < $1.value }.map(\.key)
            #expect(order == order.sorted(), "key \(key): \(texts)")
        }
    }

    func parked(_ source: String) throws -> [(text: String, reason: String)] {
        try connection.query(
            "SELECT payload, park_reason FROM outbox WHERE source = $1 AND parked_at IS NOT NULL ORDER BY id", [source]
        ).map { (String(decoding: try $0.decode(PostgresBytes.self, "payload").bytes.prefix(20), as: UTF8.self),
                 try $0.decode(String.self, "park_reason")) }
    }

    func waiting(_ source: String) throws -> Int {
        try connection.query(
            "SELECT count(*) FROM outbox WHERE source = $1 AND sent_at IS NULL AND parked_at IS NULL", [source]
        )[0].decode(Int.self, at: 0)
    }

    /// The attack: one oversized dossier's step task was refused by the broker and the relay retried it
    /// forever, holding back every later row of reception's outbox.
    @Test("a row larger than the broker takes is parked with its reason; other keys go on, its key waits behind it until it is discarded")
    func oversizedRowIsParked() async throws {
        let topic = "relay.parking"
        let (relay, source, cluster, stop) = try startWarmRelay(topic: topic)
        defer { stop() }
        let big = String(repeating: "x", count: 2_000_000)  // librdkafka's message.max.bytes is 1,000,000
        try commit(
            [message(topic, key: "k1", "first"), message(topic, key: "k1", "big:" + big),
             message(topic, key: "k2", "other"), message(topic, key: "k1", "after")],
            source: source)
        relay.nudge()
        #expect(poll { try parked(source).count == 1 && waiting(source) == 1 }, "parked: \(String(describing: try? parked(source)))")
        let refused = try parked(source)
        #expect(refused.map(\.text) == ["big:" + String(repeating: "x", count: 16)])
        #expect(refused.first?.reason.lowercased().contains("too large") == true, "\(refused)")
        #expect(relay.parkedRows == 1)
        // Listed with the row held behind it.
        let listed = try OutboxParking.parked(source: source, on: connection)
        #expect(listed.map(\.heldBehind) == [1], "\(listed)")
        // It goes on with later rows of other keys; k1's "after" stays held.
        try commit([message(topic, key: "k3", "later")], source: source)
        relay.nudge()
        #expect(poll { try unsent(source) == 2 }, "the parked row and the one held behind it stay unsent")
        #expect(Set(try read(topic, from: cluster, expecting: 4).map(\.text)) == ["warm", "first", "other", "later"])

        // The operator discards it: the row behind it follows, the decision is recorded.
        let id = try #require(listed.first?.id)
        try OutboxParking.act(.discard, on: id, operator: "test-operator", reason: "oversized test row", connection: connection)
        #expect(poll { try unsent(source) == 1 }, "the held row was not released")
        let messages = try read(topic, from: cluster, expecting: 5)
        let k1 = messages.filter { ["first", "after"].contains($0.text) }.sorted { $0.offset < $1.offset }.map(\.text)
        #expect(k1 == ["first", "after"])
        #expect(poll { relay.parkedRows == 0 })
        let recorded = try connection.query(
            "SELECT action, operator, reason, park_reason FROM outbox_actions WHERE outbox_id = $1", [id])
        #expect(recorded.count == 1)
        #expect(try recorded.first?.decode(String.self, "operator") == "test-operator")
        #expect(try recorded.first?.decode(String.self, "park_reason").lowercased().contains("too large") == true)
        #expect(throws: OutboxParking.Refusal.self) {
            try OutboxParking.act(.retry, on: id, operator: "test-operator", reason: "again", connection: connection)
        }
    }

    @Test("a produce request refused as a whole is retried row by row: only the culprit is parked, other keys go on, its key waits; a retry releases it")
    func refusedBatchIsolatesTheCulprit() async throws {
        let topic = "relay.batch"
        let (relay, source, cluster, stop) = try startWarmRelay(topic: topic)
        defer { stop() }
        // One partition: the four rows travel in one produce request.
        let single = "relay.batch.single"
        try cluster.createTopic(single, partitions: 1)
        try commit([message(single, key: "warm", "warm-single")], source: source)
        relay.nudge()
        #expect(poll { try unsent(source) == 0 })
        // The broker refuses the request (MSG_SIZE_TOO_LARGE, which does not say which row), then the first row alone.
        cluster.failNextProduceRequests(2, error: 10)
        try commit(
            [message(single, key: "k1", "a"), message(single, key: "k2", "b"), message(single, key: "k1", "c"),
             message(single, key: "k3", "d")], source: source)
        relay.nudge()
        #expect(poll { try parked(source).count == 1 && waiting(source) == 1 }, "parked: \(String(describing: try? parked(source))), waiting \(String(describing: try? waiting(source)))")
        #expect(try parked(source).map(\.text) == ["a"])
        #expect(try parked(source).first?.reason.contains("refused alone") == true)
        func published() throws -> [String] {
            var config = KafkaConsumerConfiguration(client: KafkaClientOptions(bootstrapServers: cluster.bootstrapServers), groupID: nil)
            config.offsetReset = .earliest
            let consumer = try KafkaConsumer(configuration: config, logger: TestEnvironment.logger)
            defer { consumer.close() }
            try consumer.assign([TopicPartition(single, 0): .beginning])
            var texts: [String] = []
            var quiet = ContinuousClock.now
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline, ContinuousClock.now - quiet < .seconds(2) {
                let batch = try consumer.pollBatch(maxMessages: 100, timeout: .milliseconds(200))
                if !batch.isEmpty { quiet = ContinuousClock.now }
                texts += batch.map { String(decoding: $0.value, as: UTF8.self) }
            }
            return texts
        }
        // b and d went on; c waits behind a (nothing of k1 reached the broker).
        let before = try published()
        #expect(Set(before) == ["warm-single", "b", "d"], "\(before)")

        let id = try #require(try OutboxParking.parked(source: source, on: connection).first?.id)
        try OutboxParking.act(.retry, on: id, operator: "test-operator", reason: "cause fixed", connection: connection)
        #expect(poll { try unsent(source) == 0 }, "the retried row and the one behind it were not published")
        let after = try published()
        let k1 = after.filter { ["a", "c"].contains($0) }
        #expect(k1.last == "c" && k1.contains("a"), "k1 order: \(after)")
        #expect(after.lastIndex(of: "a")! < after.lastIndex(of: "c")!, "\(after)")
        #expect(poll { relay.parkedRows == 0 })
    }

    @Test("a produce request refused as a whole once: every row is published one by one, none parked")
    func refusedBatchOfGoodRowsIsPublished() async throws {
        let topic = "relay.batch.good"
        let (relay, source, cluster, stop) = try startWarmRelay(topic: topic)
        defer { stop() }
        cluster.failNextProduceRequests(1, error: 10)
        try commit((1...5).map { message(topic, key: "k\($0)", "row-\($0)") }, source: source)
        relay.nudge()
        #expect(poll { try unsent(source) == 0 })
        #expect(try parked(source).isEmpty)
        #expect(Set(try read(topic, from: cluster, expecting: 6).map(\.text)) == Set(["warm"] + (1...5).map { "row-\($0)" }))
    }

    @Test("a row the broker refuses for good after sending (message too large) is parked; a retriable failure is not")
    func brokerRefusalIsParked() async throws {
        let topic = "relay.refused"
        let (relay, source, cluster, stop) = try startWarmRelay(topic: topic)
        defer { stop() }
        // MSG_SIZE_TOO_LARGE from the broker: for the request, then for the row published again alone.
        cluster.failNextProduceRequests(2, error: 10)
        try commit([message(topic, key: "k1", "refused")], source: source)
        relay.nudge()
        #expect(poll { try waiting(source) == 0 })
        #expect(try parked(source).map(\.text) == ["refused"])
        try commit([message(topic, key: "k2", "next")], source: source)
        relay.nudge()
        #expect(poll { try unsent(source) == 1 })
        #expect(Set(try read(topic, from: cluster, expecting: 2).map(\.text)) == ["warm", "next"])
    }
}
