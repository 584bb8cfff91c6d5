import Authority
import EffectivelyOnce
import Foundation
import Messages

/// The coordinator's side of a sent apology draft (form 04, `draft-sent` with `data.action` `apology`): the
/// appointment date (the whole procedure's deadline) moves to the draft's new date when the deadline is open, its
/// due date has not come and the new date is later; the apology is recorded (`apologies`, with the date it replaced,
/// which the 766 progress rule keeps), an `apology-issued` message says so on `escalations` and an `apology`
/// notification intent tells the applicant. Shared by
/// the status projection and the tests' reference projection, so both move the same deadline the same way.
public enum ApologyDraft {
    /// The new schedule of the appointment and the `apology-issued` message, or nil when the event is no sent apology
    /// or the deadline cannot move (closed, paused, due already, not later).
    public static func move(
        _ event: DossierEvent, status: String?, dueDate: LocalDate?, kind: DeadlineKind?, department: DepartmentID?,
        policy: DeadlinePolicy, calendar: WorkingCalendar, topics: Topics, encoder: JSONEncoder
    ) throws -> (schedule: DeadlineSchedule, previous: LocalDate, messages: [OutboxMessage])? {
        guard event.type == .draftSent, event.data.action == DraftKind.apology.rawValue,
            let newDate = event.data.dueDate.flatMap(LocalDate.init), status == "open", let dueDate, let kind,
            DeadlinePolicy.localDay(event.at) < dueDate, newDate > dueDate
        else { return nil }
        let message = CoordinatorEvent(
            eventId: StableID.make("coordinator", "apology-issued", event.eventId.uuidString),
            dossierId: event.dossierId, type: .apologyIssued, step: DeadlineKind.overallStep, department: department,
            dueDate: dueDate.description, reason: event.data.reason, newDate: newDate.description, at: event.at)
        // The applicant is told of the new appointment date, as for an apology slip (issue 21): no contact data.
        let intent = NotificationIntent(
            intentId: StableID.make("notification", NotificationIntent.Kind.apology.rawValue, message.eventId.uuidString),
            dossierId: event.dossierId, intent: .apology,
            values: ["dueDate": dueDate.description, "newDate": newDate.description, "reason": event.data.reason ?? ""],
            at: event.at)
        return (policy.schedule(due: newDate, kind: kind, calendar: calendar), dueDate,
                [try message.outboxMessage(topics: topics, encoder: encoder),
                 OutboxMessage(
                    eventId: intent.intentId, topic: topics.notifications, key: event.dossierId,
                    type: MessageType.notification, payload: Array(try encoder.encode(intent)))])
    }
}
