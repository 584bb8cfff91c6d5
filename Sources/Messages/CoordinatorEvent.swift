import Authority
import EffectivelyOnce
import Foundation
import Kafka

/// A message the coordinator publishes on the `escalations` topic (keyed by dossier id, through the outbox).
///
/// It carries no personal data: the dossier id, the step, departments, roles and dates.
public struct CoordinatorEvent: Codable, Sendable, Hashable {
    public enum Kind: String, Codable, Sendable, Hashable, CaseIterable {
        /// The due date is near (`--due-soon-days` working days).
        case dueSoon = "due-soon"
        /// The due instant passed; a step deadline also opens a level-1 escalation to the department head.
        case overdue
        /// Still not done `--level2-days` working days later: level-2 escalation to the delegator.
        case escalatedDeadline = "escalated-deadline"
        /// A worker found the case outside its delegation: escalation to the delegator, with its own deadline.
        case escalatedAuthority = "escalated-authority"
        /// An apology slip moved a due date.
        case apologyIssued = "apology-issued"
        /// Inside the department (issue 20): a stage of the step is due soon or overdue — level 1 to the head of the
        /// division, level 2 (still overdue a working day later) to the director. Never sent to the City.
        case stageEscalated = "stage-escalated"
    }

    public var eventId: UUID
    public var dossierId: String
    public var type: Kind
    /// The deadline's step: ≥ 0 a department step, -1 the whole procedure, -2 an authority escalation.
    public var step: Int
    public var department: DepartmentID?
    public var dueDate: String
    /// Escalation level (1 department head, 2 delegator), when this event escalates.
    public var level: Int?
    /// The role that receives the escalation.
    public var recipient: String?
    public var reason: String?
    /// The new due date of an apology slip.
    public var newDate: String?
    /// `stage-escalated`: the stage (its id in the department's workflow) and the division.
    public var stage: String?
    public var division: String?
    public var at: Date

    public init(
        eventId: UUID, dossierId: String, type: Kind, step: Int, department: DepartmentID?, dueDate: String,
        level: Int? = nil, recipient: String? = nil, reason: String? = nil, newDate: String? = nil,
        stage: String? = nil, division: String? = nil, at: Date
    ) {
        self.stage = stage
        self.division = division
        self.eventId = eventId
        self.dossierId = dossierId
        self.type = type
        self.step = step
        self.department = department
        self.dueDate = dueDate
        self.level = level
        self.recipient = recipient
        self.reason = reason
        self.newDate = newDate
        self.at = at
    }

    /// The CloudEvents type (`ce_type`) of this kind.
    public static func messageType(_ kind: Kind) -> String { "motcua.coordinator.\(kind.rawValue)" }

    package func outboxMessage(topics: Topics, encoder: JSONEncoder) throws -> OutboxMessage {
        OutboxMessage(
            eventId: eventId, topic: topics.escalations, key: dossierId, type: Self.messageType(type),
            payload: Array(try encoder.encode(self)))
    }
}

/// Who receives escalations: each department's head (level 1) and the delegator (level 2), as catalogue roles.
public struct EscalationRecipients: Sendable, Hashable {
    public var heads: [DepartmentID: String]
    public var delegator: String

    public init(heads: [DepartmentID: String], delegator: String) {
        self.heads = heads
        self.delegator = delegator
    }

    /// The roles of the catalogue's departments; the delegator is the head of `Catalogue.delegatorId`.
    public init(catalogue: Catalogue) {
        var heads: [DepartmentID: String] = [:]
        for department in catalogue.departments { heads[department.id] = department.head }
        self.init(heads: heads, delegator: heads[Catalogue.delegatorId] ?? Catalogue.delegatorId.rawValue)
    }

    /// The head of `department` (the department id itself when the catalogue does not name one).
    public func head(of department: DepartmentID?) -> String {
        guard let department else { return delegator }
        return heads[department] ?? department.rawValue
    }
}
