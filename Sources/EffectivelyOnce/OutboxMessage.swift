import Crypto
import Foundation
import Kafka
import Postgres

/// A message to publish after the transaction that produced it commits.
public struct OutboxMessage: Sendable, Hashable {
    public var eventId: UUID
    public var topic: String
    public var key: String
    public var type: String
    public var payload: [UInt8]
    /// Extra headers (dead letters carry the error and the source position).
    public var headers: [String: String]
    /// What caused it (`dossier/step/round`), so that a skipped duplicate can drop its messages. Not stored.
    package var causeIdentity: String?
    /// The consumed message that caused it (`topic/partition/offset`), so that a refused copy drops its own messages
    /// and not those of a genuine one with the same identity. Not stored.
    package var causeMessage: String?

    public init(eventId: UUID, topic: String, key: String, type: String, payload: [UInt8], headers: [String: String] = [:]) {
        self.eventId = eventId
        self.topic = topic
        self.key = key
        self.type = type
        self.payload = payload
        self.headers = headers
    }

    /// A dead letter for `message`: its bytes, unchanged, with headers naming the error and where it came from.
    /// A dead letter of `message` with the reason. A value longer than `keepingAtMost` bytes is cut to its first
    /// ``DeadLetter/keptHead`` bytes, with its length and SHA-256 in headers: the dead-letter topic would refuse it
    /// whole too.
    public static func deadLetter(
        of message: KafkaMessage, error: String, consumer: String, keepingAtMost limit: Int = .max
    ) -> OutboxMessage {
        var headers = [
            "motcua_error": error, "motcua_source_topic": message.topic,
            "motcua_source_partition": String(message.partition), "motcua_source_offset": String(message.offset),
            "motcua_consumer": consumer,
        ]
        var payload = message.value
        if payload.count > limit {
            headers["motcua_original_length"] = String(payload.count)
            headers["motcua_original_sha256"] = SHA256.hash(data: payload).map { String(format: "%02x", $0) }.joined()
            payload = Array(payload.prefix(DeadLetter.keptHead))
        }
        return OutboxMessage(
            eventId: StableID.make("dlq", message.topic, String(message.partition), String(message.offset)),
            topic: DeadLetter.topic(of: message.topic),
            key: message.key.map { String(decoding: $0.prefix(256), as: UTF8.self) } ?? "",
            type: CloudEvents.type(of: message) ?? "unknown",
            payload: payload,
            headers: headers)
    }
}

/// The largest message each topic takes (full topic names), checked before a message reaches the outbox.
public struct OutboxSizeLimits: Sendable, Hashable {
    public var byTopic: [String: Int]
    public init(_ byTopic: [String: Int] = [:]) { self.byTopic = byTopic }
    public static let none = OutboxSizeLimits()

    /// Bytes a message takes on the wire beyond its key, value and extra headers: the CloudEvents headers the
    /// relay adds (`ce_id`, `ce_type`, `ce_source`, …) and the record's framing, generously.
    public static let overhead = 512

    /// The size `message` takes as the relay will publish it (an estimate on the safe side).
    public static func size(of message: OutboxMessage) -> Int {
        message.payload.count + message.key.utf8.count + message.type.utf8.count
            + message.headers.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count + 8 } + overhead
    }
}

/// A message larger than its topic takes: refused before the outbox, so that the input that caused it is
/// dead-lettered at its source with this reason instead of the broker refusing it later.
public struct OutboxMessageTooLarge: Error, CustomStringConvertible {
    public var topic: String
    public var type: String
    public var size: Int
    public var limit: Int
    public var description: String {
        "the \(type) message for topic \(topic) would be \(size) bytes, over the \(limit) bytes the topic takes "
            + "(deploy/topics.yaml maxMessageBytes): not written; raise the topic's limit (max.message.bytes and "
            + "maxMessageBytes) or make the input smaller, then submit it again"
    }
}

/// Writes outbox rows with COPY (binary format: the payload as it is, no hex), inside the caller's transaction.
public enum OutboxWriter {
    /// Writes `messages`, after checking each against its topic's limit in `limits` (throws
    /// ``OutboxMessageTooLarge``: the caller's transaction fails and the consumer dead-letters the input alone).
    public static func write(
        _ messages: [OutboxMessage], source: String, limits: OutboxSizeLimits = .none,
        into connection: PostgresConnection
    ) throws {
        guard !messages.isEmpty else { return }
        if !limits.byTopic.isEmpty {
            for message in messages {
                guard let limit = limits.byTopic[message.topic] else { continue }
                let size = OutboxSizeLimits.size(of: message)
                if size > limit {
                    throw OutboxMessageTooLarge(topic: message.topic, type: message.type, size: size, limit: limit)
                }
            }
        }
        try connection.copyInBinary(
            "COPY outbox (source, event_id, topic, key, ce_type, payload, headers) FROM STDIN (FORMAT binary)"
        ) { writer in
            for message in messages {
                try writer.beginRow()
                writer.text(source)
                writer.uuid(message.eventId)
                writer.text(message.topic)
                writer.text(message.key)
                writer.text(message.type)
                writer.bytes(message.payload)
                writer.jsonb(message.headers.isEmpty ? nil : jsonObject(message.headers))
            }
        }
    }

    static func jsonObject(_ dictionary: [String: String]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: dictionary, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
