import CRdKafka
import Foundation
import Logging
import Synchronization

/// A Kafka producer over librdkafka, idempotent by default.
///
/// ``send(_:)`` suspends until the broker acknowledges the message; ``produce(_:)`` only enqueues it, and
/// failures are counted and passed to the handler set with ``onDeliveryFailure(_:)``. A background thread serves
/// librdkafka's delivery reports until ``close(timeout:)``.
public final class KafkaProducer: Sendable {
    let client: RDKafkaClient
    private let topics = Mutex(TopicTable())
    private let poller: PollThread
    private let deliveryTimeout: Duration

    public init(configuration: KafkaProducerConfiguration, logger: Logger) throws(KafkaError) {
        client = try RDKafkaClient(kind: RD_KAFKA_PRODUCER, properties: configuration.dictionary(), logger: logger) {
            rd_kafka_conf_set_dr_msg_cb($0, deliveryCallback)
        }
        deliveryTimeout = configuration.deliveryTimeout
        let client = client
        poller = PollThread(name: "kafka-producer-poll") { rd_kafka_poll(client.handle, 100) }
    }

    deinit {
        poller.stop()
        topics.withLock { table in
            for handle in table.handles.values { rd_kafka_topic_destroy(handle.pointer) }
            table = TopicTable()
        }
    }

    /// Sends a message and waits for the broker's acknowledgement.
    @discardableResult
    public func send(_ message: KafkaOutgoingMessage) async throws -> KafkaDeliveryReport {
        try await withCheckedThrowingContinuation { continuation in
            let id = track { table, id in table.waiting[id] = continuation }
            do {
                try enqueue(message, opaque: UnsafeMutableRawPointer(bitPattern: id))
            } catch {
                let waiting = client.context.deliveries.withLock { $0.waiting.removeValue(forKey: id) }
                waiting?.resume(throwing: error)
            }
        }
    }

    /// A new delivery id, filed in the delivery table by `file` under the same lock (the delivery callback finds
    /// the waiter or callback by it).
    private func track(_ file: (inout DeliveryTable, UInt) -> Void) -> UInt {
        client.context.deliveries.withLock { table in
            let id = table.nextID
            table.nextID += 1
            file(&table, id)
            return id
        }
    }

    /// Enqueues a message without waiting for its acknowledgement; waits while the local queue is full.
    ///
    /// Use ``flush(timeout:)`` to wait for everything enqueued, and ``failedDeliveries`` or
    /// ``onDeliveryFailure(_:)`` to learn of failures.
    public func produce(_ message: KafkaOutgoingMessage) throws(KafkaError) {
        try enqueue(message, opaque: nil)
    }

    /// Enqueues a message without waiting; `delivered` is called once, on the producer's polling thread, with nil
    /// when the broker acknowledged the message or with the error when its delivery failed. Waits while the local
    /// queue is full. Unlike ``send(_:)`` the caller keeps going; unlike ``produce(_:)`` it learns which message
    /// was acknowledged (for example to mark it sent while it publishes the next ones).
    public func produce(
        _ message: KafkaOutgoingMessage, delivered: @escaping @Sendable (KafkaError?) -> Void
    ) throws(KafkaError) {
        let id = track { table, id in table.callbacks[id] = delivered }
        do {
            try enqueue(message, opaque: UnsafeMutableRawPointer(bitPattern: id))
        } catch {
            _ = client.context.deliveries.withLock { $0.callbacks.removeValue(forKey: id) }
            throw error
        }
    }

    /// Called, on the producer's polling thread, for each message sent with ``produce(_:)`` that failed.
    public func onDeliveryFailure(_ handler: @escaping @Sendable (KafkaError) -> Void) {
        client.context.deliveryFailureHandler.withLock { $0 = handler }
    }

    /// Messages sent with ``produce(_:)`` whose delivery failed, since the producer started.
    public var failedDeliveries: Int { client.context.fireAndForgetFailures.load(ordering: .relaxed) }

