import ArgumentParser
import Audit
import Authority
import EffectivelyOnce
import Foundation
import Kafka
import Logging
import Messages
import Pages
import ServiceCommands
import Services
import Simulation
import Store

/// `motcua simulate`: realistic load — dossiers (the default) and officials signing them.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Simulate load: dossiers submitted (default) and officials signing prepared decisions.",
        discussion: """
            Examples:
              motcua simulate --count 500 --rate 100
              motcua simulate officials --duration 120
            """,
        subcommands: [Dossiers.self, OfficialsCommand.self],
        defaultSubcommand: Dossiers.self)
}

/// `motcua simulate [dossiers]`: generates realistic dossiers and sends them to `dossiers.intake`.
struct Dossiers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dossiers",
        abstract: "Generate realistic dossiers (reproducible with --seed) and submit them, or print them.",
        discussion: """
            Procedures across all departments, 93% online and the rest at desks or by post, communes of deploy/catalog/communes.yaml, \
            a share with a missing document (--incomplete) and a share with facts beyond the usual limits \
            (--outside), which the rules refuse, escalate or send back for supplements.

            Examples:
              motcua simulate --count 500 --rate 100
              motcua simulate --count 10 --seed 7 --print > dossiers.jsonl
            """)

    @OptionGroup var topicOptions: TopicOptions

    // Unconditional: `--count -1` is a (wrong) value to name, not a missing one.
    @Option(parsing: .unconditional, help: "How many dossiers.")
    var count: Int = 100

    @Option(parsing: .unconditional, help: "Dossiers per second (0: as fast as possible).")
    var rate: Double = 0

    @Option(help: "Random seed; the same seed gives the same dossiers.")
    var seed: UInt64 = 1

    @Option(help: "Share of dossiers missing a required document (0–1).")
    var incomplete: Double = 0.05

    @Option(help: "Share of dossiers with facts beyond the usual limits (0–1).")
    var outside: Double = 0.15

    @Option(help: "Only procedures of this department.")
    var department: DepartmentID?

    @Option(help: "The deploy directory (catalogue).")
    var rules: String = "deploy"

    @Flag(help: "Print the dossiers as JSON lines instead of sending them.")
    var print = false

    func validate() throws {
        guard count > 0 else {
            throw ValidationError("--count must be a positive number of dossiers, got \(count): e.g. --count 100")
        }
        guard rate >= 0 else {
            throw ValidationError("--rate must be 0 (as fast as possible) or a positive number of dossiers per second, got \(rate)")
        }
        guard (0...1).contains(incomplete), (0...1).contains(outside) else {
            throw ValidationError("--incomplete and --outside are shares between 0 and 1")
        }
        if let department { try CLI.checkDepartment(department, rules: rules) }
    }

    func run() async throws {
        let bundle = try AuthorityBundle.load(from: URL(fileURLWithPath: rules))
        var generator = DossierGenerator(bundle: bundle, seed: seed)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let clock = try ClockSetting.clock(from: ProcessInfo.processInfo.environment)
        if print {
            for _ in 0..<count {
                let dossier = generator.next(department: department, submittedAt: clock.now(),
                                             incompleteShare: incomplete, outsideShare: outside)
                Swift.print(String(decoding: try encoder.encode(dossier), as: UTF8.self))
            }
            return
        }
        let environment = ProcessInfo.processInfo.environment
        guard environment["KAFKA_BOOTSTRAP"] != nil else {
            throw ValidationError("KAFKA_BOOTSTRAP is not set: export the broker list (./tools/dev-up writes .dev/env)")
        }
        var logger = Logger(label: "motcua.simulate")
        logger.logLevel = .warning
        let producer = try KafkaProducer(
            configuration: KafkaProducerConfiguration(client: .fromEnvironment(environment)), logger: logger)
        let started = ContinuousClock.now
        var byDepartment: [String: Int] = [:]
        for index in 0..<count {
            if rate > 0 {
                let due = started + .milliseconds(Int64(Double(index) * 1000 / rate))
                if due > ContinuousClock.now { try await Task.sleep(until: due) }
            }
            let dossier = generator.next(department: department, submittedAt: clock.now(),
                                         incompleteShare: incomplete, outsideShare: outside)
            byDepartment[bundle.catalogue.procedure(dossier.procedure)?.steps.first?.department.rawValue ?? "?", default: 0] += 1
            try producer.produce(KafkaOutgoingMessage(
                topic: topicOptions.topics.intake, key: dossier.id, value: Array(try encoder.encode(dossier)),
                headers: CloudEvents.headers(id: dossier.id, type: MessageType.intake, source: "motcua/simulate")))
        }
        try producer.close(timeout: .seconds(60))
        let seconds = (ContinuousClock.now - started).seconds
        Swift.print("submitted \(count) dossiers in \(String(format: "%.1f", seconds)) s: "
                    + byDepartment.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
    }
}
