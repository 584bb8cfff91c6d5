import Authority
import EffectivelyOnce
import Foundation
import Kafka
import Messages
import Operations
import Postgres
import Store

extension DepartmentWorker {
    /// Officials' signatures and requests, and applicants' supplements. Rare next to steps: one statement each.
    ///
    /// Once the registry of officials is in force (its first record), every command must be signed by a registered
    /// principal whose key is valid at the batch instant `now` (which the events and signatures record, so the
    /// audit replay checks at the same instant); officials' commands by an official of the department with the
    /// role the command needs, applicants' commands by a channel (the portal's service key, a desk official).
    /// Anything else is answered with a `command-rejected` event naming the reason, and changes nothing.
    func handleCommand(
        _ message: KafkaMessage, type: String, at now: Date, registry: OfficialRegistry, into tx: PostgresConnection,
        outbox: inout [OutboxMessage], report: inout BatchReport, decoder: JSONDecoder, encoder: JSONEncoder
    ) throws {
        let data = Data(message.value)
        do {
            let known = [
                MessageType.sign, MessageType.requestSupplement, MessageType.withdraw, MessageType.supplement,
                MessageType.stage, MessageType.draft, MessageType.apology,
            ]
            var principal: Principal?
            if known.contains(type), registry.isInForce(at: now) {
                let header = try decoder.decode(SignedCommands.Header.self, from: data)
                guard let found = try authenticate(
                    message, type: type, header: header, step: header.step ?? 0, at: now, registry: registry,
                    outbox: &outbox, report: &report, encoder: encoder)
                else { return }
                principal = found
            }
            switch type {
            case MessageType.sign:
                let command = try decoder.decode(SignCommand.self, from: data)
                try sign(command, principal: principal, registry: registry, at: now, into: tx, outbox: &outbox, report: &report, encoder: encoder)
            case MessageType.requestSupplement:
                let command = try decoder.decode(SupplementRequest.self, from: data)
                // A supplement request goes out only from a head of division or above: a specialist drafts it
                // (`motcua review draft supplement`) for one of them to approve, so no request bypasses approval.
                if let principal, let refusal = registry.mayIssueLetter(
                    principal, department: department, what: "request a supplement directly")
                    ?? Self.namedSigner(command.official.id, principal)
                {
                    return try rejectCommand(
                        refusal, dossierId: command.dossierId, step: command.step, round: nil, cause: command.commandId,
                        official: principal.id, at: now, outbox: &outbox, report: &report, encoder: encoder)
                }
                try requestSupplement(command, at: now, into: tx, outbox: &outbox, report: &report, encoder: encoder)
            case MessageType.stage:
                let command = try decoder.decode(StageCommand.self, from: data)
                try applyStage(command, principal: principal, registry: registry, at: now, into: tx, outbox: &outbox,
                               report: &report, encoder: encoder)
            case MessageType.draft:
                let command = try decoder.decode(DraftCommand.self, from: data)
                try applyDraft(command, principal: principal, registry: registry, at: now, into: tx, outbox: &outbox,
                               report: &report, encoder: encoder)
            case MessageType.apology:
                try issueApology(message, principal: principal, registry: registry, at: now, into: tx, outbox: &outbox,
                                 report: &report, decoder: decoder, encoder: encoder)
            case MessageType.withdraw:
                let command = try decoder.decode(Withdrawal.self, from: data)
                if let principal, let refusal = registry.mayCarryApplicantCommand(principal) {
                    return try rejectCommand(
                        refusal, dossierId: command.dossierId, step: 0, round: nil, cause: command.commandId,
                        official: principal.id, at: now, outbox: &outbox, report: &report, encoder: encoder)
                }
                try withdraw(command, source: message, at: now, into: tx, outbox: &outbox, report: &report, encoder: encoder)
            case MessageType.supplement:
                let command = try decoder.decode(ApplicantSupplement.self, from: data)
                if let principal, let refusal = registry.mayCarryApplicantCommand(principal) {
                    return try rejectCommand(
                        refusal, dossierId: command.dossierId, step: command.step, round: nil, cause: command.commandId,
                        official: principal.id, at: now, outbox: &outbox, report: &report, encoder: encoder)
                }
                try resume(command, source: message, at: now, into: tx, outbox: &outbox, report: &report,
                           decoder: decoder, encoder: encoder)
            case MessageType.rate, MessageType.complain:
                try recordFeedback(message, type: type, at: now, registry: registry, into: tx, outbox: &outbox,
                                   report: &report, decoder: decoder, encoder: encoder)
            case MessageType.confirmPayment:
                try confirmPayment(message, at: now, registry: registry, into: tx, outbox: &outbox, report: &report,
                                   decoder: decoder, encoder: encoder)
            default:
                outbox.append(.deadLetter(of: message, error: "unknown message type '\(type)'", consumer: department.rawValue))
                report.deadLetters += 1
            }
        } catch let error as DecodingError {
            outbox.append(.deadLetter(of: message, error: "not a valid \(type): \(describe(error))", consumer: department.rawValue))
            report.deadLetters += 1
        }
    }

