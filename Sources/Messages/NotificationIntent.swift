import Foundation

/// What the citizens' notification gateway should tell the applicant, on `notifications` (key: dossier id).
///
/// It names the dossier, the template (Vietnamese, `deploy/notifications/templates.yaml`) and the template's
/// values — never the receipt secret and never contact data: the gateway, outside MotCua, looks the applicant's
/// chosen channel and contact up itself.
public struct NotificationIntent: Codable, Sendable, Hashable {
    public enum Kind: String, Codable, Sendable, Hashable, CaseIterable {
        case received
        case supplementRequested = "supplement-requested"
        case decided
        case resultReady = "result-ready"
        case feeRequested = "fee-requested"
        /// An apology slip moved the appointment date (thư xin lỗi, hẹn lại ngày trả kết quả): `dueDate` the old
        /// date, `newDate` the new one, `reason`.
        case apology
    }

    /// Stable: derived from the event that caused it.
    public var intentId: UUID
    public var dossierId: String
    public var intent: Kind
    /// The template's id in `deploy/notifications/templates.yaml` (the intent's name).
    public var template: String
    /// The template's placeholders: `code`, `procedure`, `dueDate`, `documents`, `outcome`, `reason`, `amount`, `newDate`.
    public var values: [String: String]
    public var at: Date

    public init(intentId: UUID, dossierId: String, intent: Kind, values: [String: String], at: Date) {
        self.intentId = intentId
        self.dossierId = dossierId
        self.intent = intent
        self.template = intent.rawValue
        self.values = values
        self.at = at
    }

    /// The intents a lifecycle event gives (an approval is also a result ready to collect).
    public static func kinds(of event: DossierEvent) -> [Kind] {
        switch event.type {
        case .received: [.received]
        case .supplementRequested: [.supplementRequested]
        case .feeRequested: [.feeRequested]
        case .decided: event.data.outcome == .approve ? [.decided, .resultReady] : [.decided]
        default: []
        }
    }
}
