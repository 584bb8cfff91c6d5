import EffectivelyOnce
import ServiceLifecycle

extension DeadlineTimer: Service {
    /// Fires until a graceful shutdown; then finishes its round and returns. In a `ServiceGroup`, list the relay of
    /// its outbox before it (the group shuts services down in reverse order).
    public func run() async throws {
        try await runUntilGracefulShutdown(
            thread: "deadline-timer", work: { [self] in runBlocking() }, stop: { [self] in stop() })
    }
}
