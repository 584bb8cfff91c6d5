import ArgumentParser
import Authority
import EffectivelyOnce
import Foundation
import Messages
import Operations
import ServiceCommands
import Store

/// `--wait` and `--timeout` of a command whose answer is read from the coordinator's timeline.
struct AnswerOptions: ParsableArguments {
    @Flag(help: "Wait until the worker has answered (read from the coordinator's timeline), and print the answer.")
    var wait = false

    @Option(parsing: .unconditional, help: "Seconds to wait with --wait.")
    var timeout: Int = 30

    func validate() throws {
        guard timeout > 0 else {
            throw ValidationError("--timeout must be a positive number of seconds, got \(timeout): e.g. --timeout 60")
        }
    }
}

extension ChannelOptions {
    /// Sends `command`, always signed by the channel, to the department that holds the dossier and, with --wait,
    /// prints the answer (`accepted`, or the refusal with its reason).
    func send<T: Encodable>(
        _ command: T, id: UUID, type: String, dossier found: DossierReference, accepted: DossierEvent.Kind,
        what: String, answer: AnswerOptions, in db: CLI.Connection, topics: Topics
    ) async throws {
        let name = found.code ?? found.id
        guard let department = found.commandDepartment(workers: try CLI.workerDepartments()) else {
            throw CLIError("dossier \(name) is not with a department yet; \(what) is taken after its result")
        }
        let topic = topics.department(department)
        let report = try await CLI.send(
            topic: topic, key: found.id, type: type, id: id, source: source,
            value: try encode(command, type: type, department: department, what: what, unsigned: .refuse, in: db))
        print("\(what) for \(name) sent to \(topic) (partition \(report.partition), offset \(report.offset), command "
              + "\(id.uuidString.lowercased()))")
        guard answer.wait else { return }
        guard let reply = try await awaitCommandAnswer(
            id, kinds: [accepted, .feedbackRejected, .commandRejected], timeout: answer.timeout, db: db)
        else {
            throw CLIError(
                "no answer after \(answer.timeout) s: are the \(department)-worker and the coordinator running? The "
                    + "command is on its topic and will be applied when the worker runs")
        }
        guard reply.type == accepted.rawValue else {
            throw CLIError("refused (\(reply.type)): \(reply.detail ?? "no reason given")")
        }
        print("recorded: \(reply.detail ?? accepted.rawValue)")
    }
}

/// `motcua rate`: the applicant's rating of a decided dossier, taken and signed by a channel.
struct RateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rate",
        abstract: "Record the applicant's rating (1–5 on four criteria) of a dossier after its result.",
        discussion: """
            Sends a motcua.applicant.rate command, signed by the channel that took the rating (a one-stop desk \
            official who checked the applicant's receipt secret, or the portal's service key), to the department \
            that holds the dossier. Once per dossier, after its result; the worker answers rated or \
            feedback-rejected with the reason. The ratings are reported beside the satisfaction indicator \
            (`motcua report --scorecard`), where a dossier rated 1 or 2 on any criterion counts like one with a \
            complaint (docs/scorecard.md). The receipt secret comes from --secret-file (- for standard input) or \
            MOTCUA_RECEIPT_SECRET, never from the command line. Needs DATABASE_URL and KAFKA_BOOTSTRAP.

            Example:
              motcua rate CT-261127-000012 --timeliness 5 --attitude 4 --guidance 5 --result 5 \\
                  --channel desk-0001 --secret-file - --wait
            """)

    @OptionGroup var topicOptions: TopicOptions
    @OptionGroup var signing: ChannelOptions
    @OptionGroup var answer: AnswerOptions

    @Argument(help: "The dossier's code or id.")
    var dossier: String

    @Option(parsing: .unconditional, help: "Processing time (thời gian giải quyết), 1 (very dissatisfied) to 5.")
    var timeliness: Int
    @Option(parsing: .unconditional, help: "The officials' attitude (thái độ), 1 to 5.")
    var attitude: Int
    @Option(parsing: .unconditional, help: "Guidance and publicity of the procedure (hướng dẫn), 1 to 5.")
    var guidance: Int
    @Option(parsing: .unconditional, help: "The result (kết quả), 1 to 5.")
    var result: Int

    @Option(help: "A file holding the applicant's receipt secret, or - for standard input (else MOTCUA_RECEIPT_SECRET).")
    var secretFile: String?

    var scores: [Rating.Criterion: Int] {
        [.timeliness: timeliness, .attitude: attitude, .guidance: guidance, .result: result]
    }

    func validate() throws {
        guard signing.channel != nil else {
            throw ValidationError("a rating is always signed by the channel that took it: --channel ID --key FILE")
        }
        for (criterion, score) in scores.sorted(by: { $0.key.rawValue < $1.key.rawValue }) where !(1...5).contains(score) {
            throw ValidationError("--\(criterion.rawValue) \(score): each score is 1 (very dissatisfied) to 5 (very satisfied)")
        }
    }

    func run() async throws {
        let db = try CLI.database()
        let found = try CLI.dossier(dossier, in: db)
        let name = found.code ?? found.id
        guard let expected = found.receiptSecretSha256 else {
            throw CLIError(
                "dossier \(name) came without a receipt secret: the applicant cannot be checked, so the rating is "
                    + "taken by the channel that holds their account (the portal)")
        }
        guard ReceiptSecret.matches(try CLI.receiptSecret(file: secretFile), sha256: expected) else {
            throw CLIError("the receipt secret does not match this dossier's: ask the applicant for the one on the receipt")
        }
        guard ["decided", "result-returned"].contains(found.status) else {
            throw CLIError(
                "dossier \(name) is '\(found.status)': a dossier is rated after its result (see `motcua status \(name)`)")
        }
        let rating = Rating(
            // The same rating sent twice records once; another rating of the same dossier is refused (already-rated).
            commandId: StableID.make(
                "rate", found.id, signing.channel ?? "", "\(timeliness)\(attitude)\(guidance)\(result)"),
            dossierId: found.id, scores: scores, at: try CLI.clock().now())
        try await signing.send(
            rating, id: rating.commandId, type: MessageType.rate, dossier: found, accepted: .rated, what: "a rating",
            answer: answer, in: db, topics: topicOptions.topics)
    }
}

