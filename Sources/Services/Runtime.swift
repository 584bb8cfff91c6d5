import Authority
import EffectivelyOnce
import Foundation
import Hummingbird
import Kafka
import Logging
import Messages
import Metrics
import Operations
import Postgres
import Prometheus
import ServiceLifecycle
import Store

/// How a service runs, as its command line and environment set it. Connection settings come from the environment
/// (`KAFKA_BOOTSTRAP`, `KAFKA_*`, `DATABASE_URL`, `PG*`, `MOTCUA_CLOCK`), never from flags.
public struct RuntimeConfiguration: Sendable {
    /// The deploy directory: catalog/, delegations/, calendar/ and rules/. Default: `deploy`.
    public var rules = "deploy"
    /// Most messages per PostgreSQL transaction. Default: 500.
    public var batchSize = 500
    /// Port for /health and /metrics (0 picks a free port); nil disables the endpoint. Default: nil.
    public var metricsPort: Int?
    /// Address of /health and /metrics. Default: `127.0.0.1`.
    public var metricsHost = "127.0.0.1"
    /// A file that receives the bound metrics port. Default: none.
    public var metricsPortFile: String?
    /// Default: `.info`.
    public var logLevel = Logger.Level.info
    /// How long to drain on SIGTERM before giving up. Default: 20 s.
    public var drain: Duration = .seconds(20)
    /// Topic and consumer-group names. Default: production names (no prefix).
    public var topics = Topics()

    public init() {}
}

/// The environment or the deploy directory cannot run a service; says what is missing and how to fix it.
public struct RuntimeError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// What a service needs from its environment, read and checked once.
public struct Runtime: Sendable {
    public let kafka: KafkaClientOptions
    public let postgres: PostgresConfiguration
    public let clock: any MotCuaClock
    public let bundle: AuthorityBundle
    public let topics: Topics
    public let logger: Logger
    public let registry: PrometheusCollectorRegistry

