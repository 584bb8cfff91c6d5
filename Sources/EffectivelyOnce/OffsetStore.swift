import Crypto
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

    /// A partition's stored offset with the identity of the last message consumed (nil: not known).
    public struct Position: Sendable, Equatable {
        public var next: Int64
        public var lastMessage: String?
        public init(next: Int64, lastMessage: String?) {
            self.next = next
            self.lastMessage = lastMessage
        }
    }

    /// The stored positions of these partitions; partitions never committed are absent.
    public func positions(
        _ partitions: [TopicPartition], from connection: PostgresConnection
    ) throws -> [TopicPartition: Position] {
        var result: [TopicPartition: Position] = [:]
        for topic in Set(partitions.map(\.topic)) {
            let rows = try connection.query(
                """
                SELECT partition, next_offset, last_message FROM consumer_offsets
                WHERE consumer_group = $1 AND topic = $2
                """, [group, topic])
            for row in rows {
                let partition = TopicPartition(topic, try row.decode(Int32.self, "partition"))
                guard partitions.contains(partition) else { continue }
                result[partition] = Position(
                    next: try row.decode(Int64.self, "next_offset"),
                    lastMessage: try row.decodeIfPresent(String.self, "last_message"))
            }
        }
        return result
    }

    /// The identity of a consumed message as stored beside the offset: `sha256:<hex>` of its key, a zero byte and
    /// its value. Not its `ce_id`: some consumers do not read headers (``KafkaConsumerConfiguration/readHeaders``),
    /// and a digest also tells apart two messages a buggy producer gave the same id.
    public static func identity(of message: KafkaMessage) -> String {
        var hash = SHA256()
        hash.update(data: message.key ?? [])
        hash.update(data: [0])
        hash.update(data: message.value)
        // Written byte by byte (PostgresBytes.hex): `String(format: "%02x")` per byte (vfprintf through Foundation)
        // was ~1% of a worker's CPU, 32 calls for each partition of each batch.
        return "sha256:" + PostgresBytes.hex(hash.finalize())
    }

    /// Moves each partition from `expected` (nil: never stored) to `next`, or throws ``OffsetFenceError``.
    /// `identities`: the identity (``identity(of:)``) of the message at `next - 1` of each partition (absent: not
    /// known, stored as NULL).
    ///
    /// One statement for all of a batch's stored partitions, and one for its first-time partitions if it has any (a
    /// batch of an intake topic touches most of its partitions; a statement each was a third of a small batch's
    /// round trips). No CTE: every execution is planned afresh (`plan_cache_mode`), and a CTE plans dearly.
    public func advance(
        _ moves: [TopicPartition: (expected: Int64?, next: Int64)], identities: [TopicPartition: String] = [:],
        in connection: PostgresConnection
    ) throws {
        guard !moves.isEmpty else { return }
        let sorted = moves.sorted { ($0.key.topic, $0.key.partition) < ($1.key.topic, $1.key.partition) }
        var moved = Set<TopicPartition>()
        func collect(_ rows: PostgresRows) throws {
            for row in rows {
                moved.insert(TopicPartition(try row.decode(String.self, "topic"), try row.decode(Int32.self, "partition")))
            }
        }
        let stored = sorted.compactMap { move in move.value.expected.map { (move.key, $0, move.value.next) } }
        if !stored.isEmpty {
            try collect(connection.query(
                """
                UPDATE consumer_offsets AS c SET next_offset = m.next, last_message = m.last, updated_at = now()
                FROM unnest($2::text[], $3::int8[], $4::int8[], $5::int8[], $6::text[])
                    AS m (topic, partition, expected, next, last)
                WHERE c.consumer_group = $1 AND c.topic = m.topic AND c.partition = m.partition
                    AND c.next_offset = m.expected
                RETURNING c.topic, c.partition
                """,
                [group, stored.map(\.0.topic), PostgresIntArray(stored.map { Int64($0.0.partition) }),
                 PostgresIntArray(stored.map(\.1)), PostgresIntArray(stored.map(\.2)),
                 PostgresTextArray(stored.map { identities[$0.0] })]))
        }
        let first = sorted.filter { $0.value.expected == nil }
        if !first.isEmpty {
            try collect(connection.query(
                """
                INSERT INTO consumer_offsets (consumer_group, topic, partition, next_offset, last_message)
                SELECT $1, topic, partition, next, last
                FROM unnest($2::text[], $3::int8[], $4::int8[], $5::text[]) AS m (topic, partition, next, last)
                ON CONFLICT DO NOTHING
                RETURNING topic, partition
                """,
                [group, first.map(\.key.topic), PostgresIntArray(first.map { Int64($0.key.partition) }),
                 PostgresIntArray(first.map(\.value.next)), PostgresTextArray(first.map { identities[$0.key] })]))
        }
        if let stale = sorted.first(where: { !moved.contains($0.key) }) {
            throw OffsetFenceError(partition: stale.key, expected: stale.value.expected)
        }
    }
}

extension OffsetStore {
    /// Every stored offset of the group, by topic and partition.
    public func stored(on connection: PostgresConnection) throws -> [(partition: TopicPartition, next: Int64)] {
        try connection.query(
            """
            SELECT topic, partition, next_offset FROM consumer_offsets WHERE consumer_group = \(group)
            ORDER BY topic, partition
            """
        ).map { row in
            (TopicPartition(try row.decode(String.self, "topic"), try row.decode(Int32.self, "partition")),
             try row.decode(Int64.self, "next_offset"))
        }
    }

    /// Sets a partition's stored offset (an operator's decision after the broker lost data), records it in
    /// `offset_resets` (who, why, from what) and forgets the last message's identity (the consumer then checks only
    /// the broker's range); returns the previous offset (nil: none was stored). A running consumer of the group
    /// picks it up within seconds if the partition was stopped; otherwise at its next assignment.
    @discardableResult
    public func reset(
        _ partition: TopicPartition, to next: Int64, operator who: String = "test", reason: String = "reset",
        on connection: PostgresConnection
    ) throws -> Int64? {
        try connection.transaction { tx in
            let previous = try tx.query(
                """
                SELECT next_offset, last_message FROM consumer_offsets
                WHERE consumer_group = \(group) AND topic = \(partition.topic) AND partition = \(Int(partition.partition))
                FOR UPDATE
                """
            ).first
            let previousOffset = try previous?.decode(Int64.self, "next_offset")
            let previousMessage = try previous?.decodeIfPresent(String.self, "last_message")
            try tx.execute(
                """
                INSERT INTO consumer_offsets (consumer_group, topic, partition, next_offset, last_message)
                VALUES (\(group), \(partition.topic), \(Int(partition.partition)), \(next), NULL)
                ON CONFLICT (consumer_group, topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset,
                    last_message = NULL, updated_at = now()
                """)
            try tx.execute(
                """
                INSERT INTO offset_resets (consumer_group, topic, partition, previous_offset, previous_message,
                    new_offset, operator, reason)
                VALUES (\(group), \(partition.topic), \(Int(partition.partition)), \(previousOffset), \(previousMessage),
                    \(next), \(who), \(reason))
                """)
            return previousOffset
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
