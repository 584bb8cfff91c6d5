import Authority
import EffectivelyOnce
import Foundation
import Kafka

/// A dossier step sent to a department topic: the dossier, its code, and which step of its procedure this is.
public struct StepTask: Codable, Sendable, Hashable {
    public var taskId: UUID
    public var dossier: Dossier
    public var code: String
    public var step: Int
    public var round: Int
    /// The steps and rounds a worker takes (they are `int4` columns; the next step is `step + 1`).
    package static let positions = 0...Int(Int32.max - 1)
    public var department: DepartmentID
    public var receivedAt: Date
    /// The due date of this step (`YYYY-MM-DD`), for the coordinator and the citizen.
    public var dueDate: String?
    /// The catalogue version (`catalogue_versions`) reception received the dossier under: the next step's time
    /// limit is that version's (nil: received before versions were recorded; the worker's catalogue then).
    public var catalogueVersion: String?

    public init(
        taskId: UUID, dossier: Dossier, code: String, step: Int, round: Int = 0, department: DepartmentID, receivedAt: Date,
        dueDate: String?, catalogueVersion: String? = nil
    ) {
        self.catalogueVersion = catalogueVersion
        self.taskId = taskId
        self.dossier = dossier
        self.code = code
        self.step = step
        self.round = round
        self.department = department
        self.receivedAt = receivedAt
        self.dueDate = dueDate
    }
}

/// Who issued a command.
public struct Official: Codable, Sendable, Hashable {
    public var id: String
    public var department: DepartmentID
    public init(id: String, department: DepartmentID) {
        self.id = id
        self.department = department
    }
}

/// An official's signature on a prepared decision.
public struct SignCommand: Codable, Sendable, Hashable {
    public enum Decision: String, Codable, Sendable, Hashable {
        case approve, refuse

        /// The decision's outcome as the worker records it.
        public var outcome: Outcome {
            switch self {
            case .approve: .approve
            case .refuse: .refuse
            }
        }
    }
    public var commandId: UUID
    public var dossierId: String
    public var step: Int
    public var official: Official
    public var decision: Decision
    public var reason: String?
    public var at: Date
    /// The round the official saw (a later round, after a supplement, makes the command `stale`).
    public var round: Int?
    /// The outcome the rules prepared, as the official saw it.
    public var preparedOutcome: String?
    /// The rule version of the prepared decision the official saw.
    public var ruleVersion: String?
    /// The official's signature over the command (``CommandSignature``); required once the registry is in force.
    public var signature: CommandSignature?
    /// The electronic result file of an approval, when the department issues one (issue 21: digitisation).
    public var result: ResultReference?

    public init(
        commandId: UUID, dossierId: String, step: Int, official: Official, decision: Decision, reason: String?, at: Date,
        round: Int? = nil, preparedOutcome: String? = nil, ruleVersion: String? = nil
    ) {
        self.commandId = commandId
        self.dossierId = dossierId
        self.step = step
        self.official = official
        self.decision = decision
        self.reason = reason
        self.at = at
        self.round = round
        self.preparedOutcome = preparedOutcome
        self.ruleVersion = ruleVersion
    }
}

/// An official's request for more documents.
public struct SupplementRequest: Codable, Sendable, Hashable {
    public var commandId: UUID
    public var dossierId: String
    public var step: Int
    public var official: Official
    public var documents: [String]
    public var reason: String
    public var at: Date
    public var signature: CommandSignature?

    public init(commandId: UUID, dossierId: String, step: Int, official: Official, documents: [String], reason: String, at: Date) {
        self.commandId = commandId
        self.dossierId = dossierId
        self.step = step
        self.official = official
        self.documents = documents
        self.reason = reason
        self.at = at
    }
}

/// An official's stage action on a dossier step inside the department (``StageAction``), signed like every command.
public struct StageCommand: Codable, Sendable, Hashable {
    public var commandId: UUID
    public var dossierId: String
    public var step: Int
    /// The round the official saw.
    public var round: Int
    public var official: Official
    public var action: StageAction
    /// The stage the official saw the dossier at (another one makes the command `stale`).
    public var stage: String
    /// transfer: the receiving official; propose/approve: optionally, who receives the next stage.
    public var to: String?
    public var reason: String?
    public var at: Date
    public var signature: CommandSignature?

    public init(
        commandId: UUID, dossierId: String, step: Int, round: Int, official: Official, action: StageAction,
        stage: String, to: String? = nil, reason: String? = nil, at: Date
    ) {
        self.commandId = commandId
        self.dossierId = dossierId
        self.step = step
        self.round = round
        self.official = official
        self.action = action
        self.stage = stage
        self.to = to
        self.reason = reason
        self.at = at
    }
}

