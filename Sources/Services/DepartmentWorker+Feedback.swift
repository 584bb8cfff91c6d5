import Authority
import EffectivelyOnce
import Foundation
import Kafka
import Messages
import Postgres
import Store

/// Satisfaction (issue 21): the applicant's rating of a decided dossier and complaints about its handling, each
/// taken by a channel and signed by it (always, even before the registry of officials is in force).
extension DepartmentWorker {
    /// A rating (``MessageType/rate``) or a complaint (``MessageType/complain``): `command-rejected` for who signed
    /// it (not a channel: the portal's service key or a desk official), `feedback-rejected` for what it says;
    /// otherwise recorded with a `rated` or `complaint-recorded` event.
    func recordFeedback(
        _ message: KafkaMessage, type: String, at now: Date, registry: OfficialRegistry, into tx: PostgresConnection,
        outbox: inout [OutboxMessage], report: inout BatchReport, decoder: JSONDecoder, encoder: JSONEncoder
    ) throws {
        let header = try decoder.decode(SignedCommands.Header.self, from: Data(message.value))
        guard let principal = try authenticate(
            message, type: type, header: header, step: 0, at: now, registry: registry, outbox: &outbox,
            report: &report, encoder: encoder)
        else { return }
        if let refusal = registry.mayCarryApplicantCommand(principal) {
            return try rejectCommand(
                refusal, dossierId: header.dossierId, step: 0, round: nil, cause: header.commandId,
                official: principal.id, at: now, outbox: &outbox, report: &report, encoder: encoder)
        }
        func emit(_ kind: DossierEvent.Kind, _ reason: String?) throws {
            let event = DossierEvent(
                eventId: StableID.make("command-event", kind.rawValue, header.commandId.uuidString),
                dossierId: header.dossierId, code: nil, type: kind, department: department, step: 0, round: nil,
                at: now, data: DossierEvent.Data(reason: reason, official: principal.id))
            outbox.append(OutboxMessage(
                eventId: event.eventId, topic: topics.events, key: header.dossierId, type: MessageType.event,
                payload: Array(try encoder.encode(event))))
            report.outcomes[kind.rawValue, default: 0] += 1
        }
        guard try CommandStore.storedDossier(header.dossierId, in: tx) != nil else {
            return try emit(.feedbackRejected, "no-dossier: no dossier with this id was received by \(department)")
        }
        if type == MessageType.rate {
            let rating = try decoder.decode(Rating.self, from: Data(message.value))
            if let problem = rating.problem { return try emit(.feedbackRejected, "bad-scores: \(problem)") }
            // After the result: the dossier's last decision has taken effect (signed, or decided by the rules and
            // not waiting for its fee).
            guard let latest = try CommandStore.latestDecision(header.dossierId, in: tx),
                try hasTakenEffect(latest, dossierId: header.dossierId, in: tx)
            else {
                return try emit(.feedbackRejected, "not-decided: a dossier is rated after its result")
            }
            guard try FeedbackStore.recordRating(
                header.dossierId, department: department, scores: rating.scores, channel: principal.id,
                commandId: rating.commandId, at: now, in: tx)
            else { return try emit(.feedbackRejected, "already-rated: a dossier is rated once") }
            let scores = Rating.Criterion.allCases.map { "\($0.rawValue) \(rating.scores[$0.rawValue] ?? 0)" }
            try emit(.rated, scores.joined(separator: ", "))
        } else {
            let complaint = try decoder.decode(Complaint.self, from: Data(message.value))
            guard PaymentConfirmation.isValidReceipt(complaint.reference) else {
                return try emit(.feedbackRejected, "bad-reference: 1 to 64 letters, digits, '.', '_', '/' or '-'")
            }
            _ = try FeedbackStore.recordComplaint(
                header.dossierId, department: department, category: complaint.category.rawValue,
                reference: complaint.reference, channel: principal.id, commandId: complaint.commandId, at: now, in: tx)
            try emit(.complaintRecorded, complaint.category.rawValue)
        }
        report.processed += 1
    }
}
