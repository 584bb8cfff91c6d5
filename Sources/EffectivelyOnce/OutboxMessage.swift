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

/// Writes outbox rows with COPY (binary format: the payload as it is, no hex), inside the caller's transaction.
public enum OutboxWriter {
    public static func write(_ messages: [OutboxMessage], source: String, into connection: PostgresConnection) throws {
        guard !messages.isEmpty else { return }
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
