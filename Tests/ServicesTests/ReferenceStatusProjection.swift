import Authority
import EffectivelyOnce
import Foundation
import Kafka
import Logging
import Messages
import Operations
import Postgres
import Services
import Store

/// The status projection as it was before it applied batches by sets: one statement after another per event
/// (``ProjectionStore`` and ``DeadlineStore``'s per-event statements). Test-only: the readable reference that
/// `ProjectionDifferentialTests` checks ``StatusProjection`` against, event by event. A new event kind is added
/// here first, then to ``ProjectionRows`` and ``StatusProjection``.
final class ReferenceStatusProjection: BatchWriter {
    static let consumerName = StatusProjection.consumerName

    let calendar: WorkingCalendar
    let policy: DeadlinePolicy
    let recipients: EscalationRecipients
    let logger: Logger
    var outboxSource: String { "coordinator" }

    /// The system's topic names (the escalations it publishes). Default: production names.
    let topics: Topics
    /// The portal records and notification intents of the events applied (the same components as the projection's).
    let portal: PortalSync
    let notifications: NotificationIntents

    init(
        calendar: WorkingCalendar, policy: DeadlinePolicy, recipients: EscalationRecipients, topics: Topics = Topics(),
        catalogue: Catalogue? = nil, logger: Logger
    ) {
        self.topics = topics
        self.portal = PortalSync(topics: topics, catalogue: catalogue)
        self.notifications = NotificationIntents(topics: topics)
        self.calendar = calendar
        self.policy = policy
        self.recipients = recipients
        self.logger = logger
    }

    func prepare(_ connection: PostgresConnection) throws {}

    func write(_ messages: [KafkaMessage], into tx: PostgresConnection) throws -> BatchReport {
        var report = BatchReport()
        var outbox: [OutboxMessage] = []
        var events: [DossierEvent] = []
        let decoder = MessageCoding.decoder()
        let encoder = MessageCoding.encoder()
        for message in messages {
            do {
                events.append(try decoder.decode(DossierEvent.self, from: Data(message.value)))
            } catch {
                outbox.append(.deadLetter(of: message, error: "not a dossier event: \(error)", consumer: Self.consumerName))
                report.deadLetters += 1
            }
        }
        let fresh = try claim(events, in: tx)
        var applied: [DossierEvent] = []
        for event in events where fresh.contains(event.eventId) {
            outbox += try apply(event, in: tx, encoder: encoder)
            applied.append(event)
            report.outcomes[event.type.rawValue, default: 0] += 1
            report.processed += 1
        }
        report.skippedDuplicates += events.count - report.processed
        outbox += try portal.records(for: applied, in: tx, encoder: encoder)
        outbox += try notifications.messages(for: applied, encoder: encoder)
        try OutboxWriter.write(outbox, source: outboxSource, into: tx)
        return report
    }

    /// Records the batch's event ids as processed; returns those not seen before.
    private func claim(_ events: [DossierEvent], in tx: PostgresConnection) throws -> Set<UUID> {
        try ProjectionStore.claim(events.map(\.eventId), consumer: Self.consumerName, in: tx)
    }

