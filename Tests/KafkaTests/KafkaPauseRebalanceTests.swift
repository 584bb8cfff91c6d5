import Foundation
import Kafka
import Synchronization
import TestSupport
import Testing

/// A group member that can pause everything it holds (on its polling thread, as ``EffectivelyOnceConsumer`` pauses
/// while PostgreSQL is away) and records the partitions it received messages from.
final class PausingMember: Sendable {
    private final class State: Sendable {
        let assigned = Mutex<Set<TopicPartition>>([])
        let received = Mutex<Set<TopicPartition>>([])
        let pauseRequested = Atomic<Bool>(false)
        let running = Atomic<Bool>(true)
        let stopped = DispatchSemaphore(value: 0)
    }
    private let state = State()

    init(options: KafkaClientOptions, group: String, topic: String) throws {
        let state = state
        let handler = KafkaRebalanceHandler(
            assigned: { partitions in
                state.assigned.withLock { $0.formUnion(partitions) }
                return Dictionary(uniqueKeysWithValues: partitions.map { ($0, KafkaOffset.beginning) })
            },
            revoked: { partitions in state.assigned.withLock { $0.subtract(partitions) } })
        let consumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(client: options, groupID: group), rebalance: handler,
            logger: TestEnvironment.logger)
        try consumer.subscribe(topics: [topic])
        Thread {
            while state.running.load(ordering: .acquiring) {
                if state.pauseRequested.exchange(false, ordering: .acquiringAndReleasing) {
                    try? consumer.pause(Array(state.assigned.withLock { $0 }))
                }
                if let batch = try? consumer.pollBatch(maxMessages: 100, timeout: .milliseconds(100)) {
                    state.received.withLock { $0.formUnion(batch.map(\.topicPartition)) }
                }
            }
            consumer.close()
            state.stopped.signal()
        }.start()
    }

    func pauseAll() { state.pauseRequested.store(true, ordering: .releasing) }
    func forgetReceived() { state.received.withLock { $0 = [] } }
    func leave() {
        if state.running.exchange(false, ordering: .acquiringAndReleasing) { state.stopped.wait() }
    }

    var partitions: Set<TopicPartition> { state.assigned.withLock { $0 } }
    var received: Set<TopicPartition> { state.received.withLock { $0 } }
}

/// Regression of the seed-505 chaos finding (RELIABILITY.md): librdkafka keeps a partition's application pause
/// across a revocation, so a partition a member paused (the consumer pauses everything it holds while PostgreSQL is
/// unavailable), lost in a rebalance and was given back later, stayed paused: assigned, never fetched, no error.
@Suite("Kafka: a fresh assignment is fetched, whatever was paused before")
struct KafkaPauseRebalanceTests {
    @Test("partitions a member paused, lost in a rebalance and got back are fetched again")
    func pausedThenReassigned() async throws {
        let options = KafkaClientOptions(bootstrapServers: try TestEnvironment.kafkaBootstrap())
        let topic = try TestTopics.single("kafka.pause", partitions: 4)
        let group = TestEnvironment.unique("pause")
        let all = Set((0..<4).map { TopicPartition(topic, Int32($0)) })
        let first = try PausingMember(options: options, group: group, topic: topic)
        defer { first.leave() }
        let holdsAll = await eventually(timeout: TestEnvironment.consumerDeadline) { first.partitions == all }
        #expect(holdsAll, "the first member holds \(first.partitions)")
        first.pauseAll()
        // A second member joins (every partition is revoked and handed out again), then leaves (all come back).
        let second = try PausingMember(options: options, group: group, topic: topic)
        let split = await eventually(timeout: TestEnvironment.consumerDeadline) {
            !second.partitions.isEmpty && first.partitions.union(second.partitions) == all
                && first.partitions.isDisjoint(with: second.partitions)
        }
        #expect(split, "members hold \(first.partitions) and \(second.partitions)")
        second.leave()
        let back = await eventually(timeout: TestEnvironment.consumerDeadline) { first.partitions == all }
        #expect(back, "after the second left, the first holds \(first.partitions)")
        first.forgetReceived()
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(client: options), logger: TestEnvironment.logger)
        for partition in 0..<4 {
            try await producer.send(KafkaOutgoingMessage(topic: topic, partition: Int32(partition), key: [1], value: [2]))
        }
        try producer.close()
        let fetched = await eventually(timeout: TestEnvironment.consumerDeadline) { first.received == all }
        #expect(fetched, "the first member fetched only \(first.received.sorted { $0.partition < $1.partition })")
    }
}
