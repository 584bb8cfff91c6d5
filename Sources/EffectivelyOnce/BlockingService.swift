import Foundation
import ServiceLifecycle

/// Runs blocking `work` on a thread of its own (not the cooperative pool) until it returns; a graceful shutdown calls
/// `stop`, which makes `work` finish what it is doing and return. The shared body of the engine's `Service`s.
package func runUntilGracefulShutdown(
    thread: String, work: @escaping @Sendable () throws -> Void, stop: @escaping @Sendable () -> Void
) async throws {
    try await withGracefulShutdownHandler {
        try await onThread(thread) { try work() }
    } onGracefulShutdown: {
        stop()
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

extension EffectivelyOnceConsumer: Service {
    /// Consumes until a graceful shutdown; then finishes its batch, commits, leaves the group and returns.
    public func run() async throws {
        try await runUntilGracefulShutdown(
            thread: "consumer", work: { [self] in try runBlocking() }, stop: { [self] in stop() })
    }
}

extension OutboxRelay: Service {
    /// Publishes until a graceful shutdown; then publishes what was committed, waits for the acknowledgements and
    /// returns. In a `ServiceGroup`, list it before the writers of its outbox: the group shuts services down in
    /// reverse order, so the writers commit their last batch before the relay drains.
    public func run() async throws {
        try await runUntilGracefulShutdown(
            thread: "outbox-relay", work: { [self] in runBlocking() }, stop: { [self] in stop() })
    }
}