/// The applicant's supplement: documents (and facts) added to the dossier, which resumes it.
public struct ApplicantSupplement: Codable, Sendable, Hashable {
    public var commandId: UUID
    public var dossierId: String
    public var step: Int
    public var documents: [String]
    public var facts: [String: FactValue]?
    public var at: Date
    /// The signature of the channel that took the supplement (the portal's service key or a desk official's).
    public var signature: CommandSignature?

    public init(commandId: UUID, dossierId: String, step: Int, documents: [String], facts: [String: FactValue]? = nil, at: Date) {
        self.commandId = commandId
        self.dossierId = dossierId
        self.step = step
        self.documents = documents
        self.facts = facts
        self.at = at
    }
}

/// The applicant withdraws the dossier (sent to the department topic that holds it, so it is ordered with the
/// department's work on the dossier). Refused once the dossier is decided.
public struct Withdrawal: Codable, Sendable, Hashable {
    public var commandId: UUID
    public var dossierId: String
    public var reason: String?
    public var at: Date
    /// The signature of the channel that took the withdrawal (the portal's service key or a desk official's).
    public var signature: CommandSignature?

    public init(commandId: UUID, dossierId: String, reason: String?, at: Date) {
        self.commandId = commandId
        self.dossierId = dossierId
        self.reason = reason
        self.at = at
    }
}

/// A lifecycle event on `dossier.events`, keyed by dossier id.
///
/// The event id is derived from what caused it (the source message and the event type), so that re-processing the
/// same input produces the same id and consumers can ignore repeats.
public struct DossierEvent: Codable, Sendable, Hashable {
    public enum Kind: String, Codable, Sendable, Hashable, CaseIterable {
        case received
        case intakeIncomplete = "intake-incomplete"
        case intakeRefused = "intake-refused"
        case assigned
        case prepared
        case decided
        case supplementRequested = "supplement-requested"
        case supplemented
        case forwarded
        case escalatedAuthority = "escalated-authority"
        case signatureRejected = "signature-rejected"
        /// A command refused for who sent it: unsigned, forged, a key revoked or expired, a role or person without
        /// the authority, or a round no longer open (`stale`). The reason's code leads `data.reason`.
        case commandRejected = "command-rejected"
        case withdrawn
        case withdrawalRejected = "withdrawal-rejected"
        /// A step task the department did not decide: reason `not-received` (no receipt or forward matches it).
        case stepRejected = "step-rejected"
        /// An applicant's supplement refused (no open request, a closed step, documents or facts the procedure
        /// does not take); the reason says which.
        case supplementRejected = "supplement-rejected"
        /// The one-stop desk handed the result to the applicant: the end of the lifecycle.
        case resultReturned = "result-returned"
        /// Inside the department: the step entered a stage or moved between stages (`data.action`: assign,
        /// propose, approve, return, transfer, recall, sign, refuse; `data.stage`, `data.assignee`, `data.dueAt`).
        case stageMoved = "stage-moved"
        /// The rules approved a dossier of a fee-bearing procedure: its fee (`data.amount`, đồng) is requested before
        /// the approval takes effect; the clock pauses (national status 6, financial obligation requested).
        case feeRequested = "fee-requested"
        /// A registered payment gateway confirmed the fee (`data.amount`, `data.paymentChannel`, `data.receipt`): the
        /// clock resumes and the approval takes effect.
        case feePaid = "fee-paid"
        /// A payment confirmation refused for what it says (no fee requested, already paid, another amount, a
        /// receipt number already used); the reason's code leads `data.reason`. Nothing is recorded.
        case paymentRejected = "payment-rejected"
        /// The applicant rated the handling of a decided dossier (1–5 per criterion), through a channel: once.
        case rated
        /// A complaint about the dossier's handling was recorded (its category).
        case complaintRecorded = "complaint-recorded"
        /// A rating or complaint refused for what it says (not decided yet, already rated, a score out of range); the
        /// reason's code leads `data.reason`. Nothing is recorded.
        case feedbackRejected = "feedback-rejected"
        /// An official wrote a draft letter that needs a leader's approval (`data.action`: supplement, refuse,
        /// apology, stop; `data.reason`, `data.documents`, `data.dueDate` the new date of an apology). Nothing is sent.
        case drafted
        /// A leader returned a draft to its writer (`data.reason`); nothing is sent.
        case draftReturned = "draft-returned"
        /// A leader approved a draft (`data.official`) and it was sent: its effect follows (a supplement request, a
        /// refusal, the appointment moved to `data.dueDate`, the dossier stopped).
        case draftSent = "draft-sent"
        /// A stop notice (form 05) was sent: the dossier's handling ends, stopped (national status 8).
        case stopped
        /// The department's worker recorded an apology slip (form 04; a signed `motcua.official.apology` or an
        /// approved apology draft): `step` the deadline's step (-1 the appointment), `data.dueDate` the new date,
        /// `data.previousDueDate` the date it replaces, `data.reason`, `data.official` who issued it. The coordinator
        /// moves the deadline when it reads it.
        case apologyIssued = "apology-issued"
        /// An apology slip refused for what it says (no open deadline of the department, too late, already issued,
        /// a new date not later); the reason's code leads `data.reason`. Nothing is recorded, no deadline moves.
        case apologyRejected = "apology-rejected"
    }

