import EffectivelyOnce
import Foundation
import Messages

/// The citizens' notification intents of a batch of dossier events, on `notifications`: one per intent per event
/// (``NotificationIntent/kinds(of:)``), in event order. Needs no database: the values come from the event itself.
///
/// A separate component the status projection calls once per batch, with the events it applied (a re-delivered
/// event is not applied twice, so it notifies once).
public struct NotificationIntents: Sendable {
    public let topics: Topics

    public init(topics: Topics) {
        self.topics = topics
    }

    public func messages(for events: [DossierEvent], encoder: JSONEncoder) throws -> [OutboxMessage] {
        var out: [OutboxMessage] = []
        for event in events {
            for kind in NotificationIntent.kinds(of: event) {
                var values: [String: String] = [:]
                values["code"] = event.code
                values["procedure"] = event.data.procedure
                values["dueDate"] = event.data.dueDate
                values["outcome"] = event.data.outcome?.rawValue
                values["reason"] = event.data.reason
                values["documents"] = event.data.documents?.joined(separator: ", ")
                values["amount"] = event.data.amount.map(String.init)
                let intent = NotificationIntent(
                    intentId: StableID.make("notification", kind.rawValue, event.eventId.uuidString),
                    dossierId: event.dossierId, intent: kind, values: values, at: event.at)
                out.append(
                    OutboxMessage(
                        eventId: intent.intentId, topic: topics.notifications, key: event.dossierId,
                        type: MessageType.notification, payload: Array(try encoder.encode(intent))))
            }
        }
        return out
    }
}
