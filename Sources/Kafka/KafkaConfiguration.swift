/// Settings shared by producers, consumers and admin clients.
public struct KafkaClientOptions: Sendable, Hashable {
    /// Comma-separated `host:port` list. Default: `127.0.0.1:9092`.
    public var bootstrapServers: String = "127.0.0.1:9092"
    /// The `client.id` reported to brokers. Default: `motcua`.
    public var clientID: String = "motcua"
    /// librdkafka log level (syslog levels 0–7). Default: `4` (warning), which also hides the mock cluster notice.
    public var logLevel: Int = 4
    /// Any librdkafka property, applied last so that it overrides the typed settings
    /// (for example `security.protocol`, `sasl.mechanisms`, `ssl.ca.location`).
    public var properties: [String: String] = [:]

    public init(bootstrapServers: String = "127.0.0.1:9092") {
        self.bootstrapServers = bootstrapServers
    }

    /// Options from the environment: `KAFKA_BOOTSTRAP` (or `KAFKA_BOOTSTRAP_SERVERS`) sets the bootstrap list and
    /// every other `KAFKA_*` variable becomes a librdkafka property (`KAFKA_SECURITY_PROTOCOL` → `security.protocol`).
    ///
    /// Secrets (SASL passwords, key passwords) belong here or in files, never on the command line.
    public static func fromEnvironment(_ environment: [String: String]) -> KafkaClientOptions {
        var options = KafkaClientOptions()
        for (name, value) in environment where name.hasPrefix("KAFKA_") {
            switch name {
            case "KAFKA_BOOTSTRAP", "KAFKA_BOOTSTRAP_SERVERS":
                options.bootstrapServers = value
            default:
                let property = name.dropFirst("KAFKA_".count).lowercased().replacingOccurrences(of: "_", with: ".")
                options.properties[property] = value
            }
        }
        return options
    }

    func dictionary() -> [String: String] {
        ["bootstrap.servers": bootstrapServers, "client.id": clientID, "log_level": String(logLevel)]
    }

    /// Pass-through properties that make sense for this kind of client: one `KAFKA_*` environment serves producers
    /// and consumers alike, and librdkafka warns about properties of the other kind.
    func properties(for kind: Kind) -> [String: String] {
        properties.filter { key, _ in
            let consumerOnly = Self.consumerOnly.contains(key) || key.hasPrefix("group.") || key.hasPrefix("fetch.")
            let producerOnly = Self.producerOnly.contains(key) || key.hasPrefix("queue.buffering.")
            switch kind {
            case .producer: return !consumerOnly
            case .consumer: return !producerOnly
            }
        }
    }

    enum Kind { case producer, consumer }

    static let consumerOnly: Set<String> = [
        "session.timeout.ms", "heartbeat.interval.ms", "max.poll.interval.ms", "auto.offset.reset",
        "enable.auto.commit", "auto.commit.interval.ms", "enable.auto.offset.store", "partition.assignment.strategy",
        "isolation.level", "enable.partition.eof", "check.crcs", "queued.min.messages", "queued.max.messages.kbytes",
    ]
    static let producerOnly: Set<String> = [
        "linger.ms", "acks", "request.required.acks", "enable.idempotence", "compression.codec", "compression.type",
        "message.timeout.ms", "delivery.timeout.ms", "batch.num.messages", "batch.size", "retries",
        "message.send.max.retries", "transactional.id", "partitioner",
    ]
}

/// Configuration of a ``KafkaProducer``.
public struct KafkaProducerConfiguration: Sendable, Hashable {
    public var client: KafkaClientOptions
    /// Idempotent delivery: no duplicates and no reordering on retries. Default: `true`.
    public var idempotence: Bool = true
    /// How long to wait to fill a batch. Default: 5 ms.
    public var linger: Duration = .milliseconds(5)
    /// How long a message may wait for acknowledgement before its delivery fails. Default: 30 s.
    public var deliveryTimeout: Duration = .seconds(30)
    /// Compression codec (`none`, `gzip`, `snappy`, `lz4`, `zstd`). Default: `none`.
    public var compression: String = "none"
    /// Messages buffered locally before `produce` reports a full queue. Default: 1,000,000.
    public var queueCapacity: Int = 1_000_000

    public init(client: KafkaClientOptions) { self.client = client }

    func dictionary() -> [String: String] {
        var d = client.dictionary()
        d["enable.idempotence"] = idempotence ? "true" : "false"
        d["linger.ms"] = String(linger.milliseconds)
        d["message.timeout.ms"] = String(deliveryTimeout.milliseconds)
        d["compression.codec"] = compression
        d["queue.buffering.max.messages"] = String(queueCapacity)
        d.merge(client.properties(for: .producer)) { _, override in override }
        return d
    }
}

/// Configuration of a ``KafkaConsumer``.
public struct KafkaConsumerConfiguration: Sendable, Hashable {
    /// Where a partition with no stored offset starts.
    public enum OffsetReset: String, Sendable, Hashable {
        case earliest, latest, error
    }

    public var client: KafkaClientOptions
    /// The consumer group. `nil` for a group-less consumer that only uses ``KafkaConsumer/assign(_:)``.
    public var groupID: String?
    /// Where to start when no offset is known. Default: `.earliest`.
    public var offsetReset: OffsetReset = .earliest
    /// Commit offsets to Kafka automatically. Default: `false` — MotCua keeps offsets in PostgreSQL.
    public var autoCommit: Bool = false
    /// `partition.assignment.strategy`. Default: `range,roundrobin` (eager). `cooperative-sticky` is supported too.
    public var assignmentStrategy: String = "range,roundrobin"
    /// Session timeout of the group membership. Default: 10 s.
    public var sessionTimeout: Duration = .seconds(10)
    /// Report reaching the end of a partition as an event. Default: `false`.
    public var reportPartitionEOF: Bool = false
    /// Read each message's headers. Default: `true`. librdkafka 2.0.2 allocates to parse headers on every message,
    /// even one without any — about a third of a consumer's CPU — so a consumer that never looks at headers may
    /// turn this off (its messages then have no headers).
    public var readHeaders: Bool = true

    public init(client: KafkaClientOptions, groupID: String?) {
        self.client = client
        self.groupID = groupID
    }

    func dictionary() -> [String: String] {
        var d = client.dictionary()
        // librdkafka refuses assign() without a group id; a group-less reader gets a private one it never joins.
        d["group.id"] = groupID ?? "motcua.reader.\(UInt64.random(in: 0...UInt64.max))"
        d["auto.offset.reset"] = offsetReset.rawValue
        d["enable.auto.commit"] = autoCommit ? "true" : "false"
        d["enable.auto.offset.store"] = "false"
        d["partition.assignment.strategy"] = assignmentStrategy
        d["session.timeout.ms"] = String(sessionTimeout.milliseconds)
        d["enable.partition.eof"] = reportPartitionEOF ? "true" : "false"
        d.merge(client.properties(for: .consumer)) { _, override in override }
        return d
    }
}

extension Duration {
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
