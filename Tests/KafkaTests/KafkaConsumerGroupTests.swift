import Foundation
import Kafka
import Synchronization
import TestSupport
import Testing

/// Records what a group member was given and polls it on its own thread until told to stop.
final class GroupMember: Sendable {
    private final class State: Sendable {
        let assigned = Mutex<Set<TopicPartition>>([])
        let firstOffsets = Mutex<[TopicPartition: Int64]>([:])
        let running = Atomic<Bool>(true)
        let stopped = DispatchSemaphore(value: 0)
    }
    let consumer: KafkaConsumer
    private let state = State()

    init(options: KafkaClientOptions, group: String, topic: String, startAt: [TopicPartition: KafkaOffset] = [:]) throws {
        let state = state
        let handler = KafkaRebalanceHandler(
            assigned: { partitions in
                state.assigned.withLock { $0.formUnion(partitions) }
                return startAt.filter { partitions.contains($0.key) }
            },
            revoked: { partitions in
                state.assigned.withLock { $0.subtract(partitions) }
            })
        consumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(client: options, groupID: group), rebalance: handler,
            logger: TestEnvironment.logger)
        try consumer.subscribe(topics: [topic])
        let consumer = consumer
        Thread {
            while state.running.load(ordering: .acquiring) {
                if let batch = try? consumer.pollBatch(maxMessages: 100, timeout: .milliseconds(100)) {
                    state.firstOffsets.withLock { table in
                        for message in batch where table[message.topicPartition] == nil {
                            table[message.topicPartition] = message.offset
                        }
                    }
                }
            }
            consumer.close()
            state.stopped.signal()
        }.start()
    }

    /// Leaves the group (close runs on the polling thread) and waits for it.
    func leave() {
        if state.running.exchange(false, ordering: .acquiringAndReleasing) { state.stopped.wait() }
    }

    var partitions: Set<TopicPartition> { state.assigned.withLock { $0 } }
    func firstOffset(_ partition: TopicPartition) -> Int64? { state.firstOffsets.withLock { $0[partition] } }
}

@Suite("Kafka consumer groups against the devbroker")
struct KafkaConsumerGroupTests {
    let options: KafkaClientOptions
    init() throws { options = KafkaClientOptions(bootstrapServers: try TestEnvironment.kafkaBootstrap()) }

    @Test("two members split six partitions; when one leaves the other takes them all")
    func splitAndRebalance() async throws {
        let topic = try TestTopics.single("kafka.group", partitions: 6)
        let group = TestEnvironment.unique("group")
        let all = Set((0..<6).map { TopicPartition(topic, Int32($0)) })
        let first = try GroupMember(options: options, group: group, topic: topic)
        defer { first.leave() }
        let second = try GroupMember(options: options, group: group, topic: topic)
        defer { second.leave() }

        let split = await eventually(timeout: TestEnvironment.consumerDeadline) {
            let a = first.partitions, b = second.partitions
            return !a.isEmpty && !b.isEmpty && a.isDisjoint(with: b) && a.union(b) == all
        }
        #expect(split, "members hold \(first.partitions) and \(second.partitions)")

        second.leave()
        let takenOver = await eventually(timeout: TestEnvironment.consumerDeadline) { first.partitions == all }
        #expect(takenOver, "after one left, the other holds \(first.partitions)")
    }

    @Test("a member starts each partition at the offset the caller supplies on assignment")
    func resumeFromSuppliedOffsets() async throws {
        let topic = try TestTopics.single("kafka.admin", partitions: 5)
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(client: options), logger: TestEnvironment.logger)
        for index in 0..<20 {
            try await producer.send(KafkaOutgoingMessage(topic: topic, partition: 2, key: [UInt8(index)], value: [UInt8(index)]))
        }
        try producer.close()
        let admin = try KafkaAdmin(options: options, logger: TestEnvironment.logger)
        let high = try admin.watermarks(TopicPartition(topic, 2)).high
        let start = high - 7
        let member = try GroupMember(
            options: options, group: TestEnvironment.unique("resume"), topic: topic,
            startAt: [TopicPartition(topic, 2): KafkaOffset(start)])
        defer { member.leave() }
        let got = await eventually(timeout: TestEnvironment.consumerDeadline) {
            member.firstOffset(TopicPartition(topic, 2)) != nil
        }
        #expect(got)
        #expect(member.firstOffset(TopicPartition(topic, 2)) == start)
    }
}
