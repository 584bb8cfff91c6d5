import Foundation
import Logging
import ServiceLifecycle

/// Runs an ``EffectivelyOnceConsumer`` and the ``OutboxRelay`` of its source as one service.
///
/// On graceful shutdown the consumer finishes its batch, commits and leaves the group; then the relay publishes
/// what was committed and stops.
public struct ProcessingService: Service {
    public let consumer: EffectivelyOnceConsumer
    public let relay: OutboxRelay
    let logger: Logger

    public init(consumer: EffectivelyOnceConsumer, relay: OutboxRelay, logger: Logger) {
        self.consumer = consumer
        self.relay = relay
        self.logger = logger
    }

    public func run() async throws {
        let relay = relay
        let consumer = consumer
        async let relayDone: Void = onThread("outbox-relay") { relay.run() }
        do {
            try await withGracefulShutdownHandler {
                try await onThread("consumer") { try consumer.run() }
            } onGracefulShutdown: {
                consumer.stop()
            }
        } catch {
            relay.stop()
            try? await relayDone
            throw error
        }
        relay.stop()
        try await relayDone
        logger.info("drained and stopped")
    }
}

/// Runs blocking work on a thread of its own (not the cooperative pool) and awaits it.
public func onThread<T: Sendable>(_ name: String, _ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            do {
                continuation.resume(returning: try body())
            } catch {
                continuation.resume(throwing: error)
            }
        }
        thread.name = name
        thread.stackSize = 8 << 20
        thread.start()
    }
}
