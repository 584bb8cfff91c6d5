import Authority
import EffectivelyOnce
import Foundation
import Kafka
import Messages
import Operations
import Postgres
import Store

/// An apology slip: the department foresees it will be late, says why, and gives one new date.
public struct ApologySlip: Sendable, Hashable {
    public var dossierId: String
    /// The deadline's step (≥ 0), or -1 for the whole procedure.
    public var step: Int
    public var reason: String
    public var newDate: LocalDate
    /// The official who issues it.
    public var issuedBy: String?

    public init(dossierId: String, step: Int, reason: String, newDate: LocalDate, issuedBy: String? = nil) {
        self.dossierId = dossierId
        self.step = step
        self.reason = reason
        self.newDate = newDate
        self.issuedBy = issuedBy
    }
}

/// Why an apology slip was refused.
public struct ApologyError: Error, CustomStringConvertible, Sendable, Equatable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        public var description: String { name }
        /// No open or paused deadline for this dossier step.
        public static let noOpenDeadline = Code(name: "no open deadline")
        /// The due date has come: a slip must be issued before it.
        public static let tooLate = Code(name: "too late")
        /// This step already has its one apology slip.
        public static let alreadyIssued = Code(name: "already issued")
        /// The new date is not after the current due date.
        public static let notLater = Code(name: "new date not later")
    }

    public var code: Code
    /// The due date in force when the slip was refused.
    public var dueDate: LocalDate?

    public init(code: Code, dueDate: LocalDate? = nil) {
        self.code = code
        self.dueDate = dueDate
    }

    public var description: String {
        switch code {
        case .noOpenDeadline: "no open deadline for this dossier step: check the dossier id and step"
        case .tooLate: "an apology slip must be issued before the due date (\(dueDate?.description ?? "?")); escalate instead"
        case .alreadyIssued: "this dossier step already has its apology slip; only one is allowed"
        default: "the new date must be after the current due date (\(dueDate?.description ?? "?"))"
        }
    }
}

/// Records apology slips: at most one per dossier step, before its due date; the deadline moves to the new date.
public struct ApologyDesk: Sendable {
    public let calendar: WorkingCalendar
    public let policy: DeadlinePolicy
    /// The outbox source of `apology-issued` messages. Default: `coordinator-timer` (the timer's relay).
    public var outboxSource = "coordinator-timer"
    /// The system's topic names (the escalations it publishes). Default: production names.
    public var topics = Topics()

    public init(calendar: WorkingCalendar, policy: DeadlinePolicy) {
        self.calendar = calendar
        self.policy = policy
    }

    /// Records `slip` at `now` in one transaction: the apology row, the moved deadline (its levels re-armed for
    /// the new date), the timeline entry and the `apology-issued` message. Throws ``ApologyError`` when refused.
    @discardableResult
    public func issue(_ slip: ApologySlip, at now: Date, on connection: PostgresConnection) throws -> CoordinatorEvent {
        try connection.transaction { tx in
            guard let deadline = try DeadlineStore.load(slip.dossierId, in: tx)[slip.step], deadline.status != "closed"
            else { throw ApologyError(code: .noOpenDeadline) }
            guard DeadlinePolicy.localDay(now) < deadline.dueDate else {
                throw ApologyError(code: .tooLate, dueDate: deadline.dueDate)
            }
            guard slip.newDate > deadline.dueDate else { throw ApologyError(code: .notLater, dueDate: deadline.dueDate) }
            let inserted = try ApologyStore.record(
                slip.dossierId, step: slip.step, reason: slip.reason, previousDate: deadline.dueDate,
                newDate: slip.newDate, issuedBy: slip.issuedBy, at: now, in: tx)
            guard inserted else { throw ApologyError(code: .alreadyIssued, dueDate: deadline.dueDate) }
            let schedule = policy.schedule(due: slip.newDate, kind: deadline.kind, calendar: calendar)
            if deadline.status == "paused" {
                try ApologyStore.movePaused(slip.dossierId, step: slip.step, to: slip.newDate, schedule: schedule, in: tx)
            } else {
                try DeadlineStore.reschedule(slip.dossierId, step: slip.step, schedule: schedule, fired: 0, in: tx)
            }
            let event = CoordinatorEvent(
                eventId: StableID.make("coordinator", "apology-issued", slip.dossierId, String(slip.step)),
                dossierId: slip.dossierId, type: .apologyIssued, step: slip.step, department: deadline.department,
                dueDate: deadline.dueDate.description, reason: slip.reason, newDate: slip.newDate.description, at: now)
            try DeadlineStore.timeline(
                slip.dossierId, eventId: event.eventId, type: event.type.rawValue, step: slip.step, at: now,
                from: deadline.department?.rawValue, to: "applicant", due: deadline.dueDate, detail: slip.reason, in: tx)
            try ApologyStore.moveProjectedDate(
                slip.dossierId, overall: slip.step == DeadlineKind.overallStep, to: slip.newDate, in: tx)
            var messages = [try event.outboxMessage(topics: topics, encoder: MessageCoding.encoder())]
            if slip.step == DeadlineKind.overallStep {
                // The applicant is told of the new appointment date (issue 21): the dossier and dates, no contact.
                let intent = NotificationIntent(
                    intentId: StableID.make("notification", NotificationIntent.Kind.apology.rawValue, event.eventId.uuidString),
                    dossierId: slip.dossierId, intent: .apology,
                    values: ["dueDate": deadline.dueDate.description, "newDate": slip.newDate.description, "reason": slip.reason],
                    at: now)
                messages.append(OutboxMessage(
                    eventId: intent.intentId, topic: topics.notifications, key: slip.dossierId,
                    type: MessageType.notification, payload: Array(try MessageCoding.encoder().encode(intent))))
            }
            try OutboxWriter.write(messages, source: outboxSource, limits: topics.messageSizeLimits, into: tx)
            return event
        }
    }
}
