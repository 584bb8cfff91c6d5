import Authority
import EffectivelyOnce
import Kafka
import Logging
import Messages
import Operations
import Postgres
import ServiceLifecycle
import Store

/// Runs a ``DeadlineTimer`` and the ``OutboxRelay`` of its outbox source as one service; on graceful shutdown the
/// timer finishes its round, then the relay publishes what was committed and stops.
public struct DeadlineTimerService: Service {
    public let timer: DeadlineTimer
    public let relay: OutboxRelay
    let logger: Logger

    public init(timer: DeadlineTimer, relay: OutboxRelay, logger: Logger) {
        self.timer = timer
        self.relay = relay
        self.logger = logger
    }

    public func run() async throws {
        let timer = timer
        try await runBeside(
            relay, thread: "deadline-timer", work: { timer.run() }, stop: { timer.stop() }, logger: logger,
            stopped: "deadline timer drained and stopped")
    }
}
