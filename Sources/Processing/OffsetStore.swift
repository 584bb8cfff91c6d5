import Kafka
import Postgres

/// Consumer offsets kept in PostgreSQL (`consumer_offsets`), advanced in the same transaction as the work.
///
/// Advancing is fenced: the row must still hold the offset this consumer last wrote (or read on assignment). If
/// another member took the partition and moved on, the update matches nothing and the whole transaction fails with
/// ``OffsetFenceError`` — a stale owner can never write a batch twice.
public struct OffsetStore: Sendable {
    public let group: String

    public init(group: String) { self.group = group }

    /// The stored next offsets of these partitions; partitions never committed are absent.
    public func load(_ partitions: [TopicPartition], from connection: PostgresConnection) throws -> [TopicPartition: Int64] {
        var result: [TopicPartition: Int64] = [:]
        let topics = Set(partitions.map(\.topic))
        for topic in topics {
            let rows = try connection.query(
                "SELECT partition, next_offset FROM consumer_offsets WHERE consumer_group = $1 AND topic = $2",
                [group, topic])
            for row in rows {
                let partition = TopicPartition(topic, try row.decode(Int32.self, "partition"))
                if partitions.contains(partition) { result[partition] = try row.decode(Int64.self, "next_offset") }
            }
        }
        return result
    }

    /// Moves each partition from `expected` (nil: never stored) to `next`, or throws ``OffsetFenceError``.
    public func advance(
        _ moves: [TopicPartition: (expected: Int64?, next: Int64)], in connection: PostgresConnection
    ) throws {
        for (partition, move) in moves.sorted(by: { ($0.key.topic, $0.key.partition) < ($1.key.topic, $1.key.partition) }) {
            let changed: Int
            if let expected = move.expected {
                changed = try connection.execute(
                    """
                    UPDATE consumer_offsets SET next_offset = $5, updated_at = now()
                    WHERE consumer_group = $1 AND topic = $2 AND partition = $3 AND next_offset = $4
                    """, [group, partition.topic, partition.partition, expected, move.next])
            } else {
                changed = try connection.execute(
                    """
                    INSERT INTO consumer_offsets (consumer_group, topic, partition, next_offset)
                    VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING
                    """, [group, partition.topic, partition.partition, move.next])
            }
            if changed != 1 { throw OffsetFenceError(partition: partition, expected: move.expected) }
        }
    }
}

/// Another consumer moved a partition's stored offset: this consumer no longer owns it.
public struct OffsetFenceError: Error, CustomStringConvertible {
    public var partition: TopicPartition
    public var expected: Int64?
    public var description: String {
        "the stored offset of \(partition) is no longer \(expected.map(String.init) ?? "unset"): another consumer owns it"
    }
}