    /// Applies one event; returns what it publishes on the `escalations` topic.
    func apply(_ event: DossierEvent, in tx: PostgresConnection, encoder: JSONEncoder) throws -> [OutboxMessage] {
        let id = event.dossierId
        let deadlines = try DeadlineStore.load(id, in: tx)
        let step = event.step ?? 0
        let dueDate = event.data.dueDate.flatMap { LocalDate($0) }
        var status = Status(event.type.rawValue, at: event.at)
        var from: String? = event.department?.rawValue
        var to: String? = event.department?.rawValue
        var out: [OutboxMessage] = []
        switch event.type {
        case .received:
            status.code = event.code
            status.procedure = event.data.procedure
            status.department = event.department
            status.step = step
            status.receivedAt = event.at
            status.dueDate = dueDate
            from = "reception"
            if let dueDate {
                try DeadlineStore.open(
                    id, step: DeadlineKind.overallStep, kind: .overall, department: event.department,
                    procedure: event.data.procedure, schedule: policy.schedule(due: dueDate, kind: .overall, calendar: calendar),
                    at: event.at, in: tx)
            }
        case .intakeIncomplete, .intakeRefused:
            status.code = event.code
            status.procedure = event.data.procedure
            from = "reception"
            to = nil
        case .assigned:
            status.department = event.department
            status.step = step
            status.stepDueDate = dueDate
            from = "reception"
            if let dueDate {
                try DeadlineStore.open(
                    id, step: step, kind: .step, department: event.department, procedure: event.data.procedure,
                    schedule: policy.schedule(due: dueDate, kind: .step, calendar: calendar), at: event.at, in: tx)
            }
        case .prepared, .signatureRejected, .withdrawalRejected, .stepRejected, .supplementRejected, .commandRejected,
            .stageMoved, .paymentRejected, .rated, .complaintRecorded, .feedbackRejected, .drafted, .draftReturned:
            if event.type != .prepared { status.status = nil }
            to = event.department?.rawValue
            if event.type == .stageMoved, let department = event.department {
                switch StageDeadlineStore.Movement(event, calendar: calendar) {
                case .none: break
                case .close: try StageDeadlineStore.close(id, step: step, at: event.at, in: tx)
                case .move(let stage, let deadline):
                    try StageDeadlineStore.move(
                        id, step: step, round: event.round ?? 0, department: department.rawValue, stage: stage,
                        deadline: deadline, paused: Self.pausedSince(deadlines) != nil, at: event.at, in: tx)
                }
            }
        case .decided:
            status.outcome = event.data.outcome
            status.decidedAt = event.at
            try DeadlineStore.close(id, steps: nil, at: event.at, in: tx)
            try closeEscalations(id, by: "decided", at: event.at, in: tx)
            try StageDeadlineStore.close(id, step: nil, at: event.at, in: tx)
            to = nil
        case .withdrawn:
            // Not decided, so neither on time nor late: the deadlines close uncounted.
            from = "applicant"
            to = nil
            try DeadlineStore.close(id, steps: nil, at: event.at, counted: false, in: tx)
            try closeEscalations(id, by: "withdrawn", at: event.at, in: tx)
            try StageDeadlineStore.close(id, step: nil, at: event.at, in: tx)
        case .resultReturned:
            from = "one-stop desk"
            to = "applicant"
            try DeadlineStore.close(id, steps: nil, at: event.at, in: tx)
            try closeEscalations(id, by: "result-returned", at: event.at, in: tx)
            try StageDeadlineStore.close(id, step: nil, at: event.at, in: tx)
        case .supplementRequested:
            to = "applicant"
            try ProjectionStore.pause(id, at: event.at, in: tx)
            if deadlines.values.contains(where: { $0.status == "paused" || ($0.status == "open" && $0.kind != .authority) }) {
                try StageDeadlineStore.pause(id, in: tx)
            }
        case .supplemented:
            from = "applicant"
            status.status = "in-review"
            try StageDeadlineStore.close(id, step: step, beforeRound: event.round ?? 0, at: event.at, in: tx)
            for deadline in deadlines.values where deadline.status == "paused" {
                try resume(id, deadline, at: event.at, in: tx)
            }
            if let since = Self.pausedSince(deadlines) {
                try StageDeadlineStore.resume(id, since: since, at: event.at, calendar: calendar, in: tx)
            }
        case .feeRequested:
            // The financial obligation pauses the clock like a supplement request (issue 21).
            to = "applicant"
            try ProjectionStore.pause(id, at: event.at, in: tx)
            if deadlines.values.contains(where: { $0.status == "paused" || ($0.status == "open" && $0.kind != .authority) }) {
                try StageDeadlineStore.pause(id, in: tx)
            }
        case .feePaid:
            from = "payment gateway"
            for deadline in deadlines.values where deadline.status == "paused" {
                try resume(id, deadline, at: event.at, in: tx)
            }
            if let since = Self.pausedSince(deadlines) {
                try StageDeadlineStore.resume(id, since: since, at: event.at, calendar: calendar, in: tx)
            }
        case .forwarded:
            let next = step + 1
            to = event.data.forwardTo?.rawValue
            status.department = event.data.forwardTo
            status.step = next
            status.stepDueDate = dueDate
            try DeadlineStore.close(id, steps: [step], at: event.at, in: tx)
            if let dueDate, let target = event.data.forwardTo {
                try DeadlineStore.open(
                    id, step: next, kind: .step, department: target, procedure: event.data.procedure,
                    schedule: policy.schedule(due: dueDate, kind: .step, calendar: calendar), at: event.at, in: tx)
            }
            try ProjectionStore.moveDeadline(id, step: DeadlineKind.overallStep, to: event.data.forwardTo, in: tx)
        case .draftSent:
            status.status = nil
        case .apologyIssued:
            let recorded = try ApologyStore.issued([id], in: tx)[id]?[step]
            let deadline = deadlines[step]
            guard ApologyMove.isRecorded(event, recorded: recorded, department: deadline?.department) else { return [] }
            status.status = nil
            to = "applicant"
            if let moved = try ApologyMove.move(
                event, status: deadline?.status, dueDate: deadline?.dueDate, kind: deadline?.kind,
                department: deadline?.department, recorded: recorded,
                policy: policy, calendar: calendar, topics: topics, encoder: encoder)
            {
                if moved.paused {
                    try ApologyStore.movePaused(id, step: step, to: moved.schedule.dueDate, schedule: moved.schedule, in: tx)
                } else {
                    try DeadlineStore.reschedule(id, step: step, schedule: moved.schedule, fired: 0, in: tx)
                }
                if step == DeadlineKind.overallStep {
                    try ProjectionStore.setDueDate(id, moved.schedule.dueDate, in: tx)
                } else {
                    status.stepDueDate = moved.schedule.dueDate
                }
                out += moved.messages
            }
        case .apologyRejected:
            status.status = nil
        case .stopped:
            to = "applicant"
            try DeadlineStore.close(id, steps: nil, at: event.at, counted: false, in: tx)
            try closeEscalations(id, by: "stopped", at: event.at, in: tx)
            try StageDeadlineStore.close(id, step: nil, at: event.at, in: tx)
        case .escalatedAuthority:
            to = Catalogue.delegatorId.rawValue
            status.department = Catalogue.delegatorId
            out.append(try escalateAuthority(event, step: step, in: tx, encoder: encoder))
            try DeadlineStore.close(id, steps: [step], at: event.at, in: tx)
        }
        let stepDue = deadlines[step]?.dueDate ?? (event.type == .assigned || event.type == .received ? dueDate : nil)
        try DeadlineStore.timeline(
            id, eventId: event.eventId, type: event.type.rawValue, step: event.step, at: event.at, from: from, to: to,
            due: stepDue, detail: event.data.reason ?? event.data.escalationReason?.rawValue, in: tx)
        try ProjectionStore.upsert(id, status, in: tx)
        return out
    }