/// `motcua complain`: a complaint about a dossier's handling, recorded by the channel that received it.
struct ComplainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "complain",
        abstract: "Record a complaint (phản ánh, kiến nghị) about a dossier's handling: its category and the channel's reference.",
        discussion: """
            Sends a motcua.applicant.complain command, signed by the channel that received the complaint (a \
            one-stop desk official or the portal's service key), to the department that holds the dossier. Only \
            the category and the channel's own reference travel — never the complainant's words, which stay with \
            the channel. The worker answers complaint-recorded or feedback-rejected with the reason; complaints \
            lower the satisfaction indicator (`motcua report --scorecard`). Needs DATABASE_URL and KAFKA_BOOTSTRAP.

            Example:
              motcua complain CT-261127-000012 --category late --reference KN-2026-000042 --channel desk-0001
            """)

    @OptionGroup var topicOptions: TopicOptions
    @OptionGroup var signing: ChannelOptions
    @OptionGroup var answer: AnswerOptions

    @Argument(help: "The dossier's code or id.")
    var dossier: String

    @Option(help: "What the complaint is about: late, attitude, fees, result or other.")
    var category: String

    @Option(help: "The channel's own reference of the complaint (1–64 of A–Z a–z 0–9 . _ / -).")
    var reference: String

    func validate() throws {
        guard signing.channel != nil else {
            throw ValidationError("a complaint is always signed by the channel that took it: --channel ID --key FILE")
        }
        guard Complaint.Category(rawValue: category) != nil else {
            throw ValidationError(
                "--category '\(TerminalText.escape(category))' is not one of "
                    + Complaint.Category.allCases.map(\.rawValue).joined(separator: ", "))
        }
        guard PaymentConfirmation.isValidReceipt(reference) else {
            throw ValidationError(
                "--reference '\(TerminalText.escape(reference))': 1 to 64 letters, digits, '.', '_', '/' or '-' "
                    + "(the channel's case number, e.g. KN-2026-000042; never the complainant's words)")
        }
    }

    func run() async throws {
        let db = try CLI.database()
        let found = try CLI.dossier(dossier, in: db)
        if ["intake-incomplete", "intake-refused"].contains(found.status) {
            throw CLIError("dossier \(found.code ?? found.id) was not received (\(found.status)): no department handles it")
        }
        let complaint = Complaint(
            commandId: StableID.make("complain", found.id, signing.channel ?? "", reference), dossierId: found.id,
            category: Complaint.Category(rawValue: category) ?? .other, reference: reference,
            at: try CLI.clock().now())
        try await signing.send(
            complaint, id: complaint.commandId, type: MessageType.complain, dossier: found,
            accepted: .complaintRecorded, what: "a complaint", answer: answer, in: db, topics: topicOptions.topics)
    }
}

extension CLI {
    /// The applicant's receipt secret from `file` (- for standard input), else MOTCUA_RECEIPT_SECRET — never from
    /// the command line.
    static func receiptSecret(file: String?) throws -> String {
        if let file {
            let data = file == "-"
                ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: file)
            guard let data, let text = String(data: data, encoding: .utf8) else {
                throw CLIError("cannot read the receipt secret from '\(file)': check the path")
            }
            return text
        }
        guard let secret = ProcessInfo.processInfo.environment["MOTCUA_RECEIPT_SECRET"] else {
            throw CLIError(
                "the applicant's receipt secret is needed: --secret-file FILE (- for standard input) or "
                    + "MOTCUA_RECEIPT_SECRET")
        }
        return secret
    }
}
