import Authority
import EffectivelyOnce
import Foundation
import Kafka
import Messages
import Postgres
import Store

/// Fees (issue 21): the rules request a fee-bearing procedure's fee when they approve its last step
/// (`effects(of:task:at:encoder:feePaid:)`), and a registered payment gateway's signed
/// confirmation lets the approval take effect.
extension DepartmentWorker {
    /// The fee the dossier owes at `step`: the procedure's fee for the applicant's kind, when `step` is the procedure's
    /// last step and this department takes it; nil otherwise (no fee, exempt, zero, another step).
    func feeDue(_ dossier: Dossier, step: Int) -> Int? {
        feeDue(dossier, step: step, catalogue: bundle.catalogue)
    }

    /// ``feeDue(_:step:)`` with the catalogue of a bundle the caller holds (the bundle's getter takes a lock and
    /// copies it: once per decision, not once per use).
    func feeDue(_ dossier: Dossier, step: Int, catalogue: Catalogue) -> Int? {
        guard let procedure = catalogue.procedure(dossier.procedure), procedure.isFeeBearing,
            procedure.department == department, step == procedure.steps.count - 1
        else { return nil }
        return procedure.feeDue(for: dossier.applicant.kind)
    }

    /// The fee still owed before an approval of the dossier's `step` may be signed, or nil.
    func unpaidFee(_ dossierId: String, step: Int, in tx: PostgresConnection) throws -> Int? {
        guard let stored = try CommandStore.storedDossier(dossierId, in: tx),
            let dossier = try? Dossier.decode(json: Data(stored.body.utf8)),
            let due = feeDue(dossier, step: step)
        else { return nil }
        return try FeeStore.isPaid(dossierId, in: tx) ? nil : due
    }

    /// Whether the dossier's latest decision has taken effect: signed by an official, or decided by the rules —
    /// except an automatic approval still waiting for its fee (`fee-requested`), which the applicant may withdraw
    /// and cannot rate yet.
    func hasTakenEffect(
        _ latest: CommandStore.LatestDecision, dossierId: String, in tx: PostgresConnection
    ) throws -> Bool {
        if latest.signed { return true }
        guard latest.review == .auto else { return false }
        switch latest.outcome {
        case .refuse: return true
        case .approve: return try unpaidFee(dossierId, step: latest.step, in: tx) == nil
        default: return false
        }
    }