    /// Since when the dossier's clock is paused (its earliest paused deadline's start), nil when it runs.
    static func pausedSince(_ deadlines: [Int: DeadlineRow]) -> Date? {
        deadlines.values.filter { $0.status == "paused" }.compactMap(\.pausedSince).min()
    }

    /// Closes the dossier's open escalations: it was decided, withdrawn, or its result returned.
    private func closeEscalations(_ id: String, by cause: String, at: Date, in tx: PostgresConnection) throws {
        try ProjectionStore.closeEscalations(id, by: cause, at: at, in: tx)
    }

    /// Ends a pause: the due date moves by the working days paused (from the local day the pause started,
    /// inclusive, to the day it ended, exclusive — as ``WorkingCalendar/dueDate(receivedAt:limit:pauses:)`` counts).
    private func resume(_ id: String, _ deadline: DeadlineRow, at: Date, in tx: PostgresConnection) throws {
        let paused = DeadlinePolicy.pausedWorkingDays(since: deadline.pausedSince ?? at, until: at, calendar: calendar)
        let due = DeadlinePolicy.moved(deadline.dueDate, byWorkingDays: paused, calendar: calendar)
        try DeadlineStore.reschedule(
            id, step: deadline.step, schedule: policy.schedule(due: due, kind: deadline.kind, calendar: calendar),
            fired: deadline.fired, pausedDays: paused, in: tx)
        try ProjectionStore.endPause(id, step: deadline.step, at: at, workingDays: paused, in: tx)
        if deadline.step == DeadlineKind.overallStep {
            try ProjectionStore.setDueDate(id, due, in: tx)
        } else {
            try ProjectionStore.setStepDueDate(id, step: deadline.step, due, in: tx)
        }
    }

    /// Opens the level-2 authority escalation and its deadline (the delegator's answer).
    private func escalateAuthority(
        _ event: DossierEvent, step: Int, in tx: PostgresConnection, encoder: JSONEncoder
    ) throws -> OutboxMessage {
        let reason = event.data.escalationReason?.rawValue ?? "outside-delegation"
        let start = (try? calendar.effectiveReceiptDay(event.at)) ?? DeadlinePolicy.localDay(event.at)
        let due = (try? calendar.addWorkingDays(policy.authorityWorkingDays, to: start))
            ?? start.adding(days: policy.authorityWorkingDays)
        try ProjectionStore.openAuthorityEscalation(
            event.dossierId, step: step, reason: reason, department: event.department, recipient: recipients.delegator,
            at: event.at, in: tx)
        try DeadlineStore.open(
            event.dossierId, step: DeadlineKind.authorityStep, kind: .authority, department: Catalogue.delegatorId,
            procedure: event.data.procedure, schedule: policy.schedule(due: due, kind: .authority, calendar: calendar),
            at: event.at, in: tx)
        let message = CoordinatorEvent(
            eventId: StableID.make("coordinator", "escalated-authority", event.eventId.uuidString),
            dossierId: event.dossierId, type: .escalatedAuthority, step: step, department: event.department,
            dueDate: due.description, level: 2, recipient: recipients.delegator, reason: reason, at: event.at)
        return try message.outboxMessage(topics: topics, encoder: encoder)
    }

    typealias Status = ProjectionStore.StatusChange
}
