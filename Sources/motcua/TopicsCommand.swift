import ArgumentParser
import Audit
import Authority
import EffectivelyOnce
import Foundation
import Kafka
import Messages
import Pages
import ServiceCommands
import Services
import Simulation
import Store
import Yams

/// `motcua topics create`: makes the topics of `deploy/topics.yaml` on a real Kafka cluster.
struct TopicsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topics",
        abstract: "Kafka topics of deploy/topics.yaml.",
        discussion: """
            Example:
              motcua topics create --replication-factor 3 --min-insync-replicas 2
            """,
        subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the topics of deploy/topics.yaml that do not exist yet (partitions, replication, retention).",
            discussion: """
                Existing topics are left alone (a partition count below the file's is reported). Needs \
                KAFKA_BOOTSTRAP and the KAFKA_* security settings of an account allowed to create topics. The \
                devbroker (librdkafka's mock cluster) cannot create topics: it makes them itself at start.

                Examples:
                  motcua topics create --replication-factor 3 --min-insync-replicas 2
                  motcua topics create --file deploy/topics.yaml --dry-run
                """)

        @Option(help: "The topic list.")
        var file: String = "deploy/topics.yaml"

        @Option(help: "Replicas per partition (a topic's own replicationFactor in the file wins).")
        var replicationFactor: Int = 3

        @Option(help: "min.insync.replicas for the topics (omit to keep the broker's default).")
        var minInsyncReplicas: Int?

        @Option(help: "Seconds to wait for the brokers.")
        var timeout: Int = 30

        @Flag(help: "Print what would be created, create nothing.")
        var dryRun = false

        struct TopicList: Decodable {
            struct Topic: Decodable {
                var name: String
                var partitions: Int
                var retentionMs: Int64?
                var replicationFactor: Int?
                var config: [String: String]?
                var maxMessageBytes: Int?
                var purpose: String?
            }
            var topics: [Topic]
        }

        func validate() throws {
            guard replicationFactor >= 1 else { throw ValidationError("--replication-factor must be at least 1") }
            if let minInsyncReplicas, !(1...replicationFactor).contains(minInsyncReplicas) {
                throw ValidationError("--min-insync-replicas must be between 1 and --replication-factor")
            }
            guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
        }

        func specs() throws -> [KafkaTopicSpec] {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw CLIError("cannot read '\(file)': pass --file with the path of deploy/topics.yaml")
            }
            let list: TopicList
            do {
                list = try YAMLDecoder().decode(TopicList.self, from: text)
            } catch {
                throw CLIError("\(file): not a topic list (topics: [{name, partitions, retentionMs}]): \(error)")
            }
            return try list.topics.map { topic in
                guard topic.partitions >= 1 else {
                    throw CLIError("\(file): topic '\(topic.name)' needs at least 1 partition")
                }
                var config = topic.config ?? [:]
                if let retention = topic.retentionMs { config["retention.ms"] = String(retention) }
                // The limit the services check their messages against, on the topic too (a little framing spare).
                if let limit = topic.maxMessageBytes { config["max.message.bytes"] = String(limit + 1_024) }
                if let minInsyncReplicas { config["min.insync.replicas"] = String(minInsyncReplicas) }
                return KafkaTopicSpec(
                    name: topic.name, partitions: topic.partitions,
                    replicationFactor: topic.replicationFactor ?? replicationFactor, config: config)
            }
        }

        func run() async throws {
            let specs = try specs()
            guard CLI.environment["KAFKA_BOOTSTRAP"] != nil || CLI.environment["KAFKA_BOOTSTRAP_SERVERS"] != nil else {
                throw CLIError("KAFKA_BOOTSTRAP is not set: export the broker list of the cluster (host:port,…)")
            }
            let admin = try KafkaAdmin(options: .fromEnvironment(CLI.environment), logger: CLI.quietLogger)
            let existing: [String: Int]
            do {
                existing = Dictionary(
                    try admin.metadata(timeout: .seconds(timeout)).map { ($0.name, $0.partitions.count) },
                    uniquingKeysWith: { a, _ in a })
            } catch {
                throw CLIError("cannot reach the brokers at KAFKA_BOOTSTRAP (\(error)): check the address and KAFKA_* security settings")
            }
            for spec in specs {
                if let count = existing[spec.name], count < spec.partitions {
                    printError(
                        "warning: \(spec.name) exists with \(count) partitions, the file says \(spec.partitions): "
                            + "add partitions with kafka-topics.sh --alter (keys move between partitions)")
                }
            }
            let missing = specs.filter { existing[$0.name] == nil }
            for spec in specs {
                let state = existing[spec.name] == nil ? (dryRun ? "would create" : "create") : "exists"
                print("\(state)\t\(spec.name)\tpartitions \(spec.partitions)\treplication \(spec.replicationFactor)\t"
                      + spec.config.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))
            }
            guard !missing.isEmpty else {
                print("all \(specs.count) topics exist")
                return
            }
            if dryRun { return }
            do {
                try admin.createTopics(missing, ifNotExists: true, timeout: .seconds(timeout))
            } catch {
                throw explain(error)
            }
            print("created \(missing.count) topic(s)")
        }

        func explain(_ error: KafkaError) -> CLIError {
            if error.code == .timeout {
                return CLIError(
                    "the brokers did not answer CreateTopics within \(timeout) s. The devbroker (librdkafka's mock "
                        + "cluster) cannot create topics — it makes those of deploy/topics.yaml at start (restart it "
                        + "with --topics); on a real cluster check that KAFKA_BOOTSTRAP points at it and raise --timeout")
            }
            return CLIError(
                "creating topics failed: \(error.reason). Check the account's CREATE permission on the cluster and "
                    + "that --replication-factor (\(replicationFactor)) does not exceed the number of brokers")
        }
    }
}