    /// A payment confirmation: always signed (even before the registry of officials is in force) by a registered
    /// payment gateway, or a desk official for the desk; for a dossier whose fee is requested and not paid, of the
    /// amount requested, with a receipt number not used before. Accepted, it is recorded (`fee_payments`), a
    /// `fee-paid` event resumes the clock and the approval that waited takes effect (`decided`, or `prepared` for
    /// an official to sign). Refused, nothing is recorded: `command-rejected` for who signed it, `payment-rejected`
    /// for what it says.
    func confirmPayment(
        _ message: KafkaMessage, at now: Date, registry: OfficialRegistry, into tx: PostgresConnection,
        outbox: inout [OutboxMessage], report: inout BatchReport, decoder: JSONDecoder, encoder: JSONEncoder
    ) throws {
        let header = try decoder.decode(SignedCommands.Header.self, from: Data(message.value))
        guard let principal = try authenticate(
            message, type: MessageType.confirmPayment, header: header, step: header.step ?? 0, at: now,
            registry: registry, outbox: &outbox, report: &report, encoder: encoder)
        else { return }
        let command = try decoder.decode(PaymentConfirmation.self, from: Data(message.value))
        if let refusal = registry.mayConfirmPayment(principal, online: command.channel.portalCode != nil) {
            return try rejectCommand(
                refusal, dossierId: command.dossierId, step: command.step ?? 0, round: nil, cause: command.commandId,
                official: principal.id, at: now, outbox: &outbox, report: &report, encoder: encoder)
        }
        func reject(_ code: String, _ why: String, step: Int) throws {
            outbox.append(try paymentEvent(
                .paymentRejected, dossierId: command.dossierId, step: step, round: nil, cause: command.commandId,
                at: now, data: DossierEvent.Data(reason: "\(code): \(why)", official: principal.id), encoder: encoder))
            report.outcomes["payment-rejected", default: 0] += 1
        }
        guard let stored = try CommandStore.storedDossier(command.dossierId, in: tx),
            let dossier = try? Dossier.decode(json: Data(stored.body.utf8))
        else {
            return try reject("no-fee-requested", "no dossier with this id was received by \(department)", step: 0)
        }
        guard let latest = try CommandStore.latestDecision(command.dossierId, in: tx),
            let round = try CommandStore.latestRound(command.dossierId, step: latest.step, in: tx)
        else {
            return try reject("no-fee-requested", "the dossier has no decision of \(department) yet", step: 0)
        }
        guard try !isWithdrawn(command.dossierId, in: tx) else {
            return try reject("withdrawn", "the applicant has withdrawn the dossier", step: latest.step)
        }
        guard let due = feeDue(dossier, step: latest.step), latest.outcome == .approve, round.signedAt == nil else {
            return try reject(
                "no-fee-requested", "no fee is requested for this dossier (its procedure, its applicant or its step)",
                step: latest.step)
        }
        if let step = command.step, step != latest.step {
            return try reject("wrong-step", "the fee is requested at step \(latest.step), not \(step)", step: latest.step)
        }
        guard try !FeeStore.isPaid(command.dossierId, in: tx) else {
            return try reject("already-paid", "the dossier's fee is already paid", step: latest.step)
        }
        guard command.amount == due else {
            return try reject(
                "wrong-amount", "the confirmation says \(command.amount) đồng; the fee requested is \(due) đồng",
                step: latest.step)
        }
        guard PaymentConfirmation.isValidReceipt(command.receiptNumber) else {
            return try reject(
                "bad-receipt", "a receipt number is 1 to 64 letters, digits, '.', '_', '/' or '-'", step: latest.step)
        }
        guard try FeeStore.payment(channel: command.channel.rawValue, receipt: command.receiptNumber, in: tx) == nil,
            try FeeStore.record(
                command.dossierId, department: department, step: latest.step, procedure: dossier.procedure,
                amountVND: due, channel: command.channel.rawValue, receipt: command.receiptNumber, principal: principal.id,
                commandId: command.commandId, at: now, sourceTopic: message.topic, sourcePartition: Int(message.partition),
                sourceOffset: message.offset, in: tx)
        else {
            return try reject(
                "receipt-used", "receipt \(command.receiptNumber) of \(command.channel.rawValue) already paid a dossier",
                step: latest.step)
        }
        outbox.append(try paymentEvent(
            .feePaid, dossierId: command.dossierId, step: latest.step, round: round.round, cause: command.commandId,
            at: now,
            data: DossierEvent.Data(
                official: principal.id, procedure: dossier.procedure, amount: due,
                paymentChannel: command.channel.rawValue, receipt: command.receiptNumber),
            encoder: encoder))
        // The step's open stage waited with it: entered when the fee was requested (or handed over since), its due
        // instant moves by the working days paused since, as the coordinator moves the stage's deadline.
        if let stage = try StageStore.current(command.dossierId, step: latest.step, in: tx), stage.closedAt == nil,
            stage.round == round.round
        {
            let paused = DeadlinePolicy.pausedWorkingDays(since: stage.enteredAt, until: now, calendar: bundle.calendar)
            if paused > 0 {
                try StageStore.moveDue(
                    command.dossierId, step: latest.step, round: round.round,
                    to: StageDeadline.moved(stage.dueAt, byWorkingDays: paused, calendar: bundle.calendar), in: tx)
            }
        }
        // The approval that waited for the fee, with the id its step would have given it.
        let kind: DossierEvent.Kind = latest.review == .auto ? .decided : .prepared
        let identity = "\(command.dossierId)/\(latest.step)/\(round.round)"
        let approval = DossierEvent(
            eventId: StableID.make("event", kind.rawValue, identity), dossierId: command.dossierId, code: stored.code,
            type: kind, department: department, step: latest.step, round: round.round, at: now,
            data: DossierEvent.Data(
                outcome: .approve, review: latest.review, delegationId: round.delegationId, procedure: dossier.procedure))
        outbox.append(OutboxMessage(
            eventId: approval.eventId, topic: topics.events, key: command.dossierId, type: MessageType.event,
            payload: MessageCoding.encode(approval)))
        report.outcomes["fee-paid", default: 0] += 1
        report.processed += 1
    }

    private func paymentEvent(
        _ kind: DossierEvent.Kind, dossierId: String, step: Int, round: Int?, cause: UUID, at now: Date,
        data: DossierEvent.Data, encoder: JSONEncoder
    ) throws -> OutboxMessage {
        let event = DossierEvent(
            eventId: StableID.make("command-event", kind.rawValue, cause.uuidString), dossierId: dossierId, code: nil,
            type: kind, department: department, step: step, round: round, at: now, data: data)
        return OutboxMessage(
            eventId: event.eventId, topic: topics.events, key: dossierId, type: MessageType.event,
            payload: Array(try encoder.encode(event)))
    }
}
