import Foundation
import Kafka
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// Whether the Kafka cluster answers, for `/health/ready`: a metadata request for one topic every `interval`, on a
/// thread of its own (the health endpoint only reads the last answer, so it never blocks on the broker). Exports
/// `motcua_kafka_reachable` (1 or 0).
public final class KafkaReachability: Sendable {
    private let admin: KafkaAdmin
    private let topic: String?
    private let interval: Duration
    private let logger: Logger
    private let reachable = Atomic<Bool>(false)
    private let stopping = Atomic<Bool>(false)
    private let wakeup = DispatchSemaphore(value: 0)
    private let gauge = Gauge(label: "motcua_kafka_reachable")

    /// `topic`: a topic the process uses (nil: every topic, a heavier request). Default interval: 2 s (a request
    /// times out after the same).
    public init(kafka: KafkaClientOptions, topic: String?, interval: Duration = .seconds(2), logger: Logger) throws {
        self.admin = try KafkaAdmin(options: kafka, logger: logger)
        self.topic = topic
        self.interval = interval
        self.logger = logger
    }

    /// Whether the last metadata request was answered (false before the first answer).
    public var isReachable: Bool { reachable.load(ordering: .relaxed) }

    /// Probes until ``stop()``. Blocking: own thread (``run()`` does, as a `Service`).
    public func runBlocking() {
        while !stopping.load(ordering: .acquiring) {
            let ok: Bool
            do {
                _ = try admin.metadata(topic: topic, timeout: interval)
                ok = true
            } catch {
                ok = false
                if reachable.load(ordering: .relaxed) {
                    logger.error("Kafka does not answer: /health/ready fails until it does", metadata: ["error": "\(error)"])
                }
            }
            if ok && !reachable.load(ordering: .relaxed) { logger.info("Kafka answers") }
            reachable.store(ok, ordering: .relaxed)
            gauge.record(ok ? 1 : 0)
            _ = wakeup.wait(timeout: .now() + interval.seconds)
        }
    }

    public func stop() {
        stopping.store(true, ordering: .releasing)
        wakeup.signal()
    }
}

extension KafkaReachability: Service {
    public func run() async throws {
        try await runUntilGracefulShutdown(
            thread: "kafka-probe", work: { [self] in runBlocking() }, stop: { [self] in stop() })
    }
}
