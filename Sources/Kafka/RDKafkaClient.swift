import CRdKafka
import Logging
import Synchronization

/// Callbacks librdkafka makes, reached through the client's opaque slot.
///
/// C callbacks cannot capture context, so every client registers one instance of this class as its opaque and
/// each callback recovers it with `Unmanaged`. The instance lives as long as the `RDKafkaClient` that owns it.
final class RDKafkaContext: Sendable {
    let logger: Logger
    let deliveries = Mutex(DeliveryTable())
    /// Set by the rebalance callback owner (the consumer); called on the polling thread.
    let rebalance = Mutex<(@Sendable (OpaquePointer, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> Void)?>(nil)
    /// Last error reported through the error callback (for example all brokers down), cleared on success.
    let lastClientError = Mutex<KafkaError?>(nil)
    let fireAndForgetFailures = Atomic<Int>(0)
    /// Called for client-level errors (brokers down, authentication failures).
    let errorHandler = Mutex<(@Sendable (KafkaError) -> Void)?>(nil)
    /// Called for failed deliveries of messages produced without waiting.
    let deliveryFailureHandler = Mutex<(@Sendable (KafkaError) -> Void)?>(nil)

    init(logger: Logger) { self.logger = logger }
}

struct DeliveryTable {
    var nextID: UInt = 1
    var waiting: [UInt: CheckedContinuation<KafkaDeliveryReport, any Error>] = [:]
    /// Callbacks of messages enqueued with `KafkaProducer.produce(_:delivered:)`.
    var callbacks: [UInt: @Sendable (KafkaError?) -> Void] = [:]
}

/// Owns one `rd_kafka_t` handle and frees it on deinit.
final class RDKafkaClient: @unchecked Sendable {
    // rd_kafka_t is thread-safe; the pointer itself never changes after init.
    let handle: OpaquePointer
    let context: RDKafkaContext
    let kind: rd_kafka_type_t

    init(
        kind: rd_kafka_type_t, properties: [String: String], logger: Logger,
        configure: (OpaquePointer) -> Void = { _ in }
    ) throws(KafkaError) {
        let conf = rd_kafka_conf_new()!
        var errorBuffer = [CChar](repeating: 0, count: 512)
        for (key, value) in properties.sorted(by: { $0.key < $1.key }) {
            let result = rd_kafka_conf_set(conf, key, value, &errorBuffer, errorBuffer.count)
            if result != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                let detail = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                throw KafkaError(.configuration, "property '\(key)': \(detail)")
            }
        }
        let context = RDKafkaContext(logger: logger)
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(context).toOpaque())
        rd_kafka_conf_set_log_cb(conf, rdKafkaLogCallback)
        rd_kafka_conf_set_error_cb(conf, rdKafkaErrorCallback)
        configure(conf)
        // On success rd_kafka_new takes ownership of conf.
        guard let handle = rd_kafka_new(kind, conf, &errorBuffer, errorBuffer.count) else {
            rd_kafka_conf_destroy(conf)
            let detail = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw KafkaError(.clientCreation, detail)
        }
        self.handle = handle
        self.context = context
        self.kind = kind
    }

    deinit {
        rd_kafka_destroy(handle)
    }

    func fatalError() -> KafkaError? {
        var buffer = [CChar](repeating: 0, count: 512)
        let err = rd_kafka_fatal_error(handle, &buffer, buffer.count)
        guard err != RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
        let detail = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return KafkaError(.fatal, detail, rdKafkaCode: err.rawValue)
    }

    static func context(of opaque: UnsafeMutableRawPointer?) -> RDKafkaContext? {
        guard let opaque else { return nil }
        return Unmanaged<RDKafkaContext>.fromOpaque(opaque).takeUnretainedValue()
    }
}

private let rdKafkaLogCallback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Void = {
    handle, level, facility, message in
    guard let handle, let context = RDKafkaClient.context(of: rd_kafka_opaque(handle)) else { return }
    let text = message.map { String(cString: $0) } ?? ""
    let fac = facility.map { String(cString: $0) } ?? ""
    let swiftLevel: Logger.Level
    switch level {
    case ...3: swiftLevel = .error
    case 4: swiftLevel = .warning
    case 5, 6: swiftLevel = .info
    default: swiftLevel = .debug
    }
    context.logger.log(level: swiftLevel, "\(text)", metadata: ["kafka.facility": "\(fac)"])
}

private let rdKafkaErrorCallback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = {
    _, err, reason, opaque in
    guard let context = RDKafkaClient.context(of: opaque) else { return }
    let text = reason.map { String(cString: $0) } ?? ""
    let error = KafkaError(.broker, text, rdKafkaCode: err)
    context.lastClientError.withLock { $0 = error }
    context.logger.warning("librdkafka error: \(text)", metadata: ["kafka.error.code": "\(err)"])
    let handler = context.errorHandler.withLock { $0 }
    handler?(error)
}
