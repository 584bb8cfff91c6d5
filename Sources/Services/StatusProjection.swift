import Authority
import EffectivelyOnce
import Foundation
import Kafka
import Logging
import Messages
import Operations
import Postgres
import Store

/// The coordinator's batch writer over `dossier.events`: keeps `dossier_status`, the `dossier_timeline` and the
/// `deadlines` (opened, paused, resumed, moved, closed), and opens authority escalations.
///
/// Effectively once: the batch commits with its offsets (``EffectivelyOnceConsumer``), and an event id already in
/// `processed_events` (a republished event) is skipped. Events of one dossier share a key, hence a partition,
/// hence arrive in order.
///
/// A batch is applied by sets (``write(_:staged:into:)``): a few statements per batch, whatever its size, instead of
/// several per event. `ProjectionDifferentialTests` checks it against the per-event reference it replaced.
public final class StatusProjection: BatchWriter {
    /// The `processed_events` consumer name and the default consumer group.
    public static let consumerName = "motcua.coordinator"

    public let calendar: WorkingCalendar
    public let policy: DeadlinePolicy
    public let recipients: EscalationRecipients
    let logger: Logger
    public var outboxSource: String { "coordinator" }

    /// The system's topic names (the escalations it publishes). Default: production names.
    public let topics: Topics
    /// The national portal records of each batch (a separate component, called once per batch).
    public let portal: PortalSync
    /// The citizens' notification intents of each batch (a separate component, called once per batch).
    public let notifications: NotificationIntents

