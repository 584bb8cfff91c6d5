/// Who completes a decision.
public enum Review: String, Sendable, Hashable, Codable, CaseIterable {
    /// The system decides on its own.
    case auto
    /// An official signs the prepared decision.
    case official
}
