import Kafka

/// CloudEvents binary-mode headers (`ce_specversion`, `ce_id`, `ce_type`, `ce_source`, `content-type`): the one place
/// they are built and read.
public enum CloudEvents {
    /// The header that carries a message's type.
    public static let typeHeader = "ce_type"

    /// The headers of a JSON message with a stable `id`, its `type` and the `source` that produced it.
    public static func headers(id: String, type: String, source: String) -> [KafkaHeader] {
        [
            KafkaHeader("ce_specversion", "1.0"), KafkaHeader("ce_id", id), KafkaHeader(typeHeader, type),
            KafkaHeader("ce_source", source), KafkaHeader("content-type", "application/json"),
        ]
    }

    /// The `ce_type` of a message, if it has one.
    public static func type(of message: KafkaMessage) -> String? {
        message.header(typeHeader)
    }
}
