import Authority
import EffectivelyOnce
import Foundation
import Messages
import Postgres
import Store

extension DepartmentWorker {
    /// An official's draft action (``DraftCommand``): a draft written (`drafted`), returned (`draft-returned`) or
    /// approved and sent (`draft-sent`, then its effect: `supplement-requested`, `decided` refused, the appointment
    /// moved by the coordinator, `stopped`); or a `command-rejected` event saying why not, and nothing changes.
    ///
    /// Who may act: any official of the department writes; a refusal or a stop notice is approved (or returned) by
    /// the delegate who signs the step's final decision (``OfficialRegistry/maySignFinal``), a supplement request or
    /// an apology by a head of division or above of the department; the writer never approves their own draft.
    func applyDraft(
        _ command: DraftCommand, principal: Principal?, registry: OfficialRegistry, at now: Date,
        into tx: PostgresConnection, outbox: inout [OutboxMessage], report: inout BatchReport, encoder: JSONEncoder
    ) throws {
        func reject(_ refusal: CommandRefusal, round: Int? = nil) throws {
            try rejectCommand(
                refusal, dossierId: command.dossierId, step: command.step, round: round, cause: command.commandId,
                official: principal?.id ?? command.official.id, at: now, outbox: &outbox, report: &report,
                encoder: encoder)
        }
        // Before the registry is in force commands are taken unsigned, as every other command: the official named.
        let actor = principal?.id ?? command.official.id
        if let principal {
            if let refusal = Self.namedSigner(command.official.id, principal)
                ?? registry.mayActForDepartment(principal, department: department)
            {
                return try reject(refusal)
            }
        } else if command.official.department != department {
            return try reject(.wrongDepartment(command.official.department.rawValue))
        }
        guard try !isWithdrawn(command.dossierId, in: tx) else {
            return try reject(.stale("the applicant has withdrawn the dossier"))
        }
        guard try !DraftStore.isStopped(command.dossierId, in: tx) else {
            return try reject(.stale("the dossier's handling was stopped (form 05)"))
        }
        guard let latest = try CommandStore.latestRound(command.dossierId, step: command.step, in: tx) else {
            return try reject(.stale("no decision of \(department) for this dossier step"))
        }
        do {
            try actOnDraft(
                command, principal: principal, actor: actor, registry: registry, latest: latest, at: now, into: tx,
                outbox: &outbox, report: &report, encoder: encoder)
        } catch let refused as DraftRefused {
            try reject(refused.refusal, round: refused.round)
        }
    }

    /// A draft action refused for what it says or who sent it (turned into a `command-rejected` event).
    struct DraftRefused: Error {
        var refusal: CommandRefusal
        var round: Int?
    }

    private func actOnDraft(
        _ command: DraftCommand, principal: Principal?, actor: String, registry: OfficialRegistry,
        latest: CommandStore.LatestRound, at now: Date, into tx: PostgresConnection, outbox: inout [OutboxMessage],
        report: inout BatchReport, encoder: JSONEncoder
    ) throws {
        func reject(_ refusal: CommandRefusal, round: Int? = nil) throws { throw DraftRefused(refusal: refusal, round: round) }
        switch command.action {
        case .write:
            try writeDraft(command, actor: actor, latest: latest, at: now, into: tx, outbox: &outbox, report: &report)
        case .approve, .return:
            guard let draftId = command.draftId, let draft = try DraftStore.load(draftId, in: tx),
                draft.dossierId == command.dossierId, draft.step == command.step,
                draft.department == department.rawValue
            else {
                return try reject(.stale("no draft \(command.draftId?.uuidString ?? "(none named)") of this dossier step"))
            }
            guard draft.state == "written" else {
                return try reject(.stale("the draft was already \(draft.state)"), round: draft.round)
            }
            guard let kind = DraftKind(rawValue: draft.kind) else {
                return try reject(.stale("the draft's kind '\(draft.kind)' is unknown"), round: draft.round)
            }
            if let principal {
                if let refusal = approvalRefusal(kind, by: principal, registry: registry, latest: latest, at: now) {
                    return try reject(refusal, round: draft.round)
                }
            }
            guard actor != draft.writtenBy else {
                return try reject(
                    .notTheDelegate("the official who wrote a draft does not \(command.action.rawValue) it: a leader does"),
                    round: draft.round)
            }
            if command.action == .return {
                guard let reason = command.reason, !reason.isEmpty else {
                    return try reject(.stale("a draft is returned with its reason"), round: draft.round)
                }
                guard try DraftStore.decide(draftId, sent: false, by: actor, returnReason: reason, at: now, in: tx) else {
                    return try reject(.stale("the draft no longer waits for approval"), round: draft.round)
                }
                outbox.append(try event(
                    .draftReturned, dossierId: command.dossierId, step: command.step, round: draft.round,
                    cause: command.commandId, at: now,
                    data: DossierEvent.Data(reason: reason, official: actor, action: kind.rawValue), encoder: encoder))
                report.outcomes["draft-returned", default: 0] += 1
                report.processed += 1
                return
            }
            try sendDraft(
                draft, kind: kind, approver: actor, latest: latest, cause: command.commandId, at: now, into: tx,
                outbox: &outbox, report: &report, encoder: encoder)
        }
    }