    public struct Data: Codable, Sendable, Hashable {
        public var outcome: Outcome?
        public var review: Review?
        public var ruleId: String?
        public var delegationId: String?
        public var reason: String?
        public var escalationReason: EscalationReason?
        public var forwardTo: DepartmentID?
        public var documents: [String]?
        public var dueDate: String?
        public var official: String?
        public var procedure: String?
        public var channel: String?
        public var commune: String?
        public var timeLimit: String?
        /// Stage events: the action, the stage the step is at now, who holds it, and when that stage is due.
        public var action: String?
        public var stage: String?
        public var assignee: String?
        public var dueAt: Date?
        /// A fee's amount in đồng (`fee-requested`, `fee-paid`).
        public var amount: Int?
        /// Where a fee was paid (`fee-paid`): `national-portal`, `provincial-gateway` or `desk`.
        public var paymentChannel: String?
        /// The payment gateway's receipt number (`fee-paid`).
        public var receipt: String?
        /// The due date an apology slip replaces (`apology-issued`).
        public var previousDueDate: String?

        public init(
            outcome: Outcome? = nil, review: Review? = nil, ruleId: String? = nil, delegationId: String? = nil,
            reason: String? = nil, escalationReason: EscalationReason? = nil, forwardTo: DepartmentID? = nil,
            documents: [String]? = nil, dueDate: String? = nil, official: String? = nil, procedure: String? = nil,
            channel: String? = nil, commune: String? = nil, timeLimit: String? = nil, action: String? = nil,
            stage: String? = nil, assignee: String? = nil, dueAt: Date? = nil, amount: Int? = nil,
            paymentChannel: String? = nil, receipt: String? = nil, previousDueDate: String? = nil
        ) {
            self.previousDueDate = previousDueDate
            self.amount = amount
            self.paymentChannel = paymentChannel
            self.receipt = receipt
            self.outcome = outcome
            self.review = review
            self.ruleId = ruleId
            self.delegationId = delegationId
            self.reason = reason
            self.escalationReason = escalationReason
            self.forwardTo = forwardTo
            self.documents = documents
            self.dueDate = dueDate
            self.official = official
            self.procedure = procedure
            self.channel = channel
            self.commune = commune
            self.timeLimit = timeLimit
            self.action = action
            self.stage = stage
            self.assignee = assignee
            self.dueAt = dueAt
        }
    }

    public var eventId: UUID
    public var dossierId: String
    public var code: String?
    public var type: Kind
    public var department: DepartmentID?
    public var step: Int?
    public var round: Int?
    public var at: Date
    public var data: Data

    public init(
        eventId: UUID, dossierId: String, code: String?, type: Kind, department: DepartmentID?, step: Int?, round: Int?,
        at: Date, data: Data = Data()
    ) {
        self.eventId = eventId
        self.dossierId = dossierId
        self.code = code
        self.type = type
        self.department = department
        self.step = step
        self.round = round
        self.at = at
        self.data = data
    }
}

/// JSON coding shared by every MotCua message: ISO-8601 instants with fractional seconds, sorted keys.
///
/// The workers' hot path reads step tasks and intake dossiers, and writes events and step tasks, by hand
/// (`FastJSONReader.swift`, `FastJSONWriter.swift`): the same values and bytes as the coders here, which they fall
/// back to for anything else. A change to these coders or to the messages' fields must be made there too
/// (`FastJSONTests` compares both over generated messages).
public enum MessageCoding {
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(formatInstant(date))
        }
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = ClockSetting.parseInstant(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an ISO-8601 instant: \(text)")
            }
            return date
        }
        return decoder
    }

    /// `2026-11-27T02:30:00.123Z` — UTC, with milliseconds when the instant has a fraction (Authority's format).
    public static func formatInstant(_ date: Date) -> String {
        ISO8601Instant.format(date)
    }
}