    /// `catalogue` gives the portal records their agency code (nil: none).
    public init(
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

    public func prepare(_ connection: PostgresConnection) throws {
        try DatabaseSchema.checkTopicPrefix(topics.prefix, on: connection)
    }

    /// The batch's events decoded (and the messages that are none, as dead letters), off the transaction.
    struct Decoded: Sendable {
        var events: [DossierEvent] = []
        var deadLetters: [OutboxMessage] = []
    }

    public func stage(_ messages: [KafkaMessage]) -> (any Sendable)? { decode(messages) }

    func decode(_ messages: [KafkaMessage]) -> Decoded {
        var decoded = Decoded()
        decoded.events.reserveCapacity(messages.count)
        let decoder = MessageCoding.decoder()
        for message in messages {
            do {
                decoded.events.append(try decoder.decode(DossierEvent.self, from: Data(message.value)))
            } catch {
                decoded.deadLetters.append(
                    .deadLetter(of: message, error: "not a dossier event: \(error)", consumer: Self.consumerName))
            }
        }
        return decoded
    }

    public func write(_ messages: [KafkaMessage], into tx: PostgresConnection) throws -> BatchReport {
        try write(messages, staged: nil, into: tx)
    }

    /// Applies the batch by sets: claims its event ids (one statement), reads the rows of its dossiers (one
    /// statement per table, the deadlines locked), applies each fresh event in order in memory, and writes back what
    /// changed (one statement per table) — in the consumer's transaction.
    public func write(
        _ messages: [KafkaMessage], staged: (any Sendable)?, into tx: PostgresConnection
    ) throws -> BatchReport {
        var report = BatchReport()
        let decoded = (staged as? Decoded) ?? decode(messages)
        let events = decoded.events
        var outbox = decoded.deadLetters
        report.deadLetters = decoded.deadLetters.count
        let encoder = MessageCoding.encoder()
        let fresh = try claim(events, in: tx)
        // Each event id once, even when the batch itself holds it twice (a redelivery next to the original).
        var applied = Set<UUID>()
        let batch = events.filter { fresh.contains($0.eventId) && applied.insert($0.eventId).inserted }
        var seenDossiers = Set<String>()
        var rows = try ProjectionRows.load(
            batch.map(\.dossierId).filter { seenDossiers.insert($0).inserted }, in: tx)
        // The recorded apologies an `apology-issued` must match to move a deadline (``ApologyMove``).
        var apologyDossiers = Set<String>()
        let apologies = try ApologyStore.issued(
            batch.filter { $0.type == .apologyIssued }.map(\.dossierId).filter { apologyDossiers.insert($0).inserted },
            in: tx)
        for event in batch {
            outbox += try apply(event, to: &rows, apologies: apologies, encoder: encoder)
            report.outcomes[event.type.rawValue, default: 0] += 1
            report.processed += 1
        }
        report.skippedDuplicates += events.count - report.processed
        try rows.write(in: tx)
        // After the rows are written: the portal's records read the dossiers' status as this batch leaves it.
        outbox += try portal.records(for: batch, in: tx, encoder: encoder)
        outbox += try notifications.messages(for: batch, encoder: encoder)
        try OutboxWriter.write(outbox, source: outboxSource, limits: topics.messageSizeLimits, into: tx)
        return report
    }

    /// Records the batch's event ids as processed; returns those not seen before.
    private func claim(_ events: [DossierEvent], in tx: PostgresConnection) throws -> Set<UUID> {
        try ProjectionStore.claim(events.map(\.eventId), consumer: Self.consumerName, in: tx)
    }

    /// Applies one event; returns what it publishes on the `escalations` topic.
    func apply(
        _ event: DossierEvent, to rows: inout ProjectionRows, apologies: [String: [Int: ApologyStore.Issued]] = [:],
        encoder: JSONEncoder
    ) throws -> [OutboxMessage] {
        let id = event.dossierId
        let deadlines = rows.deadlines[id] ?? [:]
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
                rows.open(
                    id, step: DeadlineKind.overallStep, kind: .overall, department: event.department,
                    procedure: event.data.procedure, schedule: policy.schedule(due: dueDate, kind: .overall, calendar: calendar),
                    at: event.at)
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
                rows.open(
                    id, step: step, kind: .step, department: event.department, procedure: event.data.procedure,
                    schedule: policy.schedule(due: dueDate, kind: .step, calendar: calendar), at: event.at)
            }
        case .prepared, .signatureRejected, .withdrawalRejected, .stepRejected, .supplementRejected, .commandRejected,
            .stageMoved, .paymentRejected, .rated, .complaintRecorded, .feedbackRejected, .drafted, .draftReturned:
            if event.type != .prepared { status.status = nil }
            to = event.department?.rawValue
            if event.type == .stageMoved { moveStage(event, step: step, in: &rows) }
        case .decided:
            status.outcome = event.data.outcome
            status.decidedAt = event.at
            rows.close(id, steps: nil, at: event.at)
            closeEscalations(id, by: "decided", at: event.at, in: &rows)
            rows.closeStages(id, step: nil, at: event.at)
            to = nil
        case .withdrawn:
            // Not decided, so neither on time nor late: the deadlines close uncounted.
            from = "applicant"
            to = nil
            rows.close(id, steps: nil, at: event.at, counted: false)
            closeEscalations(id, by: "withdrawn", at: event.at, in: &rows)
            rows.closeStages(id, step: nil, at: event.at)
        case .resultReturned:
            from = "one-stop desk"
            to = "applicant"
            rows.close(id, steps: nil, at: event.at)
            closeEscalations(id, by: "result-returned", at: event.at, in: &rows)
            rows.closeStages(id, step: nil, at: event.at)
        case .supplementRequested:
            to = "applicant"
            pause(id, at: event.at, in: &rows)
        case .supplemented:
            from = "applicant"
            status.status = "in-review"
            // The supplement opens a new round, decided afresh: the previous round's stage is over.
            rows.closeStages(id, step: step, beforeRound: event.round ?? 0, at: event.at)
            resumeAll(id, at: event.at, in: &rows)
        case .feeRequested:
            // The financial obligation pauses the clock like a supplement request (issue 21).
            to = "applicant"
            pause(id, at: event.at, in: &rows)
        case .feePaid:
            from = "payment gateway"
            resumeAll(id, at: event.at, in: &rows)
        case .forwarded:
            let next = step + 1
            to = event.data.forwardTo?.rawValue
            status.department = event.data.forwardTo
            status.step = next
            status.stepDueDate = dueDate
            rows.close(id, steps: [step], at: event.at)
            if let dueDate, let target = event.data.forwardTo {
                rows.open(
                    id, step: next, kind: .step, department: target, procedure: event.data.procedure,
                    schedule: policy.schedule(due: dueDate, kind: .step, calendar: calendar), at: event.at)
            }
            rows.moveDeadline(id, step: DeadlineKind.overallStep, to: event.data.forwardTo)
        case .draftSent:
            // Its effect is an event of its own (supplement requested, decided, apology issued, stopped).
            status.status = nil
        case .apologyIssued:
            // The department's worker recorded an apology (signed slip or approved draft): the deadline moves here,
            // where the deadlines are kept — when the event matches the department's recorded row (ApologyMove).
            // One that does not (a forged event) leaves no trace but its claimed id.
            let deadline = deadlines[step]
            let owner = deadline?.department.map(DepartmentID.init(rawValue:))
            guard ApologyMove.isRecorded(event, recorded: apologies[id]?[step], department: owner) else { return [] }
            status.status = nil
            to = "applicant"
            if let moved = try ApologyMove.move(
                event, status: deadline?.status, dueDate: deadline?.dueDate, kind: deadline?.kind,
                department: owner, recorded: apologies[id]?[step], policy: policy, calendar: calendar, topics: topics, encoder: encoder)
            {
                rows.moveForApology(id, step: step, schedule: moved.schedule, paused: moved.paused)
                if step == DeadlineKind.overallStep {
                    rows.setDueDate(id, moved.schedule.dueDate)
                } else {
                    status.stepDueDate = moved.schedule.dueDate
                }
                out += moved.messages
            }
        case .apologyRejected:
            status.status = nil
        case .stopped:
            // A stop notice (form 05) ends the dossier; not decided, so neither on time nor late.
            to = "applicant"
            rows.close(id, steps: nil, at: event.at, counted: false)
            closeEscalations(id, by: "stopped", at: event.at, in: &rows)
            rows.closeStages(id, step: nil, at: event.at)
        case .escalatedAuthority:
            to = Catalogue.delegatorId.rawValue
            status.department = Catalogue.delegatorId
            out.append(try escalateAuthority(event, step: step, rows: &rows, encoder: encoder))
            rows.close(id, steps: [step], at: event.at)
        }
        let stepDue = deadlines[step]?.dueDate ?? (event.type == .assigned || event.type == .received ? dueDate : nil)
        rows.timeline(
            id, eventId: event.eventId, type: event.type.rawValue, step: event.step, at: event.at, from: from, to: to,
            due: stepDue, detail: event.data.reason ?? event.data.escalationReason?.rawValue)
        rows.upsert(id, status)
        return out
    }

    /// A `stage-moved` event: the step's stage deadline follows it (migration 023); a signature or refusal closes it.
    private func moveStage(_ event: DossierEvent, step: Int, in rows: inout ProjectionRows) {
        guard let department = event.department else { return }
        switch StageDeadlineStore.Movement(event, calendar: calendar) {
        case .none: break
        case .close: rows.closeStages(event.dossierId, step: step, at: event.at)
        case .move(let stage, let deadline):
            rows.moveStage(
                event.dossierId, step: step, round: event.round ?? 0, department: department.rawValue, stage: stage,
                deadline: deadline, paused: rows.pausedSince(event.dossierId) != nil, at: event.at)
        }
    }

    /// Closes the dossier's open escalations: it was decided, withdrawn, or its result returned.
    private func closeEscalations(_ id: String, by cause: String, at: Date, in rows: inout ProjectionRows) {
        rows.closeEscalations(id, by: cause, at: at)
    }

    /// Pauses the dossier's clock (a supplement or a fee requested): its deadlines, and with them its open stage's
    /// (inside the department), stop running.
    private func pause(_ id: String, at: Date, in rows: inout ProjectionRows) {
        rows.pause(id, at: at)
        if rows.pausedSince(id) != nil { rows.pauseStages(id) }
    }

    /// Ends the dossier's pause: every paused deadline resumes (``resume(_:_:at:in:)``), and its open stage's
    /// deadline moves by the working days it was paused.
    private func resumeAll(_ id: String, at: Date, in rows: inout ProjectionRows) {
        guard let since = rows.pausedSince(id) else { return }
        for deadline in (rows.deadlines[id] ?? [:]).values where deadline.status == "paused" {
            resume(id, deadline, at: at, in: &rows)
        }
        rows.resumeStages(id, since: since, at: at, calendar: calendar)
    }

    /// Ends a pause: the due date moves by the working days paused (from the local day the pause started,
    /// inclusive, to the day it ended, exclusive — as ``WorkingCalendar/dueDate(receivedAt:limit:pauses:)`` counts).
    private func resume(_ id: String, _ deadline: ProjectionRows.Deadline, at: Date, in rows: inout ProjectionRows) {
        let paused = DeadlinePolicy.pausedWorkingDays(since: deadline.pausedSince ?? at, until: at, calendar: calendar)
        let due = DeadlinePolicy.moved(deadline.dueDate, byWorkingDays: paused, calendar: calendar)
        rows.reschedule(
            id, step: deadline.step, schedule: policy.schedule(due: due, kind: deadline.kind, calendar: calendar),
            fired: deadline.fired, pausedDays: paused)
        rows.endPause(id, step: deadline.step, at: at, workingDays: paused)
        if deadline.step == DeadlineKind.overallStep {
            rows.setDueDate(id, due)
        } else {
            rows.setStepDueDate(id, step: deadline.step, due)
        }
    }

    /// Opens the level-2 authority escalation and its deadline (the delegator's answer).
    private func escalateAuthority(
        _ event: DossierEvent, step: Int, rows: inout ProjectionRows, encoder: JSONEncoder
    ) throws -> OutboxMessage {
        let reason = event.data.escalationReason?.rawValue ?? "outside-delegation"
        let start = (try? calendar.effectiveReceiptDay(event.at)) ?? DeadlinePolicy.localDay(event.at)
        let due = (try? calendar.addWorkingDays(policy.authorityWorkingDays, to: start))
            ?? start.adding(days: policy.authorityWorkingDays)
        rows.openAuthorityEscalation(
            event.dossierId, step: step, reason: reason, department: event.department, recipient: recipients.delegator,
            at: event.at)
        rows.open(
            event.dossierId, step: DeadlineKind.authorityStep, kind: .authority, department: Catalogue.delegatorId,
            procedure: event.data.procedure, schedule: policy.schedule(due: due, kind: .authority, calendar: calendar),
            at: event.at)
        let message = CoordinatorEvent(
            eventId: StableID.make("coordinator", "escalated-authority", event.eventId.uuidString),
            dossierId: event.dossierId, type: .escalatedAuthority, step: step, department: event.department,
            dueDate: due.description, level: 2, recipient: recipients.delegator, reason: reason, at: event.at)
        return try message.outboxMessage(topics: topics, encoder: encoder)
    }

    typealias Status = ProjectionStore.StatusChange
}