    private func latestDecision(
        _ dossierId: String, step: Int, in tx: PostgresConnection
    ) throws -> CommandStore.LatestRound? {
        try CommandStore.latestRound(dossierId, step: step, in: tx)
    }

    /// Whether the applicant has withdrawn the dossier.
    func isWithdrawn(_ dossierId: String, in tx: PostgresConnection) throws -> Bool {
        try CommandStore.isWithdrawn(dossierId, in: tx)
    }

    /// The applicant's withdrawal: recorded unless the dossier is already decided (an automatic approval or an
    /// official's signature — not an automatic approval still waiting for its fee) or already withdrawn; either way
    /// the answer is an event on `dossier.events`.
    func withdraw(
        _ command: Withdrawal, source: KafkaMessage, at now: Date, into tx: PostgresConnection,
        outbox: inout [OutboxMessage], report: inout BatchReport, encoder: JSONEncoder
    ) throws {
        let latest = try CommandStore.latestDecision(command.dossierId, in: tx)
        let step = latest?.step ?? 0
        func reject(_ reason: String) throws {
            outbox.append(try event(
                .withdrawalRejected, dossierId: command.dossierId, step: step, round: nil, cause: command.commandId,
                at: now, data: DossierEvent.Data(reason: reason), encoder: encoder))
            report.outcomes["withdrawal-rejected", default: 0] += 1
        }
        // A dossier reception never received (or that never came to this department) is not withdrawn: nothing
        // is recorded (a guard in PostgreSQL refuses such a row too).
        guard let stored = try CommandStore.storedDossier(command.dossierId, in: tx) else {
            return try reject("no dossier with this id was received by \(department)")
        }
        // The channel that takes a withdrawal checks the applicant's receipt secret against this hash; a dossier
        // that came without one cannot be withdrawn by a message.
        guard stored.hasReceiptSecret else {
            return try reject("the dossier came without a receipt secret: it cannot be withdrawn by a message")
        }
        // An automatic approval waiting for its fee (issue 21: `fee-requested`, national code 6) has not taken
        // effect: the applicant may still withdraw, and no payment is accepted after it.
        if let latest, try hasTakenEffect(latest, dossierId: command.dossierId, in: tx) {
            return try reject("the dossier is already decided")
        }
        let inserted = try CommandStore.recordWithdrawal(
            command.dossierId, department: department, step: step, reason: command.reason, at: now,
            sourceTopic: source.topic, sourcePartition: Int(source.partition), sourceOffset: source.offset, in: tx)
        guard inserted else { return try reject("the dossier is already withdrawn") }
        outbox.append(try event(
            .withdrawn, dossierId: command.dossierId, step: step, round: nil, cause: command.commandId, at: now,
            data: DossierEvent.Data(reason: command.reason), encoder: encoder))
        report.outcomes["withdrawn", default: 0] += 1
        report.processed += 1
    }

