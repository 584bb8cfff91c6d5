import Authority
import Foundation

extension MessageType {
    /// An official's draft action (write, approve, return) on a letter that needs a leader's approval before it goes
    /// out, signed like the other officials' commands.
    public static let draft = "motcua.official.draft"
}

/// The letters a specialist drafts and a leader approves before they are sent (issue 20, Circular 03/2025/TT-VPCP).
public enum DraftKind: String, Codable, Sendable, Hashable, CaseIterable {
    /// Form 02, request to supplement and complete the dossier: when sent, the clock pauses.
    case supplement
    /// Refusal of the prepared decision (with its legal reason): when sent, the step is decided, refused.
    case refuse
    /// Form 04, apology and request to extend the processing time (reason, new appointment date): when sent, the
    /// appointment date moves.
    case apology
    /// Form 05, notice that the handling of the dossier stops (reason): when sent, the dossier ends as stopped.
    case stop
}

/// What an official does with a draft.
public enum DraftAction: String, Codable, Sendable, Hashable, CaseIterable {
    /// Writes a new draft of ``DraftKind`` (a specialist, or any official of the department).
    case write
    /// Approves the draft, which is then sent and takes effect (the leader the kind requires).
    case approve
    /// Returns the draft to its writer with a reason; nothing is sent.
    case `return`
}

/// An official's draft action on a dossier step: written by an official of the department, approved or returned by
/// the leader the draft's kind requires (refusal, stop: the delegate who signs final decisions; supplement,
/// apology: a head of division or above). Only an approved draft is sent.
public struct DraftCommand: Codable, Sendable, Hashable {
    public var commandId: UUID
    public var dossierId: String
    public var step: Int
    public var official: Official
    public var action: DraftAction
    /// write: what the draft is.
    public var kind: DraftKind?
    /// approve, return: the draft acted on (the `commandId` of its `write`).
    public var draftId: UUID?
    /// write: the reason the letter gives (required); return: why the draft goes back (required).
    public var reason: String?
    /// write, supplement: the documents asked for (catalogue document ids).
    public var documents: [String]?
    /// write, apology (form 04): the new appointment date, `YYYY-MM-DD` (local).
    public var newDate: String?
    public var at: Date
    public var signature: CommandSignature?

    public init(
        commandId: UUID, dossierId: String, step: Int, official: Official, action: DraftAction, kind: DraftKind? = nil,
        draftId: UUID? = nil, reason: String? = nil, documents: [String]? = nil, newDate: String? = nil, at: Date
    ) {
        self.commandId = commandId
        self.dossierId = dossierId
        self.step = step
        self.official = official
        self.action = action
        self.kind = kind
        self.draftId = draftId
        self.reason = reason
        self.documents = documents
        self.newDate = newDate
        self.at = at
    }
}
