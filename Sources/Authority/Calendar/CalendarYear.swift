/// One year of the working-day calendar, as published by the Ministry of Home Affairs (`vn-YYYY.yaml`).
public struct CalendarYear: Sendable, Hashable {
    /// The notice the file cites.
    public struct Source: Sendable, Hashable {
        public var notice: String
        public var date: LocalDate
        public var issuer: String

        public init(notice: String, date: LocalDate, issuer: String) {
            self.notice = notice
            self.date = date
            self.issuer = issuer
        }
    }

    /// Days off: a public holiday or a compensatory day, one day or an inclusive range.
    public struct Holiday: Sendable, Hashable {
        /// Whether a day off is a public holiday or a compensatory day.
        public enum Kind: String, Sendable, Hashable, CaseIterable {
            case holiday
            case compensatory
        }

        public var from: LocalDate
        public var to: LocalDate
        public var name: String
        public var kind: Kind

        public init(from: LocalDate, to: LocalDate, name: String, kind: Kind = .holiday) {
            self.from = from
            self.to = to
            self.name = name
            self.kind = kind
        }
    }

    /// A Saturday worked in exchange for a weekday off.
    public struct WorkingSaturday: Sendable, Hashable {
        public var date: LocalDate
        /// The weekday taken off in exchange; it is a day off whether or not `holidays` lists it.
        public var replaces: LocalDate?

        public init(date: LocalDate, replaces: LocalDate?) {
            self.date = date
            self.replaces = replaces
        }
    }

    public var year: Int
    public var source: Source
    public var holidays: [Holiday]
    public var workingSaturdays: [WorkingSaturday]

    public init(year: Int, source: Source, holidays: [Holiday], workingSaturdays: [WorkingSaturday]) {
        self.year = year
        self.source = source
        self.holidays = holidays
        self.workingSaturdays = workingSaturdays
    }
}