    /// The principal who signed `message`, a command of `type` for this department's topic, checked against the
    /// registry at the batch instant; nil when it is refused for who sent it, after its `command-rejected` event
    /// (naming the claimed signer only when that is a well-formed id: it is the sender's text).
    func authenticate(
        _ message: KafkaMessage, type: String, header: SignedCommands.Header, step: Int, at now: Date,
        registry: OfficialRegistry, outbox: inout [OutboxMessage], report: inout BatchReport, encoder: JSONEncoder
    ) throws -> Principal? {
        switch registry.authenticate(
            command: message.value, type: type, topic: SignedCommands.topic(department: department),
            commandAt: header.at, at: now)
        {
        case .success(let found):
            return found
        case .failure(let refusal):
            var claimed: String?
            if case .success(let signature?) = OfficialRegistry.signature(in: message.value),
                Principal.isValidId(signature.principal)
            {
                claimed = signature.principal
            }
            try rejectCommand(
                refusal, dossierId: header.dossierId, step: step, round: nil, cause: header.commandId,
                official: claimed, at: now, outbox: &outbox, report: &report, encoder: encoder)
            return nil
        }
    }

    /// A command refused for who sent it: a `command-rejected` event whose reason starts with the refusal's code.
    func rejectCommand(
        _ refusal: CommandRefusal, dossierId: String, step: Int, round: Int?, cause: UUID, official: String?,
        at now: Date, outbox: inout [OutboxMessage], report: inout BatchReport, encoder: JSONEncoder
    ) throws {
        outbox.append(try event(
            .commandRejected, dossierId: dossierId, step: step, round: round, cause: cause, at: now,
            data: DossierEvent.Data(reason: refusal.description, official: official), encoder: encoder))
        report.outcomes["command-rejected", default: 0] += 1
    }

