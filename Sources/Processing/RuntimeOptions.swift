import ArgumentParser
import Authority
import Foundation
import Hummingbird
import Kafka
import Logging
import Metrics
import Postgres
import Prometheus
import ServiceLifecycle

/// Flags every MotCua service shares. Connection settings come from the environment (`KAFKA_BOOTSTRAP`,
/// `KAFKA_*`, `DATABASE_URL`, `PG*`, `MOTCUA_CLOCK`), never from flags, so secrets stay off the command line.
public struct RuntimeOptions: ParsableArguments {
    @Option(help: "The deploy directory: catalog/, delegations/, calendar/ and rules/ (schemas from ../schemas).")
    public var rules: String = "deploy"

    @Option(help: "Most messages per PostgreSQL transaction.")
    public var batchSize: Int = 500

    @Option(help: "Port for /health and /metrics (0 picks a free port; omit to disable).")
    public var metricsPort: Int?

    @Option(help: """
        Address /health and /metrics listen on: 127.0.0.1 (default, this machine only), or 0.0.0.0 in a container         whose probes and Prometheus come from outside it.
        """)
    public var metricsHost: String = "127.0.0.1"

    @Option(help: "Write the bound metrics port to this file.")
    public var metricsPortFile: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    public var logLevel: String = "info"

    @Option(help: "Seconds to drain on SIGTERM before giving up.")
    public var drainSeconds: Int = 20

    public init() {}

    /// An IPv4 or IPv6 literal (a name would need resolving, and would make it unclear what is exposed).
    static func isAddress(_ text: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
    }

    public func validate() throws {
        guard (1...10_000).contains(batchSize) else { throw ValidationError("--batch-size must be between 1 and 10000") }
        if let metricsPort, !(0...65_535).contains(metricsPort) {
            throw ValidationError("--metrics-port must be a TCP port (0–65535)")
        }
        guard Self.isAddress(metricsHost) else {
            throw ValidationError(
                "--metrics-host '\(metricsHost)' is not an IP address: use 127.0.0.1 (default), 0.0.0.0 or ::")
        }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        guard drainSeconds > 0 else { throw ValidationError("--drain-seconds must be positive") }
    }
}

/// What a service needs from its environment, read and checked once.
public struct Runtime: Sendable {
    public let kafka: KafkaClientOptions
    public let postgres: PostgresConfiguration
    public let clock: any MotCuaClock
    public let bundle: AuthorityBundle
    public let logger: Logger
    public let registry: PrometheusCollectorRegistry

    /// Reads the environment and the deploy directory; errors say what is missing and how to fix it.
    public static func make(_ options: RuntimeOptions, label: String) throws -> Runtime {
        let environment = ProcessInfo.processInfo.environment
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        var logger = Logger(label: label)
        logger.logLevel = Logger.Level(rawValue: options.logLevel) ?? .info
        guard environment["KAFKA_BOOTSTRAP"] != nil || environment["KAFKA_BOOTSTRAP_SERVERS"] != nil else {
            throw ValidationError("KAFKA_BOOTSTRAP is not set: export the broker list (host:port,…); for a local "
                + "devbroker run ./tools/dev-up and source .dev/env")
        }
        guard environment["DATABASE_URL"] != nil || environment["PGHOST"] != nil || environment["PGDATABASE"] != nil else {
            throw ValidationError("DATABASE_URL (or PGHOST/PGDATABASE) is not set: export the PostgreSQL URL; for a "
                + "local cluster run ./tools/dev-up and source .dev/env")
        }
        let clock = try ClockSetting.clock(from: environment)
        let bundle: AuthorityBundle
        do {
            bundle = try AuthorityBundle.load(from: URL(fileURLWithPath: options.rules))
        } catch {
            throw ValidationError("the rules in '\(options.rules)' do not load:\n\(error)\nfix them (motcua rules check \(options.rules))")
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return Runtime(
            kafka: KafkaClientOptions.fromEnvironment(environment), postgres: PostgresConfiguration.fromEnvironment(environment),
            clock: clock, bundle: bundle, logger: logger, registry: registry)
    }

    /// Runs the processing services, any `additional` ones (healthy when `additionalHealth` says so) and the
    /// operations endpoint (with `extraRoutes` besides `/health` and `/metrics`), if asked, until SIGTERM/SIGINT;
    /// then drains.
    public func run(
        _ services: [ProcessingService], additional: [any Service] = [],
        additionalHealth: @escaping @Sendable () -> Bool = { true }, options: RuntimeOptions,
        extraRoutes: (Router<BasicRequestContext>) -> Void = { _ in }
    ) async throws {
        var all: [any Service] = services + additional
        if let port = options.metricsPort {
            let consumers = services.map(\.consumer)
            let health = OperationsServer.Health(checks: [
                "database": { consumers.allSatisfy(\.isHealthy) && additionalHealth() }
            ])
            all.append(OperationsServer.application(
                host: options.metricsHost, port: port, registry: registry, health: health, extraRoutes: extraRoutes, portFile: options.metricsPortFile,
                logger: logger))
        }
        var configuration = ServiceGroupConfiguration(
            services: all.map {
                .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup,
                      failureTerminationBehavior: .gracefullyShutdownGroup)
            },
            gracefulShutdownSignals: [.sigterm, .sigint],
            cancellationSignals: [],
            logger: logger)
        configuration.maximumGracefulShutdownDuration = .seconds(options.drainSeconds)
        try await ServiceGroup(configuration: configuration).run()
    }

    /// The consumer and relay of one writer.
    public func service(
        writer: any BatchWriter, group: String, topics: [String], batchSize: Int
    ) throws -> ProcessingService {
        let relay = try OutboxRelay(settings: .init(source: writer.outboxSource), kafka: kafka, postgres: postgres, logger: logger)
        var settings = EffectivelyOnceConsumer.Settings(group: group, topics: topics)
        settings.batchSize = batchSize
        let consumer = EffectivelyOnceConsumer(
            settings: settings, kafka: kafka, postgres: postgres, writer: writer, logger: logger,
            afterCommit: { relay.nudge() })
        return ProcessingService(consumer: consumer, relay: relay, logger: logger)
    }
}

/// The command line of a department worker executable: `<department>-worker [--rules DIR] [--group G] …`.
public struct WorkerCommand: ParsableArguments {
    @OptionGroup public var runtime: RuntimeOptions

    @Option(help: "Consumer group (every process of one department shares it). Default: motcua.<department>.")
    public var group: String?

    public init() {}

    /// Parses the command line and runs the worker of `department` until SIGTERM/SIGINT.
    public static func main(department: String) async {
        do {
            let command = try WorkerCommand.parse()
            let runtime = try Runtime.make(command.runtime, label: "motcua.\(department)-worker")
            let worker = try DepartmentWorker(
                department: department, bundle: runtime.bundle, clock: runtime.clock, logger: runtime.logger)
            let service = try runtime.service(
                writer: worker, group: command.group ?? "motcua.\(department)", topics: [Topics.department(department)],
                batchSize: command.runtime.batchSize)
            try await runtime.run([service], options: command.runtime)
        } catch {
            WorkerCommand.exit(withError: error)
        }
    }
}
