/// A working-day computation that the loaded calendars cannot answer.
public struct CalendarError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong.
    public enum Code: Sendable, Hashable {
        /// The computation needs a year for which no `vn-YYYY.yaml` is loaded.
        case yearNotLoaded
        /// The time limit is negative.
        case negativeLimit
    }

    public var code: Code
    /// The year that is missing, for ``Code/yearNotLoaded``.
    public var year: Int?
    /// The years that are loaded.
    public var loadedYears: ClosedRange<Int>?

    public init(code: Code, year: Int? = nil, loadedYears: ClosedRange<Int>? = nil) {
        self.code = code
        self.year = year
        self.loadedYears = loadedYears
    }

    public var description: String {
        switch code {
        case .yearNotLoaded:
            let year = year.map(String.init) ?? "?"
            let loaded = loadedYears.map { "\($0.lowerBound)–\($0.upperBound)" } ?? "none"
            return "no working-day calendar for \(year) (loaded: \(loaded)); add deploy/calendar/vn-\(year).yaml "
                + "from the Ministry of Home Affairs' notice for \(year)"
        case .negativeLimit:
            return "a time limit cannot be negative"
        }
    }
}
