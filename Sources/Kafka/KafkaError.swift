import CRdKafka

/// An error raised by the Kafka client.
///
/// `description` says what failed in words fit for a log or a terminal; `debugDescription` adds the
/// librdkafka error code and the source location.
public struct KafkaError: Error, CustomStringConvertible, CustomDebugStringConvertible, Sendable {
    /// What kind of operation failed.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// A configuration property was rejected (unknown name or invalid value).
        public static let configuration = Code("configuration")
        /// librdkafka could not create the client.
        public static let clientCreation = Code("client creation")
        /// A message could not be enqueued for sending.
        public static let produce = Code("produce")
        /// The broker did not acknowledge a message in time, or refused it.
        public static let delivery = Code("delivery")
        /// Polling the consumer failed.
        public static let consume = Code("consume")
        /// Subscribing, assigning or seeking failed.
        public static let assignment = Code("assignment")
        /// Committing offsets failed.
        public static let commit = Code("commit")
        /// A metadata, watermark or offset query failed.
        public static let query = Code("query")
        /// An admin operation (create topics) failed.
        public static let admin = Code("admin")
        /// The broker does not support the requested feature (e.g. the mock cluster and offsets-for-times).
        public static let unsupportedByBroker = Code("unsupported by broker")
        /// The operation did not finish within its timeout.
        public static let timeout = Code("timeout")
        /// The brokers or the connection to them reported a problem (all brokers down, authentication).
        public static let broker = Code("broker")
        /// The client was already closed.
        public static let closed = Code("closed")
        /// The client hit a fatal error (for example a fenced idempotent producer) and must be recreated.
        public static let fatal = Code("fatal")
    }

    public var code: Code
    /// What went wrong, in words.
    public var reason: String
    /// The librdkafka error code, when there is one.
    public var rdKafkaCode: Int32?
    public var file: String
    public var line: Int

    public init(_ code: Code, _ reason: String, rdKafkaCode: Int32? = nil, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.reason = reason
        self.rdKafkaCode = rdKafkaCode
        self.file = file
        self.line = line
    }

    init(_ code: Code, _ context: String, error: rd_kafka_resp_err_t, file: String = #fileID, line: Int = #line) {
        let text = String(cString: rd_kafka_err2str(error))
        self.init(code, "\(context): \(text)", rdKafkaCode: error.rawValue, file: file, line: line)
    }

    public var description: String { "Kafka \(code) failed: \(reason)" }

    public var debugDescription: String {
        let rd = rdKafkaCode.map { " (rd_kafka_resp_err \($0))" } ?? ""
        return "KafkaError(\(code)): \(reason)\(rd) at \(file):\(line)"
    }

    /// Whether retrying the same operation later may succeed (the broker was unreachable, a leader was moving).
    public var isRetriable: Bool {
        guard let raw = rdKafkaCode else { return code == .timeout }
        let err = rd_kafka_resp_err_t(raw)
        switch err {
        case RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, RD_KAFKA_RESP_ERR__TIMED_OUT,
            RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, RD_KAFKA_RESP_ERR__QUEUE_FULL, RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE,
            RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
            RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, RD_KAFKA_RESP_ERR__RESOLVE:
            return true
        default:
            return false
        }
    }

    /// Whether the broker (or librdkafka before it) refuses this very message for good — its size, its format, its
    /// topic's name — so that sending it again can never succeed, whatever else changes.
    public var refusesMessageForGood: Bool {
        guard let raw = rdKafkaCode else { return false }
        switch rd_kafka_resp_err_t(raw) {
        case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE,
            RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE, RD_KAFKA_RESP_ERR_INVALID_RECORD, RD_KAFKA_RESP_ERR_INVALID_MSG,
            RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
            return true
        default:
            return false
        }
    }
}
