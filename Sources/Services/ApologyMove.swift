import Authority
import EffectivelyOnce
import Foundation
import Messages
import Store

/// The coordinator's side of an apology the department's worker recorded (`apology-issued` on dossier.events, from a
/// signed `motcua apology` or an approved apology draft, form 04): the deadline of the event's step (-1: the
/// appointment) moves to the new date and its timers re-arm for it (a paused deadline stays paused), an
/// `apology-issued` message says so on `escalations`, and for the appointment an `apology` notification intent tells
/// the applicant. The worker applied the rules (``ApologyRules``) at its batch instant; here the deadline moves only
/// while it is not closed and the new date is still later than its due date (a deadline closed meanwhile stays
/// closed). Shared by the status projection and the tests' reference projection, so both move it the same way.
///
/// The event alone is no proof: any department's login may write an outbox row of any type under its own source, so
/// a `apology-issued` naming another department's dossier reaches the coordinator as well as the worker's. The
/// deadline moves only when the event's department owns the deadline and the `apologies` row of that dossier step
/// (which only the deadline's department may insert, migration 028's guard) is that department's, recorded since 028,
/// for the event's new date. The step has one such row; once it moved the deadline, its date is no longer later, so a
/// second event (another id, the same row) moves nothing. The messages carry the row's reason, not the event's.
public enum ApologyMove {
    /// Whether `event` is an apology the deadline's department recorded: the event is that department's, and the
    /// step's `apologies` row is too (or, from before 028, the coordinator's, whose events were its own) and carries
    /// the event's new date. An event that is not (another department's login wrote it, or no row stands behind it)
    /// changes nothing in the projection — no deadline, no message, and no line on the dossier's timeline, which the
    /// applicant reads.
    package static func isRecorded(
        _ event: DossierEvent, recorded: ApologyStore.Issued?, department: DepartmentID?
    ) -> Bool {
        guard event.type == .apologyIssued, let recorded,
            let newDate = event.data.dueDate.flatMap(LocalDate.init), recorded.newDate == newDate
        else { return false }
        if recorded.before028 { return true }
        guard let owner = event.department, owner == department else { return false }
        return recorded.department == owner.rawValue
    }

    /// The new schedule, whether the deadline stays paused, the date it replaces and the messages; nil when the event
    /// is no recorded apology of the deadline's department or the deadline cannot move.
    package static func move(
        _ event: DossierEvent, status: String?, dueDate: LocalDate?, kind: DeadlineKind?, department: DepartmentID?,
        recorded: ApologyStore.Issued?, policy: DeadlinePolicy, calendar: WorkingCalendar, topics: Topics,
        encoder: JSONEncoder
    ) throws -> (schedule: DeadlineSchedule, paused: Bool, previous: LocalDate, messages: [OutboxMessage])? {
        guard isRecorded(event, recorded: recorded, department: department), let recorded, !recorded.before028,
            let step = event.step, let owner = event.department,
            let newDate = event.data.dueDate.flatMap(LocalDate.init), let status, status != "closed", let dueDate,
            let kind, newDate > dueDate
        else { return nil }
        let message = CoordinatorEvent(
            eventId: StableID.make("coordinator", "apology-issued", event.eventId.uuidString),
            dossierId: event.dossierId, type: .apologyIssued, step: step, department: owner,
            dueDate: dueDate.description, reason: recorded.reason, newDate: newDate.description, at: event.at)
        var messages = [try message.outboxMessage(topics: topics, encoder: encoder)]
        if step == DeadlineKind.overallStep {
            // The applicant is told of the new appointment date (issue 21): the dossier and dates, no contact data.
            let intent = NotificationIntent(
                intentId: StableID.make("notification", NotificationIntent.Kind.apology.rawValue, message.eventId.uuidString),
                dossierId: event.dossierId, intent: .apology,
                values: ["dueDate": dueDate.description, "newDate": newDate.description, "reason": recorded.reason],
                at: event.at)
            messages.append(OutboxMessage(
                eventId: intent.intentId, topic: topics.notifications, key: event.dossierId,
                type: MessageType.notification, payload: Array(try encoder.encode(intent))))
        }
        return (policy.schedule(due: newDate, kind: kind, calendar: calendar), status == "paused", dueDate, messages)
    }
}
