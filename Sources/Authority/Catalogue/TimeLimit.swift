/// A statutory time limit: a number of working days or of calendar days.
public struct TimeLimit: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The unit a time limit counts in.
    public enum Unit: String, Sendable, Hashable, Codable, CaseIterable {
        /// Working days of the working-day calendar (most procedures).
        case workingDays = "working-days"
        /// Calendar days; a period ending on a non-working day ends on the next working day.
        case days
    }

    public var value: Int
    public var unit: Unit

    public init(value: Int, unit: Unit) {
        self.value = value
        self.unit = unit
    }

    public var description: String { "\(value) \(unit.rawValue)" }
}
