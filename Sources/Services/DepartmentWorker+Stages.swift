import Authority
import EffectivelyOnce
import Foundation
import Messages
import Postgres
import Store

extension DepartmentWorker {
    /// Decisions the rules prepared for people enter the first stage of the department's workflow, each assigned
    /// in turn to an official of the stage's role in the procedure's division whose registry entry is valid (none:
    /// the division's queue). One `stage-moved` event (action `assign`) per entry, so the replay reads the
    /// assignment rather than recomputing it. Nothing when the department has no workflow. `rows` are decision rows
    /// this transaction copied into `decisions` (a republished step's row was skipped there, and enters no stage
    /// again), so their stages are new: written by COPY (``StageStore/copyNew(_:department:in:)``).
    func enterStages(_ rows: [DecisionRow], at now: Date, into tx: PostgresConnection) throws -> [OutboxMessage] {
        guard let workflow = bundle.workflows[department] else { return [] }
        let needing = rows.filter { $0.review == .official && ($0.outcome == .approve || $0.outcome == .refuse) }
        guard !needing.isEmpty else { return [] }
        let registry = try officials.current(in: tx)
        let turns = try StageStore.turns(needing.count, in: tx)
        // What depends only on the procedure (its route, planned stages, first stage's due instant and candidates)
        // is worked out once per procedure of the batch: the same `now`, registry and bundle for every row.
        var byProcedure: [String: (division: String, planned: [PlannedStage], candidates: [String], dueAt: Date)] = [:]
        var entries: [StageStore.Entry] = []
        entries.reserveCapacity(needing.count)
        for (row, turn) in zip(needing, turns) {
            let plan: (division: String, planned: [PlannedStage], candidates: [String], dueAt: Date)
            if let known = byProcedure[row.procedure] {
                plan = known
            } else {
                let route = workflow.route(procedure: row.procedure)
                let planned = PlannedStage.plan(
                    route, stepWorkingDays: stepWorkingDays(procedure: row.procedure, at: now))
                let first = planned[0]
                plan = (
                    route.division, planned,
                    StageMachine.candidates(
                        role: first.role, division: route.division, department: department, registry: registry,
                        at: now),
                    stageDue(quota: first.quota, at: now)
                )
                byProcedure[row.procedure] = plan
            }
            let candidates = plan.candidates
            entries.append(StageStore.Entry(
                dossierId: row.dossierId, step: row.step, round: row.round, division: plan.division,
                procedure: row.procedure, route: plan.planned, position: 0,
                assignee: candidates.isEmpty ? nil : candidates[Int(turn % Int64(candidates.count))],
                enteredAt: now, dueAt: plan.dueAt))
        }
        try StageStore.copyNew(entries, department: department, in: tx)
        return try entries.map { entry in
            try stageEvent(
                dossierId: entry.dossierId, step: entry.step, round: entry.round, action: "assign",
                stage: entry.route[0].id, assignee: entry.assignee, official: nil, reason: nil, dueAt: entry.dueAt,
                cause: StableID.make("stage-entry", entry.dossierId, String(entry.step), String(entry.round)), at: now)
        }
    }

