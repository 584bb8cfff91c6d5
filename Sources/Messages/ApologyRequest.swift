import Authority
import Foundation

extension MessageType {
    /// An official's apology slip (`motcua apology`), signed like the other officials' commands.
    public static let apology = "motcua.official.apology"
}

/// An official's apology slip as a signed command: the department foresees it will be late, says why, and gives one
/// new date. Signed for the department's topic (``SignedCommands/topic(department:)``) with the type
/// ``MessageType/apology``; the apology desk checks it against the registry of officials.
public struct ApologyRequest: Codable, Sendable, Hashable {
    public var commandId: UUID
    public var dossierId: String
    /// The deadline's step (≥ 0), or -1 for the whole procedure.
    public var step: Int
    public var official: Official
    public var reason: String
    /// The one new due date, `YYYY-MM-DD` (local).
    public var newDate: String
    public var at: Date
    public var signature: CommandSignature?

    public init(
        commandId: UUID, dossierId: String, step: Int, official: Official, reason: String, newDate: String, at: Date
    ) {
        self.commandId = commandId
        self.dossierId = dossierId
        self.step = step
        self.official = official
        self.reason = reason
        self.newDate = newDate
        self.at = at
    }
}
