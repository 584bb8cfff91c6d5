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
    ///
    /// One statement for all of a batch's partitions (a batch of an intake topic touches most of its partitions;
    /// a statement each was a third of a small batch's round trips). Rows are locked in the partitions' order.
    public func advance(
        _ moves: [TopicPartition: (expected: Int64?, next: Int64)], in connection: PostgresConnection
    ) throws {
        guard !moves.isEmpty else { return }
        let sorted = moves.sorted { ($0.key.topic, $0.key.partition) < ($1.key.topic, $1.key.partition) }
        // Offsets are never negative: -1 stands for "never stored" (arrays of parameters carry no NULL here).
        let rows = try connection.query(
            """
            WITH moves AS (
                SELECT * FROM unnest($2::text[], $3::int8[], $4::int8[], $5::int8[]) WITH ORDINALITY
                    AS m (topic, partition, expected, next, n)
            ), advanced AS (
                UPDATE consumer_offsets AS c SET next_offset = m.next, updated_at = now()
                FROM (SELECT * FROM moves WHERE expected >= 0 ORDER BY n) AS m
                WHERE c.consumer_group = $1 AND c.topic = m.topic AND c.partition = m.partition
                    AND c.next_offset = m.expected
                RETURNING c.topic, c.partition
            ), started AS (
                INSERT INTO consumer_offsets (consumer_group, topic, partition, next_offset)
                SELECT $1, topic, partition, next FROM moves WHERE expected < 0 ORDER BY n
                ON CONFLICT DO NOTHING
                RETURNING topic, partition
            )
            SELECT topic, partition FROM advanced UNION ALL SELECT topic, partition FROM started
            """,
            [group, sorted.map(\.key.topic), PostgresIntArray(sorted.map { Int64($0.key.partition) }),
             PostgresIntArray(sorted.map { $0.value.expected ?? -1 }), PostgresIntArray(sorted.map(\.value.next))])
        var moved = Set<TopicPartition>()
        for row in rows {
            moved.insert(TopicPartition(try row.decode(String.self, "topic"), try row.decode(Int32.self, "partition")))
        }
        if let stale = sorted.first(where: { !moved.contains($0.key) }) {
            throw OffsetFenceError(partition: stale.key, expected: stale.value.expected)
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
