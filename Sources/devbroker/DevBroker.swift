import ArgumentParser
import Foundation
import Hummingbird
import Kafka
import Logging
import Yams

/// Hosts librdkafka's mock Kafka cluster for tests and demos, with the topics of `deploy/topics.yaml`.
@main
struct DevBroker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devbroker",
        abstract: "Run librdkafka's in-memory mock Kafka cluster on 127.0.0.1 for tests and demos.",
        discussion: """
            Real Kafka wire protocol, in memory. Limits (librdkafka 2.0.2): no CreateTopics requests (topics come \
            from --topics), no offsets-for-times, no read_committed, and only ~5 MiB kept per partition (older \
            data is dropped silently). Stops on SIGTERM or SIGINT.

            Control endpoint (only on 127.0.0.1, port in --control-file): `POST /topics?name=N&partitions=P` creates a \
            topic (an existing one is left as it is), since the mock cluster refuses CreateTopics requests and only \
            this process can call its API. Tests create their own prefixed topics this way. Faults for chaos \
            tests (brokers are numbered 1…N):
              POST /brokers/down?broker=B, POST /brokers/up?broker=B     connections refused / accepted again
              POST /brokers/rtt?broker=B&ms=M                            every response delayed (B -1: all brokers)
              POST /partitions/leader?topic=T&partition=P&broker=B      leadership moved
              POST /groups/coordinator?group=G&broker=B                  group coordinator moved
              POST /requests/errors?request=R&error=E&count=N[&broker=B&delay_ms=D]
                  the next N requests R (produce, fetch, join, sync, heartbeat, commit, offset-fetch, metadata, \
                  find-coordinator, list-offsets, leave) fail with E (a librdkafka error name such as \
                  NOT_LEADER_FOR_PARTITION or _TRANSPORT, or its number); with broker=: that broker's only, \
                  answered after D ms. Beware: Produce errors make this mock lose messages an idempotent \
                  producer had in flight, though reported delivered (RELIABILITY.md)
              DELETE /requests/errors?request=R                         unused cluster-wide errors of R forgotten

            Example: devbroker --topics deploy/topics.yaml --bootstrap-file .dev/kafka.bootstrap \
            --control-file .dev/kafka.control
            """)

    @Option(help: "Number of mock brokers.")
    var brokers: Int = 1

    @Option(help: "Topic list (YAML: topics: [{name, partitions}]); repeat for several files.")
    var topics: [String] = ["deploy/topics.yaml"]

    @Option(help: "Write the bootstrap address to this file once the topics exist.")
    var bootstrapFile: String?

    @Option(help: "Write the control endpoint's port (127.0.0.1) to this file once it listens.")
    var controlFile: String?

    func validate() throws {
        guard (1...9).contains(brokers) else { throw ValidationError("--brokers must be between 1 and 9") }
    }

    func run() async throws {
        var logger = Logger(label: "devbroker")
        logger.logLevel = .info
        let specs = try topics.flatMap { try TopicList.load(path: $0) }
        let cluster = try KafkaMockCluster(brokers: brokers, logger: logger)
        for topic in specs {
            try cluster.createTopic(topic.name, partitions: topic.partitions, replicationFactor: min(brokers, 3))
        }
        if let bootstrapFile {
            // Write then rename, so a reader never sees a half-written address.
            let temporary = bootstrapFile + ".tmp"
            try (cluster.bootstrapServers + "\n").write(toFile: temporary, atomically: false, encoding: .utf8)
            guard rename(temporary, bootstrapFile) == 0 else {
                throw ValidationError("cannot write the bootstrap file '\(bootstrapFile)' (errno \(errno))")
            }
        }
        FileHandle.standardOutput.write(Data((cluster.bootstrapServers + "\n").utf8))
        logger.info("mock cluster up", metadata: ["kafka.brokers": "\(brokers)", "kafka.topics": "\(specs.count)"])
        let control = ControlEndpoint(
            cluster: cluster, brokers: brokers, replicationFactor: min(brokers, 3), portFile: controlFile, logger: logger)
        try await control.run()
        logger.info("stopping")
        if let bootstrapFile { try? FileManager.default.removeItem(atPath: bootstrapFile) }
        withExtendedLifetime(cluster) {}
    }
}

struct TopicList: Decodable {
    struct Topic: Decodable {
        var name: String
        var partitions: Int
    }
    var topics: [Topic]

    static func load(path: String) throws -> [Topic] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ValidationError("cannot read the topic list '\(path)'; pass --topics with the path of deploy/topics.yaml")
        }
        do {
            let list = try YAMLDecoder().decode(TopicList.self, from: text)
            for topic in list.topics where topic.partitions < 1 {
                throw ValidationError("\(path): topic '\(topic.name)' needs at least 1 partition")
            }
            return list.topics
        } catch let error as ValidationError {
            throw error
        } catch {
            throw ValidationError("\(path): not a topic list (topics: [{name, partitions}]): \(error)")
        }
    }
}
