import Foundation

/// When the coordinator warns and escalates, relative to a due date on the working-day calendar.
public struct DeadlinePolicy: Sendable, Hashable {
    /// `due-soon` fires at the opening hour of the working day this many working days before the due date
    /// (0: on the due date itself). Default: 2.
    public var dueSoonWorkingDays = 2
    /// The level-2 escalation (to the delegator) fires this many working days after the due date. Default: 3.
    public var level2WorkingDays = 3
    /// An authority escalation (a case outside the delegation) must be answered by the delegator within this many
    /// working days. Default: 5.
    public var authorityWorkingDays = 5
    /// Local hour (Asia/Ho_Chi_Minh) the due date ends: `overdue` fires then. Default: 17.
    public var closingHour = 17
    /// Local hour `due-soon` fires. Default: 8.
    public var openingHour = 8

    public init() {}

    /// The firing instants of a deadline due on `due`.
    ///
    /// A date outside the loaded calendar years falls back to calendar days (a warning, not a lost timer).
    public func schedule(due: LocalDate, kind: DeadlineKind, calendar: WorkingCalendar) -> DeadlineSchedule {
        var soonDay = due
        var remaining = dueSoonWorkingDays
        var probe = due
        while remaining > 0 {
            probe = probe.adding(days: -1)
            guard let working = try? calendar.isWorkingDay(probe) else {
                soonDay = due.adding(days: -dueSoonWorkingDays)
                break
            }
            if working {
                remaining -= 1
                soonDay = probe
            }
        }
        var level2: Date?
        if kind != .overall {
            let day = (try? calendar.addWorkingDays(level2WorkingDays, to: due)) ?? due.adding(days: level2WorkingDays)
            level2 = Self.instant(day, hour: closingHour)
        }
        return DeadlineSchedule(
            dueDate: due, soonAt: Self.instant(soonDay, hour: openingHour), dueAt: Self.instant(due, hour: closingHour),
            level2At: level2)
    }

    /// `hour`:00 local time (UTC+7) on `day`.
    public static func instant(_ day: LocalDate, hour: Int) -> Date {
        day.instant(hour: hour)
    }

    /// The local day (UTC+7) of an instant.
    public static func localDay(_ instant: Date) -> LocalDate {
        LocalDate(instant: instant)
    }
}

/// What a deadline measures.
public enum DeadlineKind: String, Sendable, Hashable, CaseIterable {
    /// The whole procedure (step -1).
    case overall
    /// One department's step of the procedure (step ≥ 0).
    case step
    /// The delegator's answer to an authority escalation (step -2).
    case authority

    /// The `step` column of the overall deadline.
    public static let overallStep = -1
    /// The `step` column of an authority escalation's deadline.
    public static let authorityStep = -2
}

/// The levels a deadline fires, each once; stored as a bit set in `deadlines.fired`.
public enum DeadlineLevel: Int, Sendable, Hashable, CaseIterable {
    case dueSoon = 1
    case overdue = 2
    case level2 = 4
}

/// The instants at which a deadline fires.
public struct DeadlineSchedule: Sendable, Hashable {
    public var dueDate: LocalDate
    public var soonAt: Date
    public var dueAt: Date
    public var level2At: Date?

    public func instant(of level: DeadlineLevel) -> Date? {
        switch level {
        case .dueSoon: soonAt
        case .overdue: dueAt
        case .level2: level2At
        }
    }

    /// The earliest instant among the levels not in `fired`; nil when all have fired.
    public func nextFire(fired: Int) -> Date? {
        DeadlineLevel.allCases.filter { fired & $0.rawValue == 0 }.compactMap { instant(of: $0) }.min()
    }
}
