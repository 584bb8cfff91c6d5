import ArgumentParser
import Audit
import Authority
import EffectivelyOnce
import Foundation
import Kafka
import Logging
import Messages
import Operations
import Pages
import ServiceCommands
import Services
import Simulation
import Store

/// Polls the dossier's timeline until an event of one of `types` appears after the entry `after` (or `timeout` seconds
/// pass); its type and detail.
func awaitTimeline(
    _ dossierId: String, types: [String], after: Int64? = nil, timeout: Double, db: CLI.Connection
) async throws -> (String, String?)? {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if let found = try TimelineRead.latest(of: dossierId, types: types, after: after, in: db) {
            return (found.type, found.detail)
        }
        try await Task.sleep(for: .milliseconds(200))
    }
    return nil
}

/// `motcua withdraw`: the applicant withdraws a dossier that is not decided yet.
struct WithdrawCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "withdraw",
        abstract: "Withdraw a dossier at the applicant's request (before it is decided).",
        discussion: """
            The withdrawal goes to the department topic that holds the dossier, so the department's worker orders \
            it with its own work: a dossier already decided cannot be withdrawn (the answer is a \
            withdrawal-rejected event). The coordinator then closes its deadlines and escalations. \
            Needs DATABASE_URL and KAFKA_BOOTSTRAP.

            The applicant's receipt secret (printed once by `motcua submit`, or given by the portal) is checked \
            against the hash the dossier came with: from --secret-file (- for standard input) or \
            MOTCUA_RECEIPT_SECRET, never from the command line. A dossier submitted without a receipt secret \
            cannot be withdrawn.

            Examples:
              motcua withdraw HN-SCT-261123-000042 --secret-file - --channel desk-1 --reason "applicant moved the business" --wait
              MOTCUA_RECEIPT_SECRET=... motcua withdraw 7f1c0e9a-... --channel desk-1 --key desk-1.key.pem
            """)

    @OptionGroup var topicOptions: TopicOptions

    @Argument(help: "The dossier's id or code.")
    var dossier: String

    @Option(help: "Why the applicant withdraws (recorded on the timeline).")
    var reason: String?

    @Flag(help: "Wait (up to 30 s) until the coordinator has recorded the outcome, and print it.")
    var wait = false

    @Option(help: "A file holding the applicant's receipt secret, or - for standard input (else MOTCUA_RECEIPT_SECRET).")
    var secretFile: String?

    /// The receipt secret the applicant gave.
    func receiptSecret() throws -> String { try CLI.receiptSecret(file: secretFile) }

    @OptionGroup var channel: ChannelOptions

    func run() async throws {
        let db = try CLI.database()
        let found = try CLI.dossier(dossier, in: db)
        guard let expected = found.receiptSecretSha256 else {
            throw CLIError(
                "the dossier was submitted without a receipt secret (receiptSecretSha256): it cannot be withdrawn "
                    + "this way; the department handles the applicant's request in writing")
        }
        guard ReceiptSecret.matches(try receiptSecret(), sha256: expected) else {
            throw CLIError("the receipt secret does not match this dossier's: ask the applicant for the one on the receipt")
        }
        switch found.status {
        case "withdrawn": throw CLIError("the dossier is already withdrawn")
        case "decided", "result-returned":
            throw CLIError("the dossier is already decided (\(found.status)); a decided dossier cannot be withdrawn")
        case "intake-incomplete", "intake-refused":
            throw CLIError("the dossier was not received (\(found.status)); there is nothing to withdraw")
        default: break
        }
        guard let department = found.commandDepartment(workers: try CLI.workerDepartments()) else {
            throw CLIError("the dossier is not with a department yet; try again once it is assigned")
        }
        let command = Withdrawal(
            commandId: StableID.make("withdraw", found.id), dossierId: found.id, reason: reason,
            at: try CLI.clock().now())
        let value = try channel.encode(
            command, type: MessageType.withdraw, department: department, what: "a withdrawal", unsigned: .warn, in: db)
        // An earlier attempt's answer (say, refused unsigned) is not this one's.
        let before = try TimelineRead.lastRecorded(of: found.id, in: db)
        try await CLI.send(
            topic: topicOptions.topics.department(department), key: found.id, type: MessageType.withdraw, id: command.commandId,
            source: "motcua/withdraw", value: value)
        print("withdrawal sent to \(topicOptions.topics.department(department)) for \(found.code ?? found.id)")
        guard wait else { return }
        guard let (type, detail) = try await awaitTimeline(
            found.id, types: ["withdrawn", "withdrawal-rejected", "command-rejected"], after: before, timeout: 30, db: db)
        else {
            throw CLIError("no answer within 30 s: is the \(department)-worker and the coordinator running?")
        }
        print(type == "withdrawn" ? "withdrawn" : "refused: \(detail ?? "no reason given")")
        if type != "withdrawn" { throw ExitCode(1) }
    }
}