    /// Who approves (or returns) a draft of `kind`: for a refusal or a stop notice, the delegate who signs the step's
    /// final decision; for a supplement request or an apology, a head of division or above of the department.
    func approvalRefusal(
        _ kind: DraftKind, by principal: Principal, registry: OfficialRegistry, latest: CommandStore.LatestRound,
        at now: Date
    ) -> CommandRefusal? {
        switch kind {
        case .refuse, .stop:
            let position = latest.delegationId.flatMap { bundle.delegations[id: $0]?.delegate } ?? .director
            return registry.maySignFinal(
                principal, department: department, procedure: latest.procedure, position: position, at: now)
        case .supplement, .apology:
            return registry.mayIssueLetter(principal, department: department, what: "approve a \(kind.rawValue) draft")
        }
    }

    private func writeDraft(
        _ command: DraftCommand, actor: String, latest: CommandStore.LatestRound, at now: Date,
        into tx: PostgresConnection, outbox: inout [OutboxMessage], report: inout BatchReport
    ) throws {
        func reject(_ refusal: CommandRefusal, _ round: Int?) throws { throw DraftRefused(refusal: refusal, round: round) }
        guard let kind = command.kind else { return try reject(.stale("a draft names its kind"), latest.round) }
        guard let reason = command.reason, !reason.isEmpty else {
            return try reject(.stale("a draft gives its reason"), latest.round)
        }
        guard latest.signedAt == nil, latest.outcome != .forward,
            !(latest.review == .auto && (latest.outcome == .approve || latest.outcome == .refuse))
        else {
            return try reject(.stale("the step is closed: it was decided or forwarded"), latest.round)
        }
        var documents: [String]?
        var newDate: String?
        switch kind {
        case .supplement:
            let asked = command.documents ?? []
            guard !asked.isEmpty else { return try reject(.stale("a supplement draft names the documents"), latest.round) }
            let taken = bundle.catalogue.procedure(latest.procedure)?.documents ?? []
            let foreign = asked.filter { !taken.contains($0) }
            guard foreign.isEmpty else {
                return try reject(
                    .stale("documents not of procedure \(latest.procedure): \(foreign.sorted().joined(separator: ", "))"),
                    latest.round)
            }
            documents = asked
        case .refuse:
            guard latest.review == .official, latest.outcome == .approve || latest.outcome == .refuse else {
                return try reject(
                    .stale("a refusal is drafted for a decision awaiting a signature (this one is \(latest.outcome.rawValue))"),
                    latest.round)
            }
        case .apology:
            guard let text = command.newDate, let date = LocalDate(text), date > LocalDate(instant: now) else {
                return try reject(.stale("an apology (form 04) names a new appointment date after today"), latest.round)
            }
            newDate = date.description
        case .stop:
            break
        }
        guard try DraftStore.write(
            draftId: command.commandId, dossierId: command.dossierId, step: command.step, round: latest.round,
            department: department, kind: kind.rawValue, reason: reason, documents: documents, newDate: newDate,
            writtenBy: actor, at: now, in: tx)
        else {
            return try reject(
                .stale("a \(kind.rawValue) draft of this step already waits for approval, or was already sent"),
                latest.round)
        }
        outbox.append(try event(
            .drafted, dossierId: command.dossierId, step: command.step, round: latest.round, cause: command.commandId,
            at: now,
            data: DossierEvent.Data(
                reason: reason, documents: documents, dueDate: newDate, official: actor, action: kind.rawValue),
            encoder: MessageCoding.encoder()))
        report.outcomes["drafted", default: 0] += 1
        report.processed += 1
    }