    /// Waits until every enqueued message is acknowledged or failed.
    public func flush(timeout: Duration = .seconds(30)) throws(KafkaError) {
        let err = rd_kafka_flush(client.handle, Int32(clamping: timeout.milliseconds))
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(.timeout, "flush: \(rd_kafka_outq_len(client.handle)) messages still unacknowledged", error: err)
        }
    }

    /// Flushes and stops the polling thread. The producer must not be used afterwards.
    public func close(timeout: Duration = .seconds(30)) throws(KafkaError) {
        defer { poller.stop() }
        try flush(timeout: timeout)
    }

    /// Messages waiting in the local queue or in flight.
    public var outstanding: Int { Int(rd_kafka_outq_len(client.handle)) }

    private func topicHandle(_ name: String) -> OpaquePointer {
        topics.withLock { table in
            // Producers mostly send to one topic after another: compare with the last one before hashing.
            if let last = table.last, last.name == name { return last.pointer }
            if let existing = table.handles[name] {
                table.last = (name, existing.pointer)
                return existing.pointer
            }
            let pointer = rd_kafka_topic_new(client.handle, name, nil)!
            table.handles[name] = TopicHandle(pointer: pointer)
            table.last = (name, pointer)
            return pointer
        }
    }

    private func enqueue(_ message: KafkaOutgoingMessage, opaque: UnsafeMutableRawPointer?) throws(KafkaError) {
        let rkt = topicHandle(message.topic)
        // The clock is read only once the queue is full, not for every message.
        var deadline: ContinuousClock.Instant? = nil
        while true {
            let error = produceOnce(message, rkt: rkt, opaque: opaque)
            guard let error else { return }
            let code = rd_kafka_error_code(error)
            let text = String(cString: rd_kafka_error_string(error))
            rd_kafka_error_destroy(error)
            let now = ContinuousClock.now
            if deadline == nil { deadline = now + deliveryTimeout }
            if code == RD_KAFKA_RESP_ERR__QUEUE_FULL, let deadline, now < deadline {
                // The polling thread drains delivery reports; give it a moment to make room.
                rd_kafka_poll(client.handle, 1)
                continue
            }
            throw KafkaError(.produce, "topic '\(message.topic)': \(text)", rdKafkaCode: code.rawValue)
        }
    }

    private func produceOnce(
        _ message: KafkaOutgoingMessage, rkt: OpaquePointer, opaque: UnsafeMutableRawPointer?
    ) -> OpaquePointer? {
        var headers: OpaquePointer? = nil
        if !message.headers.isEmpty {
            headers = rd_kafka_headers_new(message.headers.count)
            for header in message.headers {
                if let value = header.value {
                    value.withUnsafeBytes { bytes in
                        _ = rd_kafka_header_add(headers, header.name, -1, bytes.baseAddress, bytes.count)
                    }
                } else {
                    _ = rd_kafka_header_add(headers, header.name, -1, nil, 0)
                }
            }
        }
        let error: OpaquePointer? = message.value.withUnsafeBytes { value in
            withKey(message.key) { keyPointer, keyLength in
                // On the stack: a heap array per message costs as much as the rest of this function.
                withUnsafeTemporaryAllocation(of: rd_kafka_vu_t.self, capacity: 7) { vus in
                    vus.initialize(repeating: rd_kafka_vu_t())
                    vus[0].vtype = RD_KAFKA_VTYPE_RKT
                    vus[0].u.rkt = rkt
                    vus[1].vtype = RD_KAFKA_VTYPE_PARTITION
                    vus[1].u.i32 = message.partition ?? RD_KAFKA_PARTITION_UA
                    vus[2].vtype = RD_KAFKA_VTYPE_VALUE
                    vus[2].u.mem.ptr = UnsafeMutableRawPointer(mutating: value.baseAddress)
                    vus[2].u.mem.size = value.count
                    vus[3].vtype = RD_KAFKA_VTYPE_KEY
                    vus[3].u.mem.ptr = UnsafeMutableRawPointer(mutating: keyPointer)
                    vus[3].u.mem.size = keyLength
                    vus[4].vtype = RD_KAFKA_VTYPE_MSGFLAGS
                    vus[4].u.i = RD_KAFKA_MSG_F_COPY
                    vus[5].vtype = RD_KAFKA_VTYPE_OPAQUE
                    vus[5].u.ptr = opaque
                    if let headers {
                        vus[6].vtype = RD_KAFKA_VTYPE_HEADERS
                        vus[6].u.headers = headers
                    }
                    return rd_kafka_produceva(client.handle, vus.baseAddress, headers == nil ? 6 : 7)
                }
            }
        }
        // librdkafka takes the headers only when the message was accepted.
        if error != nil, let headers { rd_kafka_headers_destroy(headers) }
        return error
    }
}

private func withKey<R>(_ key: [UInt8]?, _ body: (UnsafeRawPointer?, Int) -> R) -> R {
    guard let key else { return body(nil, 0) }
    return key.withUnsafeBytes { body($0.baseAddress, $0.count) }
}

/// The producer's topic handles by name, and the one used last.
private struct TopicTable {
    var handles: [String: TopicHandle] = [:]
    var last: (name: String, pointer: OpaquePointer)? = nil
}

private struct TopicHandle: @unchecked Sendable {
    // rd_kafka_topic_t is thread-safe and lives until the producer is freed.
    let pointer: OpaquePointer
}

private let deliveryCallback: @convention(c) (OpaquePointer?, UnsafePointer<rd_kafka_message_t>?, UnsafeMutableRawPointer?) -> Void = {
    _, message, opaque in
    guard let message, let context = RDKafkaClient.context(of: opaque) else { return }
    let m = message.pointee
    let id = UInt(bitPattern: m._private)
    let failure: KafkaError?
    if m.err != RD_KAFKA_RESP_ERR_NO_ERROR {
        let topic = m.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? "?"
        failure = KafkaError(.delivery, "topic '\(topic)'", error: m.err)
    } else {
        failure = nil
    }
    guard id != 0 else {
        if let failure {
            context.fireAndForgetFailures.add(1, ordering: .relaxed)
            let handler = context.deliveryFailureHandler.withLock { $0 }
            handler?(failure)
        }
        return
    }
    let (continuation, callback) = context.deliveries.withLock { table in
        (table.waiting.removeValue(forKey: id), table.callbacks.removeValue(forKey: id))
    }
    if let callback {
        callback(failure)
        return
    }
    guard let continuation else { return }
    if let failure {
        continuation.resume(throwing: failure)
    } else {
        let topic = String(cString: rd_kafka_topic_name(m.rkt))
        continuation.resume(returning: KafkaDeliveryReport(topic: topic, partition: m.partition, offset: m.offset))
    }
}

/// A thread that calls `body` until stopped; joins on `stop()`.
final class PollThread: Sendable {
    private final class State: Sendable {
        let running = Atomic<Bool>(true)
        let finished = DispatchSemaphore(value: 0)
    }
    private let state = State()

    init(name: String, _ body: @escaping @Sendable () -> Void) {
        let state = state
        let thread = Thread {
            while state.running.load(ordering: .acquiring) { body() }
            state.finished.signal()
        }
        thread.name = name
        thread.start()
    }

    func stop() {
        if state.running.exchange(false, ordering: .acquiringAndReleasing) { state.finished.wait() }
    }
}
