import ArgumentParser
import Authority
import Foundation
import Logging
import Messages
import Messages
import Services

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

    @OptionGroup public var topicOptions: TopicOptions

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

    /// A prefix keeps topic names legal: Kafka allows ASCII letters, digits, `.`, `_` and `-`, 249 characters.
    public static func validateTopicPrefix(_ prefix: String) throws {
        let allowed = prefix.unicodeScalars.allSatisfy {
            $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0))
        }
        guard allowed, prefix.utf8.count <= 100 else {
            throw ValidationError(
                "--topic-prefix / MOTCUA_TOPIC_PREFIX '\(prefix)' is not usable in topic names: use at most 100 of "
                    + "the characters a-z A-Z 0-9 . _ - (for example 'staging.')")
        }
    }

    /// The configuration these flags describe.
    public var configuration: RuntimeConfiguration {
        var configuration = RuntimeConfiguration()
        configuration.rules = rules
        configuration.batchSize = batchSize
        configuration.metricsPort = metricsPort
        configuration.metricsHost = metricsHost
        configuration.metricsPortFile = metricsPortFile
        configuration.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        configuration.drain = .seconds(drainSeconds)
        configuration.topics = topicOptions.topics
        return configuration
    }
}


/// `--topic-prefix`, for the services and for the commands that read or write topics: the names of the system.
public struct TopicOptions: ParsableArguments {
    @Option(help: """
        Prefix of every topic and default consumer-group name (default: $MOTCUA_TOPIC_PREFIX, else none), so that \
        two systems (or tests) share a cluster without reading each other's topics; a command uses the prefix of the \
        services it talks to.
        """)
    public var topicPrefix: String = ProcessInfo.processInfo.environment["MOTCUA_TOPIC_PREFIX"] ?? ""

    public init() {}

    public func validate() throws { try RuntimeOptions.validateTopicPrefix(topicPrefix) }

    /// The topic names these options describe.
    public var topics: Topics { Topics(prefix: topicPrefix) }
}