    /// The approved draft is sent: `draft-sent`, then its effect in the same transaction.
    private func sendDraft(
        _ draft: DraftStore.Draft, kind: DraftKind, approver: String, latest: CommandStore.LatestRound, cause: UUID,
        at now: Date, into tx: PostgresConnection, outbox: inout [OutboxMessage], report: inout BatchReport,
        encoder: JSONEncoder
    ) throws {
        func reject(_ refusal: CommandRefusal) throws { throw DraftRefused(refusal: refusal, round: draft.round) }
        // A draft written for an earlier round (a supplement came meanwhile) no longer says the right thing.
        guard draft.round == latest.round else {
            return try reject(.stale("the draft was written for round \(draft.round); round \(latest.round) is open now"))
        }
        guard latest.signedAt == nil else { return try reject(.stale("the step's decision is already signed")) }
        if kind == .refuse {
            guard latest.review == .official, latest.outcome == .approve || latest.outcome == .refuse else {
                return try reject(.stale("the decision (\(latest.outcome.rawValue)) does not await a signature"))
            }
            if let delegationId = latest.delegationId {
                guard let delegation = bundle.delegations[id: delegationId], delegation.status(at: now) == nil else {
                    return try reject(.stale("delegation \(delegationId) is not valid now"))
                }
            }
        }
        guard try DraftStore.decide(draft.draftId, sent: true, by: approver, returnReason: nil, at: now, in: tx) else {
            return try reject(.stale("the draft no longer waits for approval"))
        }
        outbox.append(try event(
            .draftSent, dossierId: draft.dossierId, step: draft.step, round: draft.round, cause: cause, at: now,
            data: DossierEvent.Data(
                reason: draft.reason, documents: draft.documents.isEmpty ? nil : draft.documents,
                dueDate: draft.newDate, official: approver, action: kind.rawValue),
            encoder: encoder))
        let effect = StableID.make("draft-effect", cause.uuidString)
        switch kind {
        case .supplement:
            try ProvenanceStore.recordSupplementRequest(
                draft.dossierId, step: draft.step, round: draft.round, department: department,
                documents: draft.documents, official: approver, reason: draft.reason, at: now, in: tx)
            outbox.append(try event(
                .supplementRequested, dossierId: draft.dossierId, step: draft.step, round: draft.round, cause: effect,
                at: now,
                data: DossierEvent.Data(reason: draft.reason, documents: draft.documents, official: approver),
                encoder: encoder))
        case .refuse:
            try CommandStore.sign(
                draft.dossierId, step: draft.step, round: draft.round, official: approver, at: now, outcome: .refuse,
                reason: draft.reason, in: tx)
            outbox.append(try event(
                .decided, dossierId: draft.dossierId, step: draft.step, round: draft.round, cause: effect, at: now,
                data: DossierEvent.Data(outcome: .refuse, review: .official, reason: draft.reason, official: approver),
                encoder: encoder))
            if let stage = try StageStore.current(draft.dossierId, step: draft.step, in: tx), stage.closedAt == nil,
                stage.round == draft.round
            {
                try closeStage(
                    stage, decision: .refuse, signer: approver, actedAs: stage.state.isLast ? nil : .director,
                    cause: effect, at: now, into: tx, outbox: &outbox, encoder: encoder)
            }
        case .apology:
            // Form 04 moves the appointment and the current step's deadline to the new date, each by the apology
            // rules (one apology per deadline, before its due date, a later date): recorded here, moved by the
            // coordinator when it reads `apology-issued`; a deadline the rules refuse gets `apology-rejected`.
            // (An apology draft always has its date: a CHECK of `drafts`.)
            guard let newDate = draft.newDate.flatMap(LocalDate.init) else { break }
            for step in [DeadlineKind.overallStep, draft.step] {
                try recordApology(
                    draft.dossierId, step: step, reason: draft.reason, newDate: newDate, issuedBy: approver,
                    commandId: cause, command: nil, cause: StableID.make("draft-effect", cause.uuidString, String(step)),
                    at: now, into: tx, outbox: &outbox, report: &report, encoder: encoder)
            }
        case .stop:
            // The open stage closes with its line on the processing-control slip (form 06: stopped, by the approver,
            // its verdict against the stage's quota); then off every queue: the dossier's handling has ended.
            if let stage = try StageStore.current(draft.dossierId, step: draft.step, in: tx), stage.closedAt == nil {
                try StageStore.handOver(
                    stage, action: StageStore.stoppedAction, actor: approver, actedAs: nil, to: stage.state.position,
                    assignee: nil, sender: approver, senderPosition: nil, dueAt: stage.dueAt, reason: draft.reason,
                    verdict: StagePlan.verdict(due: stage.dueAt, finishedAt: now), closed: true, at: now, in: tx)
            }
            try StageStore.closeStopped(draft.dossierId, at: now, in: tx)
            outbox.append(try event(
                .stopped, dossierId: draft.dossierId, step: draft.step, round: draft.round, cause: effect, at: now,
                data: DossierEvent.Data(reason: draft.reason, official: approver), encoder: encoder))
        }
        report.outcomes["draft-sent-\(kind.rawValue)", default: 0] += 1
        report.processed += 1
    }
}