/// `motcua return-result`: the one-stop desk hands the decision to the applicant.
struct ReturnResultCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "return-result",
        abstract: "Record that the one-stop desk returned a decided dossier's result to the applicant.",
        discussion: """
            Publishes a result-returned event on dossier.events (its id derived from the dossier, so sending it \
            twice records it once). The coordinator ends the lifecycle: any escalation still open closes. Only a \
            decided dossier has a result to return. Needs DATABASE_URL and KAFKA_BOOTSTRAP.

            Example: motcua return-result HN-SCT-261123-000042
            """)

    @OptionGroup var topicOptions: TopicOptions

    @Argument(help: "The dossier's id or code.")
    var dossier: String

    func run() async throws {
        let found = try CLI.dossier(dossier, in: try CLI.database())
        guard found.status == "decided" || found.status == "result-returned" else {
            throw CLIError(
                "the dossier is '\(found.status)', not decided: a result is returned only after the decision is signed")
        }
        let event = DossierEvent(
            eventId: StableID.make("result-returned", found.id), dossierId: found.id, code: found.code,
            type: .resultReturned, department: found.department, step: found.step, round: nil, at: try CLI.clock().now())
        try await CLI.send(
            topic: topicOptions.topics.events, key: found.id, type: MessageType.event, id: event.eventId,
            source: "motcua/one-stop-desk", value: Array(try MessageCoding.encoder().encode(event)))
        print("result returned: \(found.code ?? found.id)")
    }
}

/// `motcua apology`: an apology slip (reason + one new date) before the due date, at most once per step.
struct ApologyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apology",
        abstract: "Issue an apology slip: the department foresees lateness, says why, and gives one new date.",
        discussion: """
            The slip is a command signed with the official's key (--key or MOTCUA_OFFICIAL_KEY), sent to the topic \
            of the department whose deadline it moves (dossiers.<department>). That department's worker checks it \
            at its own batch instant: the signature and key against the registry of officials, the role (a head \
            of division, deputy director or director of the department), and the apology rules (once per dossier \
            step, before its due date, a later date). It records the slip and publishes apology-issued; the \
            coordinator then moves the deadline and re-arms its due-soon, overdue and escalation timers. A slip \
            refused is answered with command-rejected (who sent it) or apology-rejected (what it says), and changes \
            nothing. With --wait the answer is read from the dossier's timeline. Needs DATABASE_URL and \
            KAFKA_BOOTSTRAP.

            Example: motcua apology HN-SCT-261123-000042 --reason "site inspection rescheduled by the applicant" \\
                       --new-date 2026-12-18 --official sct-0042 --key sct-0042.key.pem --wait
            """)

    @OptionGroup var topicOptions: TopicOptions

    @Argument(help: "The dossier's id or code.")
    var dossier: String

    @Option(help: "Why the department will be late (shown to the applicant).")
    var reason: String

    @Option(help: "The one new due date, YYYY-MM-DD (local, Asia/Ho_Chi_Minh).")
    var newDate: String

    // Unconditional: `--step -1` (the whole procedure) is a value, not an option.
    @Option(parsing: .unconditional, help: "The deadline's step (default: the dossier's current step; -1 for the whole procedure).")
    var step: Int?

    @Option(help: "The official who issues the slip (their id in the registry).")
    var official: String

    @Option(
        name: .customLong("key"),
        help: "The official's private key file (PEM); default: MOTCUA_OFFICIAL_KEY. The slip is signed with it; once the registry of officials is in force, an unsigned slip is refused.")
    var keyFile: String?

    @Flag(help: "Wait (up to 30 s) until the department's worker and the coordinator have answered, and print it.")
    var wait = false

    func validate() throws {
        if let step { try CLI.checkStep(step, allowWholeProcedure: true) }
        guard LocalDate(newDate) != nil else {
            throw ValidationError("--new-date '\(newDate)' is not a date: use YYYY-MM-DD, e.g. 2026-12-18")
        }
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ValidationError("--reason is empty: an apology slip must say why")
        }
        guard !official.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ValidationError("--official must name the official (their id in the registry)")
        }
    }

    func run() async throws {
        let db = try CLI.database()
        let found = try CLI.dossier(dossier, in: db)
        let slipStep = step ?? found.step ?? 0
        // The department whose deadline moves: the slip goes to its topic, signed for it.
        guard let department = try ApologyStore.state(found.id, step: slipStep, in: db).deadline?.department
            .map(DepartmentID.init(rawValue:)) ?? found.department
        else {
            throw CLIError("dossier \(found.code ?? found.id) has no deadline at step \(slipStep): nothing to apologise for")
        }
        let request = ApologyRequest(
            commandId: UUID(), dossierId: found.id, step: slipStep,
            official: Official(id: official, department: department), reason: reason, newDate: newDate,
            at: try CLI.clock().now())
        let value: [UInt8]
        if let signer = try OfficialSigner.load(path: keyFile, official: official, in: db) {
            value = try signer.encode(request, type: MessageType.apology, department: department)
        } else {
            value = Array(try MessageCoding.encoder().encode(request))
            FileHandle.standardError.write(Data(
                "warning: unsigned slip (no --key and no MOTCUA_OFFICIAL_KEY): once the registry of officials is in force the worker refuses it\n".utf8))
        }
        // An earlier slip's answer is not this one's.
        let before = try TimelineRead.lastRecorded(of: found.id, in: db)
        let topic = topicOptions.topics.department(department)
        try await CLI.send(
            topic: topic, key: found.id, type: MessageType.apology, id: request.commandId,
            source: "motcua/apology/\(official)", value: value)
        print("apology slip sent to \(topic) for \(found.code ?? found.id) step \(slipStep): new due date \(newDate)")
        guard wait else { return }
        guard let (type, detail) = try await awaitTimeline(
            found.id, types: ["apology-issued", "apology-rejected", "command-rejected"], after: before, timeout: 30, db: db)
        else {
            throw CLIError("no answer within 30 s: is the \(department)-worker and the coordinator running?")
        }
        guard type == "apology-issued" else {
            throw CLIError("apology refused: \(TerminalText.escape(detail ?? "no reason given"))")
        }
        print("apology recorded: the deadline of step \(slipStep) moves to \(newDate)")
    }
}