    /// Decisions already awaiting a signature when the department's workflow came (prepared without stages) enter
    /// its last stage, the director's, assigned in turn to a valid director: rows, slip lines and `stage-moved`
    /// events (action `assign`) in one transaction. Run when the worker (re)connects; a step enters once, so two
    /// worker processes doing it at once enter each step once.
    func enterLastStageOfAwaiting(at now: Date, on connection: PostgresConnection) throws {
        guard let workflow = bundle.workflows[department] else { return }
        try connection.transaction { tx in
            let awaiting = try StageStore.awaitingWithoutStage(department, in: tx)
            guard !awaiting.isEmpty else { return }
            let registry = try officials.current(in: tx)
            let turns = try StageStore.turns(awaiting.count, in: tx)
            var entries: [StageStore.Entry] = []
            for (decision, turn) in zip(awaiting, turns) {
                let route = workflow.route(procedure: decision.procedure)
                let planned = PlannedStage.plan(
                    route, stepWorkingDays: stepWorkingDays(procedure: decision.procedure, at: now))
                let last = planned.count - 1
                let candidates = StageMachine.candidates(
                    role: planned[last].role, division: route.division, department: department, registry: registry,
                    at: now)
                entries.append(StageStore.Entry(
                    dossierId: decision.dossierId, step: decision.step, round: decision.round,
                    division: route.division, procedure: decision.procedure, route: planned, position: last,
                    assignee: candidates.isEmpty ? nil : candidates[Int(turn % Int64(candidates.count))],
                    enteredAt: now, dueAt: stageDue(quota: planned[last].quota, at: now)))
            }
            let inserted = try StageStore.enter(entries, department: department, in: tx)
            let events = try inserted.map { index in
                let entry = entries[index]
                return try stageEvent(
                    dossierId: entry.dossierId, step: entry.step, round: entry.round, action: "assign",
                    stage: entry.route[entry.position].id, assignee: entry.assignee, official: nil, reason: nil,
                    dueAt: entry.dueAt,
                    cause: StableID.make("stage-entry", entry.dossierId, String(entry.step), String(entry.round)),
                    at: now)
            }
            try OutboxWriter.write(events, source: outboxSource, limits: topics.messageSizeLimits, into: tx)
        }
    }

    /// An official's stage action (``StageMachine``): the step moves, the slip gets a line, a `stage-moved` event
    /// says so; or a `command-rejected` event says why not, and nothing changes.
    func applyStage(
        _ command: StageCommand, principal: Principal?, registry: OfficialRegistry, at now: Date,
        into tx: PostgresConnection, outbox: inout [OutboxMessage], report: inout BatchReport, encoder: JSONEncoder
    ) throws {
        func reject(_ refusal: CommandRefusal, round: Int? = nil) throws {
            try rejectCommand(
                refusal, dossierId: command.dossierId, step: command.step, round: round, cause: command.commandId,
                official: principal?.id, at: now, outbox: &outbox, report: &report, encoder: encoder)
        }
        // Stage actions are checked against the registry's roles: without a signer there is nobody to check.
        guard let principal else { return try reject(.unsigned) }
        if let refusal = Self.namedSigner(command.official.id, principal) { return try reject(refusal) }
        guard let current = try StageStore.current(command.dossierId, step: command.step, in: tx),
            current.closedAt == nil
        else {
            return try reject(.stale("the dossier step is at no open stage of \(department)"))
        }
        guard current.round == command.round else {
            return try reject(.stale("the command acts on round \(command.round); round \(current.round) is open now"),
                              round: current.round)
        }
        guard try !isWithdrawn(command.dossierId, in: tx) else {
            return try reject(.stale("the applicant has withdrawn the dossier"), round: current.round)
        }
        let move: StageMove
        switch StageMachine.check(
            command.action, by: principal, stage: command.stage, to: command.to, reason: command.reason,
            state: current.state, department: department, procedure: current.procedure, registry: registry, at: now)
        {
        case .failure(let refusal): return try reject(refusal, round: current.round)
        case .success(let found): move = found
        }
        let target = current.state.route[move.position]
        let candidates = StageMachine.candidates(
            role: target.role, division: current.division, department: department, registry: registry, at: now)
        var assignee = move.assignee
        if command.action == .assign {
            // A leader assigns within the stage's division (a director: any of the department's divisions); the
            // receiver is one the rules would assign it to in turn (``StageMachine/candidates``).
            if principal.role == .headOfDivision, principal.division != current.division {
                return try reject(
                    .roleNotAllowed(
                        principal.role,
                        "assign stages of division \(current.division) (a head of division assigns in their own)"),
                    round: current.round)
            }
            guard let named = command.to, candidates.contains(named) else {
                return try reject(
                    .roleNotAllowed(
                        command.to.flatMap { registry.principals[$0]?.role } ?? principal.role,
                        "receive stage '\(target.id)' (\(target.role.rawValue)) of division \(current.division)"),
                    round: current.round)
            }
        } else if command.action == .propose || command.action == .approve, let named = command.to {
            guard candidates.contains(named) else {
                return try reject(
                    .roleNotAllowed(
                        registry.principals[named]?.role ?? principal.role,
                        "receive stage '\(target.id)' (\(target.role.rawValue)) of division \(current.division)"),
                    round: current.round)
            }
            assignee = named
        } else if assignee == nil, !candidates.isEmpty {
            let turn = try StageStore.turns(1, in: tx)[0]
            assignee = candidates[Int(turn % Int64(candidates.count))]
        }
        let stageFinished = command.action == .propose || command.action == .approve || command.action == .return
        let keepsStage = command.action == .transfer || command.action == .assign
        let dueAt = keepsStage ? current.dueAt : stageDue(quota: target.quota, at: now)
        // An assignment hands nothing over from the assigner: whoever sent the stage still may recall it, and a
        // return still goes back to them.
        let sender = command.action == .assign ? current.state.sender : command.action == .recall ? nil : principal.id
        let senderPosition =
            command.action == .assign ? current.state.senderPosition
            : command.action == .recall ? nil : current.state.position
        try StageStore.handOver(
            current, action: command.action.rawValue, actor: principal.id, actedAs: move.actedAs, to: move.position,
            assignee: assignee, sender: sender, senderPosition: senderPosition,
            dueAt: dueAt, reason: command.reason,
            verdict: stageFinished ? StagePlan.verdict(due: current.dueAt, finishedAt: now) : nil, closed: false,
            at: now, in: tx)
        outbox.append(try stageEvent(
            dossierId: command.dossierId, step: command.step, round: current.round, action: command.action.rawValue,
            stage: target.id, assignee: assignee, official: principal.id, reason: command.reason, dueAt: dueAt,
            cause: command.commandId, at: now))
        report.outcomes["stage-\(command.action.rawValue)", default: 0] += 1
        report.processed += 1
    }

