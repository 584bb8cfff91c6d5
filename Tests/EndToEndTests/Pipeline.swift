import Audit
import Authority
import EffectivelyOnce
import Foundation
import Kafka
import Messages
import Pages
import Postgres
import ServiceCommands
import Services
import Simulation
import Store
import TestSupport

/// A running MotCua pipeline for a test: reception and workers as real processes under a topic prefix of the test's
/// own (``TestTopics``), so that tests never see each other's dossiers.
final class Pipeline: @unchecked Sendable {
    let bundle: AuthorityBundle
    let database: PostgresConnection
    let databaseURL: String
    let producer: KafkaProducer
    let admin: KafkaAdmin
    let suffix = TestEnvironment.unique("e2e")
    /// The test's own topics.
    let topics: Topics
    var processes: [String: ServiceProcess] = [:]
    var generator: DossierGenerator

    /// `ownTopics` false: the production topic names (for the database roles, whose policies name those topics);
    /// such a pipeline starts its groups at the current end of the shared topics (``startAtEnd``).
    init(databaseURL: String? = nil, seed: UInt64 = 1, ownTopics: Bool = true) throws {
        topics = ownTopics ? try TestTopics.system("e2e") : Topics()
        bundle = try AuthorityBundle.load(from: TestEnvironment.root.appendingPathComponent("deploy"))
        self.databaseURL = try databaseURL ?? TestEnvironment.databaseURL()
        database = try PostgresConnection.connect(PostgresConfiguration(connectionString: self.databaseURL), logger: TestEnvironment.logger)
        let options = KafkaClientOptions(bootstrapServers: try TestEnvironment.kafkaBootstrap())
        producer = try KafkaProducer(configuration: KafkaProducerConfiguration(client: options), logger: TestEnvironment.logger)
        admin = try KafkaAdmin(options: options, logger: TestEnvironment.logger)
        // Fresh ids on every run: a rerun against the same database must not meet its earlier dossiers.
        generator = DossierGenerator(bundle: bundle, seed: seed &+ UInt64.random(in: 0...UInt64.max))
    }

    deinit {
        for process in processes.values where process.isRunning { process.signal(SIGKILL) }
    }

    func group(_ name: String) -> String {
        topics.prefix.isEmpty ? "motcua.\(name).\(suffix)" : topics.group("motcua.\(name)")
    }

    /// The consumer group of a department's workers.
    func group(_ department: DepartmentID) -> String { group(department.rawValue) }

    /// Stores the current high watermarks as the group's offsets: its consumers start at the end.
    func startAtEnd(group: String, topic: String) throws {
        let partitions = try admin.metadata(topic: topic).first?.partitions ?? []
        for partition in partitions {
            let high = try admin.watermarks(TopicPartition(topic, partition.id)).high
            try database.execute(
                """
                INSERT INTO consumer_offsets (consumer_group, topic, partition, next_offset) VALUES ($1, $2, $3, $4)
                ON CONFLICT (consumer_group, topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset
                """, [group, topic, partition.id, high])
        }
    }

    static let environment = ["KAFKA_SESSION_TIMEOUT_MS": "6000", "KAFKA_HEARTBEAT_INTERVAL_MS": "500"]

    /// The environment of this pipeline's processes and commands: its database and its topic prefix.
    var processEnvironment: [String: String] {
        Self.environment.merging(["DATABASE_URL": databaseURL, "MOTCUA_TOPIC_PREFIX": topics.prefix]) { $1 }
    }

    @discardableResult
    func startReception(name: String = "reception", extra: [String] = []) throws -> ServiceProcess {
        let group = group("reception")
        if processes.values.allSatisfy({ !$0.name.hasPrefix("coordinator") }) {
            try startAtEnd(group: group, topic: topics.intake)
        }
        let process = try ServiceProcess(
            "coordinator", ["--rules", TestEnvironment.root.appendingPathComponent("deploy").path, "--reception-only", "--reception-group", group, "--log-level", "warning"] + extra,
            environment: processEnvironment)
        processes[name] = process
        return process
    }

    @discardableResult
    func startWorker(_ department: DepartmentID, name: String? = nil, extra: [String] = []) throws -> ServiceProcess {
        let group = group(department.rawValue)
        let key = name ?? department.rawValue
        if !processes.keys.contains(where: { $0.hasPrefix(department.rawValue) }) {
            try startAtEnd(group: group, topic: topics.department(department))
        }
        let process = try ServiceProcess(
            "\(department)-worker", ["--rules", TestEnvironment.root.appendingPathComponent("deploy").path, "--group", group, "--log-level", "warning"] + extra,
            environment: processEnvironment)
        processes[key] = process
        return process
    }

    /// The coordinator (reception, the status projection, the timers) on `rules`, its reception and projection groups
    /// starting from their topics' current end; `environment` defaults to ``processEnvironment``.
    @discardableResult
    func startCoordinator(rules: String, environment: [String: String]? = nil) throws -> ServiceProcess {
        let receptionGroup = group("reception"), projectionGroup = group("projection")
        try startAtEnd(group: receptionGroup, topic: topics.intake)
        try startAtEnd(group: projectionGroup, topic: topics.events)
        let process = try ServiceProcess(
            "coordinator",
            ["--rules", rules, "--reception-group", receptionGroup, "--projection-group", projectionGroup,
             "--log-level", "warning"],
            environment: environment ?? processEnvironment)
        processes["coordinator"] = process
        return process
    }

    /// Sends dossiers to `dossiers.intake` (keyed by id) and waits for the acknowledgements.
    func submit(_ dossiers: [Dossier]) async throws {
        let encoder = JSONEncoder()
        for dossier in dossiers {
            try producer.produce(KafkaOutgoingMessage(
                topic: topics.intake, key: dossier.id, value: Array(try encoder.encode(dossier)),
                headers: [KafkaHeader("ce_type", MessageType.intake)]))
        }
        try producer.flush(timeout: .seconds(60))
    }

    func count(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) throws -> Int {
        try database.query(sql, parameters)[0].decode(Int.self, at: 0)
    }

    /// Decisions per (dossier, step) for these dossiers: (dossier/step) → count.
    func decisionCounts(_ ids: [String]) throws -> [String: Int] {
        var result: [String: Int] = [:]
        for row in try database.query(
            "SELECT dossier_id, step, count(*) AS n FROM decisions WHERE dossier_id = ANY($1::text[]) GROUP BY 1, 2",
            [ids])
        {
            result["\(try row.decode(String.self, "dossier_id"))/\(try row.decode(Int.self, "step"))"] = try row.decode(Int.self, "n")
        }
        return result
    }

    /// Dossiers whose last decided step is final (not forwarded on), i.e. the dossier went through all its steps.
    func completed(_ ids: [String]) throws -> Int {
        try count(
            """
            SELECT count(*) FROM (
                SELECT dossier_id FROM decisions WHERE dossier_id = ANY($1::text[])
                GROUP BY dossier_id HAVING bool_or(outcome <> 'forward' AND round = 0)
            ) AS done
            """, [ids])
    }

    func logs() -> String {
        processes.map { "--- \($0.key)\n\($0.value.log.suffix(3_000))" }.joined(separator: "\n")
    }
}