    /// Reads the environment and the deploy directory; errors say what is missing and how to fix it.
    public static func make(_ configuration: RuntimeConfiguration, label: String) throws -> Runtime {
        let environment = ProcessInfo.processInfo.environment
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        var logger = Logger(label: label)
        logger.logLevel = configuration.logLevel
        guard environment["KAFKA_BOOTSTRAP"] != nil || environment["KAFKA_BOOTSTRAP_SERVERS"] != nil else {
            throw RuntimeError("KAFKA_BOOTSTRAP is not set: export the broker list (host:port,…); for a local "
                + "devbroker run ./tools/dev-up and source .dev/env")
        }
        guard environment["DATABASE_URL"] != nil || environment["PGHOST"] != nil || environment["PGDATABASE"] != nil else {
            throw RuntimeError("DATABASE_URL (or PGHOST/PGDATABASE) is not set: export the PostgreSQL URL; for a "
                + "local cluster run ./tools/dev-up and source .dev/env")
        }
        let clock = try ClockSetting.clock(from: environment)
        let bundle: AuthorityBundle
        do {
            bundle = try AuthorityBundle.load(from: URL(fileURLWithPath: configuration.rules))
        } catch {
            throw RuntimeError(
                "the rules in '\(configuration.rules)' do not load:\n\(error)\nfix them (motcua rules check \(configuration.rules))")
        }
        // The topics' size limits: every writer checks its outbox messages against them.
        let specs: TopicSpecs
        do {
            specs = try TopicSpecs.load(deploy: configuration.rules)
        } catch {
            throw RuntimeError("\(error)")
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return Runtime(
            kafka: KafkaClientOptions.fromEnvironment(environment), postgres: PostgresConfiguration.fromEnvironment(environment),
            clock: clock, bundle: bundle, topics: configuration.topics.withLimits(of: specs), logger: logger,
            registry: registry)
    }

    /// Runs the consumers with their relays, any `additional` services (each after the relay it writes to; healthy
    /// when `additionalHealth` says so) and the operations endpoint (with `extraRoutes` besides `/health` and
    /// `/metrics`), if asked, until SIGTERM/SIGINT; then drains: the group shuts its services down in reverse order,
    /// so every writer commits its last batch before its relay publishes what is left.
    public func run(
        _ consumers: [ConsumerWithRelay], additional: [any Service] = [],
        additionalHealth: @escaping @Sendable () -> Bool = { true }, configuration: RuntimeConfiguration,
        extraRoutes: (Router<BasicRequestContext>) -> Void = { _ in }
    ) async throws {
        var all: [any Service] = consumers.flatMap { [$0.relay, $0.consumer] as [any Service] } + additional
        if let port = configuration.metricsPort {
            let relays = consumers.map(\.relay)
            let consumers = consumers.map(\.consumer)
            let probe = try KafkaReachability(
                kafka: kafka, topic: consumers.first?.settings.topics.first, logger: logger)
            all.append(probe)
            let health = OperationsServer.Health(checks: [
                "database": { consumers.allSatisfy(\.isHealthy) && additionalHealth() },
                "kafka": { probe.isReachable },
                // A partition whose stored offset is ahead of the broker is stopped until an operator resolves it.
                "offsets": { consumers.allSatisfy { $0.stoppedPartitions.isEmpty } },
                // Parked outbox rows beyond the relays' limit (default: any) wait for an operator.
                "outbox": { relays.allSatisfy(\.isReady) },
            ])
            all.append(OperationsServer.application(
                host: configuration.metricsHost, port: port, registry: registry, health: health, extraRoutes: extraRoutes,
                portFile: configuration.metricsPortFile,
                logger: logger))
        }
        var group = ServiceGroupConfiguration(
            services: all.map {
                .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup,
                      failureTerminationBehavior: .gracefullyShutdownGroup)
            },
            gracefulShutdownSignals: [.sigterm, .sigint],
            cancellationSignals: [],
            logger: logger)
        group.maximumGracefulShutdownDuration = configuration.drain
        try await ServiceGroup(configuration: group).run()
    }

    /// The consumer and relay of one writer; `postgres` connects them as another role than the service's own
    /// (reception as motcua_reception). Default: ``postgres``. `assignmentStrategy`: the consumer group's
    /// (``EffectivelyOnceConsumer/Settings/assignmentStrategy``; nil: eager).
    public func service(
        writer: any BatchWriter, group: String, topics: [String], batchSize: Int, postgres: PostgresConfiguration? = nil,
        assignmentStrategy: String? = nil
    ) throws -> ConsumerWithRelay {
        let postgres = postgres ?? self.postgres
        let relay = try OutboxRelay(settings: .init(source: writer.outboxSource), kafka: kafka, postgres: postgres, logger: logger)
        var settings = EffectivelyOnceConsumer.Settings(group: group, topics: topics)
        settings.batchSize = batchSize
        settings.assignmentStrategy = assignmentStrategy
        let consumer = EffectivelyOnceConsumer(
            settings: settings, kafka: kafka, postgres: postgres, writer: writer, logger: logger,
            afterCommit: { relay.nudge() })
        return ConsumerWithRelay(consumer: consumer, relay: relay)
    }
}

/// A writer's consumer and the relay of its outbox: two services, the relay listed first.
public struct ConsumerWithRelay: Sendable {
    public let consumer: EffectivelyOnceConsumer
    public let relay: OutboxRelay
}


extension Runtime {
    /// Reception's own PostgreSQL login (role motcua_reception), from `RECEPTION_DATABASE_URL`; nil when it is not set,
    /// and reception then connects with `DATABASE_URL` (a `--reception-only` process, or the schema owner in
    /// development).
    public static func receptionPostgres(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> PostgresConfiguration? {
        guard let url = environment["RECEPTION_DATABASE_URL"], !url.isEmpty else { return nil }
        return PostgresConfiguration(connectionString: url)
    }
}