    /// The signature (at the last stage, or earlier by a director acting as a leader, `actedAs`): the slip's last
    /// line, the stage closed.
    func closeStage(
        _ current: StageStore.Current, decision: SignCommand.Decision, signer: String, actedAs: StageRole?, cause: UUID,
        at now: Date,
        into tx: PostgresConnection, outbox: inout [OutboxMessage], encoder: JSONEncoder
    ) throws {
        let action = decision == .approve ? "sign" : "refuse"
        try StageStore.handOver(
            current, action: action, actor: signer, actedAs: actedAs, to: current.state.position, assignee: nil,
            sender: signer, senderPosition: nil, dueAt: current.dueAt, reason: nil,
            verdict: StagePlan.verdict(due: current.dueAt, finishedAt: now), closed: true, at: now, in: tx)
        outbox.append(try stageEvent(
            dossierId: current.dossierId, step: current.step, round: current.round, action: action,
            stage: current.state.stage.id, assignee: nil, official: signer, reason: nil, dueAt: current.dueAt,
            cause: cause, at: now))
    }

    /// The working days of this department's step of `procedure` starting `now`.
    func stepWorkingDays(procedure code: String, at now: Date) -> Int {
        guard let procedure = bundle.catalogue.procedure(code) else { return 1 }
        let limit = procedure.step(of: department)?.timeLimit ?? procedure.timeLimit
        return (try? StagePlan.stepWorkingDays(limit: limit, startedAt: now, calendar: bundle.calendar)) ?? limit.value
    }

    /// When a stage of `quota` working days entered `now` is due (beyond the loaded calendar: calendar days).
    func stageDue(quota: Int, at now: Date) -> Date {
        (try? StagePlan.dueInstant(quota: quota, startedAt: now, calendar: bundle.calendar))
            ?? now.addingTimeInterval(Double(max(1, quota)) * 86_400)
    }

    func stageEvent(
        dossierId: String, step: Int, round: Int, action: String, stage: String, assignee: String?, official: String?,
        reason: String?, dueAt: Date, cause: UUID, at now: Date
    ) throws -> OutboxMessage {
        let event = DossierEvent(
            eventId: StableID.make("event", DossierEvent.Kind.stageMoved.rawValue, action, StableID.text(of: cause)),
            dossierId: dossierId, code: nil, type: .stageMoved, department: department, step: step, round: round,
            at: now,
            data: DossierEvent.Data(
                reason: reason, official: official, action: action, stage: stage, assignee: assignee, dueAt: dueAt))
        return OutboxMessage(
            eventId: event.eventId, topic: topics.events, key: dossierId, type: MessageType.event,
            payload: MessageCoding.encode(event))
    }
}
