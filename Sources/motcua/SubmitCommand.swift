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

/// `motcua submit FILE|-`: sends intake dossiers (JSON lines) to `dossiers.intake`.
struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Submit dossiers (one intake JSON object per line) to the dossiers.intake topic.",
        discussion: """
            Each line is checked against the intake contract before it is sent; a bad line is reported with its \
            line number and the field that is wrong, and nothing of it is sent. Needs KAFKA_BOOTSTRAP.

            A desk (counter) or post dossier without receiptSecretSha256 gets a receipt secret: 32 random bytes, \
            printed once (the last column) for the applicant's receipt and never stored or sent; only its SHA-256 \
            goes with the dossier. The applicant needs it to withdraw the dossier or look it up online.

            Example: motcua submit deploy/samples/dossiers.jsonl
            """)

    @OptionGroup var topicOptions: TopicOptions

    @Argument(help: "A file of JSON lines, or - for standard input.")
    var file: String

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        guard environment["KAFKA_BOOTSTRAP"] != nil else {
            throw ValidationError("KAFKA_BOOTSTRAP is not set: export the broker list (./tools/dev-up writes .dev/env)")
        }
        let data: Data
        if file == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let contents = FileManager.default.contents(atPath: file) else {
                throw ValidationError("cannot read '\(file)': check the path")
            }
            data = contents
        }
        var dossiers: [(Int, Dossier, [UInt8])] = []
        var problems: [String] = []
        for (index, line) in data.split(separator: UInt8(ascii: "\n")).enumerated() {
            let bytes = Array(line)
            if bytes.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 13 }) { continue }
            do {
                dossiers.append((index + 1, try Dossier.decode(json: Data(bytes)), bytes))
            } catch {
                problems.append("\(file):\(index + 1): \(error)")
            }
        }
        guard problems.isEmpty else {
            throw ValidationError("nothing was sent; fix these lines:\n" + problems.joined(separator: "\n"))
        }
        var logger = Logger(label: "motcua.submit")
        logger.logLevel = .warning
        let producer = try KafkaProducer(
            configuration: KafkaProducerConfiguration(client: .fromEnvironment(environment)), logger: logger)
        let encoder = MessageCoding.encoder()
        for (_, original, bytes) in dossiers {
            var dossier = original
            var value = bytes
            var secret: String?
            if dossier.receiptSecretSha256 == nil, dossier.channel == .counter || dossier.channel == .post {
                let generated = ReceiptSecret.generate()
                dossier.receiptSecretSha256 = generated.sha256
                secret = generated.secret
                value = Array(try encoder.encode(dossier))
            }
            let report = try await producer.send(KafkaOutgoingMessage(
                topic: topicOptions.topics.intake, key: dossier.id, value: value,
                headers: CloudEvents.headers(id: dossier.id, type: MessageType.intake, source: "motcua/cli")))
            print("\(dossier.id)\t\(dossier.procedure)\tpartition \(report.partition) offset \(report.offset)"
                + (secret.map { "\treceipt secret \($0)" } ?? ""))
        }
        try producer.close()
    }
}
