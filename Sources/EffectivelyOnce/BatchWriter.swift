import Kafka
import Postgres

/// What one consumer does with its messages, inside the transaction that also advances its offsets.
public protocol BatchWriter: Sendable {
    /// The outbox shard this writer's messages go to (one relay publishes each shard, in order).
    var outboxSource: String { get }

    /// Prepares a new connection (prepared statements, version rows). Called after every (re)connect.
    func prepare(_ connection: PostgresConnection) throws

    /// Writes the effects of `messages` — in partition order — into the open transaction. Messages it cannot
    /// decode become dead letters through the outbox; it throws only for database failures and bugs.
    func write(_ messages: [KafkaMessage], into transaction: PostgresConnection) throws -> BatchReport

    /// The part of the work on `messages` that needs no database (decoding, deciding, encoding), which the consumer
    /// does while the previous batch's transaction runs; nil when there is none (the default). Whatever it returns
    /// is handed to ``write(_:staged:into:)`` with the same messages, or dropped if the batch is not written.
    func stage(_ messages: [KafkaMessage]) -> (any Sendable)?

    /// ``write(_:into:)`` with the result of ``stage(_:)`` for these messages (nil: none). The default ignores it.
    func write(_ messages: [KafkaMessage], staged: (any Sendable)?, into transaction: PostgresConnection) throws
        -> BatchReport

    /// Called after the transaction of the last ``write(_:staged:into:)`` committed — never after one that failed
    /// or was rolled back. What that write learned from the database may be kept from now on. The default does
    /// nothing.
    func committed()
}

extension BatchWriter {
    public func stage(_ messages: [KafkaMessage]) -> (any Sendable)? { nil }

    public func committed() {}

    public func write(_ messages: [KafkaMessage], staged: (any Sendable)?, into transaction: PostgresConnection) throws
        -> BatchReport
    {
        try write(messages, into: transaction)
    }
}

/// What a batch did, for metrics and logs.
public struct BatchReport: Sendable, Equatable {
    public var processed = 0
    public var deadLetters = 0
    public var skippedDuplicates = 0
    /// Counts by outcome (`approve`, `received`, …).
    public var outcomes: [String: Int] = [:]

    public init() {}

    public mutating func merge(_ other: BatchReport) {
        processed += other.processed
        deadLetters += other.deadLetters
        skippedDuplicates += other.skippedDuplicates
        outcomes.merge(other.outcomes, uniquingKeysWith: +)
    }
}
