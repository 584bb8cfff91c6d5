import ArgumentParser
import Authority
import EffectivelyOnce
import Foundation
import Messages
import Operations
import ServiceCommands
import Store

/// `motcua pay`: a signed payment confirmation (issue 21) — a one-stop desk official's for a fee paid at the desk,
/// or a registered payment gateway's for one paid online.
struct PayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pay",
        abstract: "Confirm that a dossier's fee was paid (signed by a desk official, or by a payment gateway).",
        discussion: """
            Sends a motcua.payment.confirm command to the department topic that holds the dossier; its worker checks \
            the signature, that the fee is requested and unpaid, the amount and the receipt, then records the \
            payment (fee-paid) and lets the approval that waited take effect — or answers payment-rejected / \
            command-rejected with the reason. Always signed: at the desk by a one-stop desk official (--official, \
            --key or MOTCUA_OFFICIAL_KEY); online by a registered payment gateway (--gateway, --gateway-key), with \
            --channel national-portal or provincial-gateway. The command id derives from the dossier, the channel \
            and the receipt: sending it twice pays once. Needs DATABASE_URL and KAFKA_BOOTSTRAP.

            Examples:
              motcua pay CT-261127-000012 --amount 2200000 --receipt BL-2026-000731 --official desk-0001
              motcua pay CT-261127-000012 --amount 2200000 --receipt VNPAY-2026-000123 \\
                  --channel national-portal --gateway payment-gateway --gateway-key gateway.key.pem --wait
            """)

    @OptionGroup var topicOptions: TopicOptions

    @Argument(help: "The dossier's code or id.")
    var dossier: String

    @Option(parsing: .unconditional, help: "The amount paid, in đồng: the fee requested.")
    var amount: Int

    @Option(help: "The receipt number (1–64 of A–Z a–z 0–9 . _ / -): the desk's receipt, or the gateway's.")
    var receipt: String

    @Option(
        name: .customLong("channel"),
        help: "Where it was paid: desk (default with --official), national-portal (default with --gateway) or provincial-gateway.")
    var channelName: String?

    /// `--channel` as the confirmation names it (checked in ``validate()``).
    var channel: PaymentConfirmation.Channel? { channelName.flatMap(PaymentConfirmation.Channel.init(rawValue:)) }

    @Option(help: "At the desk: the one-stop desk official who took the payment (their id in the registry).")
    var official: String?

    @Option(
        name: .customLong("key"),
        help: "The desk official's private key (PEM); default: MOTCUA_OFFICIAL_KEY.")
    var keyFile: String?

    @Option(help: "Online: the registered payment gateway's id (a service of the 'payments' department).")
    var gateway: String?

    @Option(name: .customLong("gateway-key"), help: "Online: the payment gateway's private key (PEM).")
    var gatewayKey: String?

    @Option(parsing: .unconditional, help: "The step whose approval waits (default: the one the worker finds).")
    var step: Int?

    @Flag(help: "Wait until the worker has answered (read from the coordinator's timeline), and print the answer.")
    var wait = false

    @Option(parsing: .unconditional, help: "Seconds to wait with --wait.")
    var timeout: Int = 30

    /// The channel, the signer's id and key file, after the checks of ``validate()``.
    var signing: (channel: PaymentConfirmation.Channel, signer: String, key: String?) {
        if let gateway { return (channel ?? .nationalPortal, gateway, gatewayKey) }
        return (channel ?? .desk, official ?? "", keyFile)
    }

    func validate() throws {
        if let channelName, channel == nil {
            throw ValidationError(
                "--channel '\(TerminalText.escape(channelName))' is not a payment channel: "
                    + PaymentConfirmation.Channel.allCases.map(\.rawValue).joined(separator: ", "))
        }
        guard amount > 0 else {
            throw ValidationError("--amount must be the fee paid in đồng, a positive whole number; got \(amount)")
        }
        guard PaymentConfirmation.isValidReceipt(receipt) else {
            throw ValidationError(
                "--receipt '\(TerminalText.escape(receipt))' is not a receipt number: 1 to 64 letters, digits, "
                    + "'.', '_', '/' or '-' (e.g. BL-2026-000731)")
        }
        switch (official, gateway) {
        case (nil, nil):
            throw ValidationError(
                "who confirms the payment? --official ID (a one-stop desk official, at the desk) or --gateway ID "
                    + "--gateway-key FILE (a registered payment gateway, online)")
        case (.some, .some):
            throw ValidationError("--official and --gateway exclude each other: a desk official or a gateway signs")
        case (.some, nil):
            guard (channel ?? .desk) == .desk else {
                throw ValidationError(
                    "--channel \(channel?.rawValue ?? ""): an online payment is confirmed by its payment gateway "
                        + "(--gateway ID --gateway-key FILE), not by a desk official")
            }
            guard gatewayKey == nil else { throw ValidationError("--gateway-key goes with --gateway, not --official") }
        case (nil, .some):
            guard channel != .desk else {
                throw ValidationError("--channel desk: a payment at the desk is confirmed by the desk official (--official ID)")
            }
            guard gatewayKey != nil else {
                throw ValidationError("--gateway needs --gateway-key FILE: a payment confirmation is always signed")
            }
            guard keyFile == nil else { throw ValidationError("--key goes with --official; the gateway's is --gateway-key") }
        }
        if let step { try CLI.checkStep(step) }
        guard timeout > 0 else {
            throw ValidationError("--timeout must be a positive number of seconds, got \(timeout): e.g. --timeout 60")
        }
    }

    func run() async throws {
        let db = try CLI.database()
        let found = try CLI.dossier(dossier, in: db)
        let name = found.code ?? found.id
        switch found.status {
        case "withdrawn":
            throw CLIError("dossier \(name) is withdrawn: no payment is accepted for it; refund the applicant")
        case "intake-incomplete", "intake-refused":
            throw CLIError("dossier \(name) was not received (\(found.status)): it owes no fee")
        default: break
        }
        guard let department = found.commandDepartment(workers: try CLI.workerDepartments()) else {
            throw CLIError("dossier \(name) is not with a department yet: no fee is requested for it")
        }
        let (channel, signerId, keyPath) = signing
        let signer = try OfficialSigner.required(
            path: keyPath, official: signerId, in: db,
            missing: "a payment confirmation is always signed: give the desk official's key with --key FILE (or "
                + "MOTCUA_OFFICIAL_KEY)")
        let registry = try OfficialsStore.registry(in: db)
        if let principal = registry.principals[signerId],
            let refusal = registry.mayConfirmPayment(principal, online: channel.portalCode != nil)
        {
            throw CLIError("\(signerId) may not confirm this payment: \(refusal); the worker would refuse it")
        }
        let command = PaymentConfirmation(
            commandId: StableID.make("pay", found.id, channel.rawValue, receipt), dossierId: found.id, step: step,
            amount: amount, channel: channel, receiptNumber: receipt, at: try CLI.clock().now())
        let topic = topicOptions.topics.department(department)
        let report = try await CLI.send(
            topic: topic, key: found.id, type: MessageType.confirmPayment, id: command.commandId,
            source: "motcua/pay/\(signerId)",
            value: try signer.encode(command, type: MessageType.confirmPayment, department: department))
        print("payment confirmation for \(name) sent to \(topic) (partition \(report.partition), offset "
              + "\(report.offset), command \(command.commandId.uuidString.lowercased()))")
        guard wait else { return }
        let answer = try await awaitCommandAnswer(
            command.commandId, kinds: [.feePaid, .paymentRejected, .commandRejected], timeout: timeout, db: db)
        guard let answer else {
            throw CLIError(
                "no answer after \(timeout) s: are the \(department)-worker and the coordinator running? The "
                    + "confirmation is on its topic and will be applied when the worker runs")
        }
        if answer.type == DossierEvent.Kind.feePaid.rawValue {
            print("paid: \(amount) đồng, receipt \(receipt) (\(channel.rawValue))")
            return
        }
        throw CLIError("refused (\(answer.type)): \(answer.detail ?? "no reason given")")
    }
}

/// Polls the coordinator's timeline for the worker's answer to command `commandId` (the events a worker emits for a
/// command have ids derived from it); nil after `timeout` seconds.
func awaitCommandAnswer(
    _ commandId: UUID, kinds: [DossierEvent.Kind], timeout: Int, db: CLI.Connection
) async throws -> (type: String, detail: String?)? {
    let ids = kinds.map { StableID.make("command-event", $0.rawValue, commandId.uuidString) }
    let deadline = ContinuousClock.now + .seconds(timeout)
    while ContinuousClock.now < deadline {
        for id in ids {
            if let found = try TimelineRead.event(id, in: db) { return (found.type, found.detail) }
        }
        try await Task.sleep(for: .milliseconds(200))
    }
    return nil
}
