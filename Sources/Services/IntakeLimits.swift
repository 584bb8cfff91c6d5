import Authority
import Foundation

/// What reception accepts at the edge; beyond it a dossier is dead-lettered with the reason, never received.
public struct IntakeLimits: Sendable, Hashable {
    /// Largest intake message. Default: 256 KiB (a dossier names its documents; it does not carry them).
    public var maximumBytes = 256 * 1_024
    /// Most document ids. Default: 100.
    public var maximumDocuments = 100
    /// Most facts. Default: 100.
    public var maximumFacts = 100
    /// Longest string (applicant id and name, a document id, a fact's name or text value), in characters.
    /// Default: 1,000.
    public var maximumStringLength = 1_000
    /// How long before now a dossier may say it was submitted. Default: 30 days.
    public var submittedBefore: Duration = .seconds(30 * 86_400)
    /// How far after now (clock skew). Default: 5 minutes.
    public var submittedAfter: Duration = .seconds(300)

    public init() {}

    /// Why `dossier` is beyond the limits at `now`, naming the field; nil when it is within them. Quotes no value.
    public func problem(with dossier: Dossier, at now: Date) -> IntakeError? {
        if dossier.documents.count > maximumDocuments {
            return IntakeError(
                field: "documents",
                problem: "\(dossier.documents.count) documents, more than the \(maximumDocuments) allowed")
        }
        if dossier.facts.count > maximumFacts {
            return IntakeError(field: "facts", problem: "\(dossier.facts.count) facts, more than the \(maximumFacts) allowed")
        }
        func tooLong(_ text: String) -> Bool { text.count > maximumStringLength }
        let limit = "longer than \(maximumStringLength) characters"
        if tooLong(dossier.applicant.id) { return IntakeError(field: "applicant.id", problem: limit) }
        if tooLong(dossier.applicant.name) { return IntakeError(field: "applicant.name", problem: limit) }
        if let index = dossier.documents.firstIndex(where: tooLong) {
            return IntakeError(field: "documents[\(index)]", problem: limit)
        }
        for (name, value) in dossier.facts {
            if tooLong(name) { return IntakeError(field: "facts", problem: "a fact name is \(limit)") }
            if case .string(let text) = value, tooLong(text) {
                return IntakeError(field: "facts.\(name.prefix(64))", problem: limit)
            }
        }
        let earliest = now.addingTimeInterval(-submittedBefore.seconds)
        let latest = now.addingTimeInterval(submittedAfter.seconds)
        if dossier.submittedAt < earliest || dossier.submittedAt > latest {
            return IntakeError(
                field: "submittedAt",
                problem: "\(ISO8601Instant.format(dossier.submittedAt)) is outside the accepted window (from "
                    + "\(Int(submittedBefore.seconds / 86_400)) days before now to \(Int(submittedAfter.seconds)) s "
                    + "after); check the sending system's clock")
        }
        return nil
    }
}
