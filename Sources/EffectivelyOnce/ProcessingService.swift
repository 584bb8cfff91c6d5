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
        let consumer = consumer
        try await runBeside(
            relay, thread: "consumer", work: { try consumer.run() }, stop: { consumer.stop() }, logger: logger,
            stopped: "drained and stopped")
    }
}

/// Runs blocking `work` on a thread of its own beside the `relay` of its outbox; on graceful shutdown `stop` ends the
/// work (which finishes what it is doing and commits), then the relay publishes what was committed and stops.
package func runBeside(
    _ relay: OutboxRelay, thread: String, work: @escaping @Sendable () throws -> Void,
    stop: @escaping @Sendable () -> Void, logger: Logger, stopped: Logger.Message
) async throws {
    async let relayDone: Void = onThread("\(thread)-outbox-relay") { relay.run() }
    do {
        try await withGracefulShutdownHandler {
            try await onThread(thread) { try work() }
        } onGracefulShutdown: {
            stop()
        }
    } catch {
        relay.stop()
        try? await relayDone
        throw error
    }
    relay.stop()
    try await relayDone
    logger.info(stopped)
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