    func event(
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

    func sign(
        _ command: SignCommand, principal: Principal?, registry: OfficialRegistry, at now: Date, into tx: PostgresConnection, outbox: inout [OutboxMessage],
        report: inout BatchReport, encoder: JSONEncoder
    ) throws {
        func reject(_ reason: String, round: Int?) throws {
            outbox.append(try event(
                .signatureRejected, dossierId: command.dossierId, step: command.step, round: round,
                cause: command.commandId, at: now, data: DossierEvent.Data(reason: reason, official: command.official.id),
                encoder: encoder))
            report.outcomes["signature-rejected", default: 0] += 1
        }
        guard command.official.department == department else {
            return try reject("official of department '\(command.official.department)' cannot sign for \(department)", round: nil)
        }
        guard let row = try latestDecision(command.dossierId, step: command.step, in: tx) else {
            return try reject("no decision to sign for this dossier step", round: nil)
        }
        guard try !isWithdrawn(command.dossierId, in: tx) else {
            return try reject("the applicant has withdrawn the dossier", round: nil)
        }
        guard try !DraftStore.isStopped(command.dossierId, in: tx) else {
            return try reject("the dossier's handling was stopped (form 05)", round: nil)
        }
        let round = row.round
        guard row.review == .official, row.outcome == .approve || row.outcome == .refuse else {
            return try reject("the decision (\(row.outcome.rawValue)) does not await a signature", round: round)
        }
        guard row.signedAt == nil else {
            return try reject("the decision is already signed", round: round)
        }
        if command.decision == .approve, row.outcome == .approve, let unpaid = try unpaidFee(command.dossierId, step: command.step, in: tx) {
            return try reject("fee-unpaid: the fee of \(unpaid) đồng is not paid; the approval waits for it", round: round)
        }
        var signer = command.official.id
        if let principal {
            // The delegate the decision's delegation names (its holder, or their authorised deputy, signs).
            let position = row.delegationId.flatMap { bundle.delegations[id: $0]?.delegate } ?? .director
            if let refusal = Self.namedSigner(command.official.id, principal) ?? staleness(of: command, against: row)
                ?? registry.maySignFinal(
                    principal, department: department, procedure: row.procedure, position: position, at: now)
            {
                return try rejectCommand(
                    refusal, dossierId: command.dossierId, step: command.step, round: round, cause: command.commandId,
                    official: principal.id, at: now, outbox: &outbox, report: &report, encoder: encoder)
            }
            signer = principal.id
        }
        // Inside a department with stages the decision is signed at the last (the director's) stage; a director who
        // signs it earlier acts on a lower stage as a leader, which the slip records.
        let stage = try StageStore.current(command.dossierId, step: command.step, in: tx)
        if let delegationId = row.delegationId {
            guard let delegation = bundle.delegations[id: delegationId] else {
                return try reject("delegation \(delegationId) is no longer on record", round: round)
            }
            if let problem = delegation.status(at: now) {
                return try reject("delegation \(delegationId) is not valid now (\(problem.rawValue))", round: round)
            }
        }
        if let problem = command.result?.problem {
            return try reject("bad-result-reference: \(problem)", round: round)
        }
        try CommandStore.sign(
            command.dossierId, step: command.step, round: round, official: signer, at: now,
            outcome: command.decision == .approve ? .approve : .refuse, reason: command.reason, in: tx)
        if let result = command.result {
            _ = try ResultFileStore.record(
                command.dossierId, department: department, step: command.step, documentId: result.documentId,
                sha256: result.sha256, link: result.link, signedBy: signer, at: now, in: tx)
        }
        outbox.append(try event(
            .decided, dossierId: command.dossierId, step: command.step, round: round, cause: command.commandId, at: now,
            data: DossierEvent.Data(outcome: command.decision.outcome, review: .official, reason: command.reason,
                                    official: command.official.id),
            encoder: encoder))
        if let stage, stage.closedAt == nil, stage.round == round {
            try closeStage(
                stage, decision: command.decision, signer: signer, actedAs: stage.state.isLast ? nil : .director,
                cause: command.commandId, at: now, into: tx, outbox: &outbox, encoder: encoder)
        }
        report.outcomes["signed-\(command.decision.rawValue)", default: 0] += 1
        report.processed += 1
    }

    /// A command signed by another principal than the official it names is refused: the signer speaks only for
    /// themselves.
    static func namedSigner(_ named: String, _ principal: Principal) -> CommandRefusal? {
        guard named != principal.id else { return nil }
        return CommandRefusal.notTheDelegate("the command names official '\(named)' but is signed by '\(principal.id)'")
    }

    /// Why a signed command no longer applies to the step's latest round: it names another round, outcome or rule
    /// version than the one prepared (or names none, which a signed command must).
    func staleness(of command: SignCommand, against row: CommandStore.LatestRound) -> CommandRefusal? {
        guard let round = command.round, let prepared = command.preparedOutcome, let version = command.ruleVersion else {
            return .stale("a signed command names the round, prepared outcome and rule version it signs")
        }
        if round != row.round { return .stale("the command signs round \(round); round \(row.round) is open now") }
        if prepared != row.outcome.rawValue {
            return .stale("the command signs a prepared '\(prepared)'; the rules prepared '\(row.outcome.rawValue)'")
        }
        if version != row.ruleVersion { return .stale("the command saw another rule version than the decision's") }
        return nil
    }

    func requestSupplement(
        _ command: SupplementRequest, at now: Date, into tx: PostgresConnection, outbox: inout [OutboxMessage],
        report: inout BatchReport, encoder: JSONEncoder
    ) throws {
        guard command.official.department == department,
            let row = try latestDecision(command.dossierId, step: command.step, in: tx)
        else {
            outbox.append(try event(
                .signatureRejected, dossierId: command.dossierId, step: command.step, round: nil,
                cause: command.commandId, at: now,
                data: DossierEvent.Data(reason: "request refused: wrong department or no decision for this step",
                                        official: command.official.id),
                encoder: encoder))
            report.outcomes["request-rejected", default: 0] += 1
            return
        }
        try ProvenanceStore.recordSupplementRequest(
            command.dossierId, step: command.step, round: row.round, department: department,
            documents: command.documents, official: command.official.id, reason: command.reason, at: now, in: tx)
        outbox.append(try event(
            .supplementRequested, dossierId: command.dossierId, step: command.step,
            round: row.round, cause: command.commandId, at: now,
            data: DossierEvent.Data(reason: command.reason, documents: command.documents, official: command.official.id),
            encoder: encoder))
        report.outcomes["supplement-requested", default: 0] += 1
        report.processed += 1
    }

    /// The applicant's supplement: merge it into the dossier and evaluate the step again, as its next round.
    func resume(
        _ command: ApplicantSupplement, source: KafkaMessage, at now: Date, into tx: PostgresConnection,
        outbox: inout [OutboxMessage], report: inout BatchReport, decoder: JSONDecoder, encoder: JSONEncoder
    ) throws {
        let stored = try CommandStore.storedDossier(command.dossierId, in: tx)
        let latest = try latestDecision(command.dossierId, step: command.step, in: tx)
        guard let stored, let latest else {
            outbox.append(.deadLetter(of: source, error: "supplement for an unknown dossier step", consumer: department.rawValue))
            report.deadLetters += 1
            return
        }
        guard try !isWithdrawn(command.dossierId, in: tx) else {
            outbox.append(try event(
                .withdrawalRejected, dossierId: command.dossierId, step: command.step, round: nil,
                cause: command.commandId, at: now,
                data: DossierEvent.Data(reason: "supplement ignored: the applicant has withdrawn the dossier"),
                encoder: encoder))
            report.outcomes["supplement-ignored", default: 0] += 1
            return
        }
        var dossier = try Dossier.decode(json: Data(stored.body.utf8))
        // The documents and facts the procedure takes, and those the dossier must hold, are those of the catalogue
        // version reception recorded on the dossier (the current catalogue when it recorded none).
        if stored.catalogueVersion.map({ $0 != bundle.catalogueVersion.version && !catalogueVersions.knows($0) }) ?? false {
            try catalogueVersions.load(on: tx)
        }
        let catalogue = catalogueVersions.catalogue(for: stored.catalogueVersion, current: bundle)
        if let reason = try supplementProblem(command, dossier: dossier, latest: latest, catalogue: catalogue, in: tx) {
            outbox.append(try event(
                .supplementRejected, dossierId: command.dossierId, step: command.step, round: latest.round,
                cause: command.commandId, at: now, data: DossierEvent.Data(reason: reason), encoder: encoder))
            report.outcomes["supplement-rejected", default: 0] += 1
            return
        }
        for document in command.documents where !dossier.documents.contains(document) {
            dossier.documents.append(document)
        }
        if let facts = command.facts { dossier.facts.merge(facts) { _, new in new } }
        let task = StepTask(
            taskId: command.commandId, dossier: dossier, code: stored.code,
            step: command.step, round: latest.round + 1, department: department,
            receivedAt: stored.receivedAt, dueDate: nil, catalogueVersion: stored.catalogueVersion)
        let decision = Decider.decide(
            dossier, department: department, bundle: bundle, ruleSet: ruleSet, checks: checks, at: now,
            catalogue: catalogue)
        var explanations = ExplanationMemo(encoded: explanationTexts)
        let row = DecisionRow(task: task, decision: decision, department: department, ruleSet: ruleSet,
                              registry: bundle.delegations, at: now, source: source,
                              explanation: try explanations.index(of: decision, encoder: encoder))
        do {
            try DecisionRow.copy(
                [row], explanationIds: try DecisionRow.storeExplanations(explanations.texts, in: tx), into: tx,
                savepoint: "resume_copy")
        } catch {
            // Another process decided this round meanwhile (its transaction committed while this one ran).
            guard (error as? PostgresError)?.sqlState == "23505" else { throw error }
            try DecisionStore.rollback(to: "resume_copy", in: tx)
            let other = try DecisionStore.source(of: command.dossierId, step: command.step, round: task.round, in: tx)
            if let other, other.topic == source.topic, other.partition == source.partition, other.offset == source.offset {
                // This very supplement message, applied by another process of the department: a repeat.
                report.skippedDuplicates += 1
                return
            }
            outbox.append(try event(
                .supplementRejected, dossierId: command.dossierId, step: command.step, round: latest.round,
                cause: command.commandId, at: now,
                data: DossierEvent.Data(reason: "another supplement was applied to this round first"), encoder: encoder))
            report.outcomes["supplement-rejected", default: 0] += 1
            return
        }
        // The stored body follows the dossier, so replay and later rounds see the supplemented documents.
        try ProvenanceStore.updateBody(
            command.dossierId, json: String(decoding: try encoder.encode(dossier), as: UTF8.self),
            digest: try MessageCoding.digest(of: dossier, encoder: encoder), at: now, in: tx)
        outbox.append(try event(
            .supplemented, dossierId: command.dossierId, step: command.step, round: task.round, cause: command.commandId,
            at: now, data: DossierEvent.Data(documents: command.documents), encoder: encoder))
        let paid = feeDue(dossier, step: command.step) == nil ? false : try FeeStore.isPaid(command.dossierId, in: tx)
        outbox += try effects(of: decision, task: task, at: now, encoder: encoder, feePaid: paid)
        // The new round is decided afresh: the previous round's open stage closes, and a round that needs people
        // enters the first stage of the workflow, as a step does.
        try StageStore.closeEarlierRounds(command.dossierId, step: command.step, before: task.round, at: now, in: tx)
        outbox += try enterStages([row], at: now, into: tx)
        report.outcomes[decision.outcome.rawValue, default: 0] += 1
        report.processed += 1
    }

    /// Why a supplement cannot be accepted, or nil: it must answer an open request (an automatic `supplement`
    /// decision, or an official's recorded request, of the step's latest round) on a step still open (not signed,
    /// not decided for good, not forwarded, no later step), with documents of the procedure and facts the procedure
    /// declares (`facts` of its entry in `catalogue`, the terms the dossier was received under).
    func supplementProblem(
        _ command: ApplicantSupplement, dossier: Dossier, latest: CommandStore.LatestRound, catalogue: Catalogue,
        in tx: PostgresConnection
    ) throws -> String? {
        if latest.signedAt != nil { return "the step is closed: its decision is signed" }
        if latest.outcome == .forward { return "the step is closed: the dossier was forwarded" }
        if latest.review == .auto && (latest.outcome == .approve || latest.outcome == .refuse) {
            return "the step is closed: it was decided (\(latest.outcome.rawValue))"
        }
        if let current = try CommandStore.latestDecision(command.dossierId, in: tx), current.step != command.step {
            return "the step is closed: the dossier is at step \(current.step)"
        }
        let requested = try ProvenanceStore.supplementRequest(
            command.dossierId, step: command.step, round: latest.round, in: tx)
        guard latest.outcome == .supplement || requested != nil else {
            return "no supplement was requested for round \(latest.round) of step \(command.step)"
        }
        guard let procedure = catalogue.procedure(dossier.procedure) else {
            return "procedure \(dossier.procedure) is not in the catalogue"
        }
        let foreignDocuments = command.documents.filter { !procedure.documents.contains($0) }
        if !foreignDocuments.isEmpty {
            return "documents not of procedure \(procedure.code): \(foreignDocuments.sorted().joined(separator: ", "))"
        }
        let undeclared = (command.facts ?? [:]).keys.filter { !(procedure.facts ?? []).contains($0) }
        if !undeclared.isEmpty {
            return "facts procedure \(procedure.code) does not declare: \(undeclared.sorted().joined(separator: ", "))"
        }
        return nil
    }
}
