import Foundation

/// The working-day quotas and due instants of a route's stages for one dossier step.
///
/// Each stage gets its share of the step's working days, rounded to whole working days (largest remainder, so the
/// quotas add up to the step's days) and at least one. A stage that starts at instant `s` is due at the close of the
/// working day (17:00 local) that is its quota-th working day after the stage's effective start day — the day of
/// `s` if it is a working day and `s` is before 15:00 local, otherwise the next working day: the same counting as a
/// statutory due date. "Due soon" is less than one working day left: from the close of the working day before the
/// due day.
public struct StagePlan: Sendable, Hashable {
    /// Local hour a working day closes (stages end then). Default: 17, as ``DeadlinePolicy/closingHour``.
    public static let closingHour = 17

    public var stages: [WorkflowStage]
    /// Whole working days per stage, in order; each at least 1.
    public var quotas: [Int]

    /// The plan of `route` for a step of `stepWorkingDays` working days.
    public init(route: WorkflowRoute, stepWorkingDays: Int, automatic: Bool = false) {
        stages = route.stages(automatic: automatic)
        quotas = Self.quotas(shares: stages.map(\.share), days: stepWorkingDays)
    }

    /// Whole working days for `shares` of `days`: largest remainder, at least one each.
    ///
    /// The quotas add up to `max(days, shares.count)`.
    public static func quotas(shares: [Double], days: Int) -> [Int] {
        guard !shares.isEmpty else { return [] }
        let total = shares.reduce(0, +)
        let normalised = shares.map { total > 0 ? $0 / total : 1 / Double(shares.count) }
        let target = max(days, shares.count)
        let exact = normalised.map { $0 * Double(target) }
        var quotas = exact.map { Int($0.rounded(.down)) }
        let order = exact.indices.sorted { a, b in
            let ra = exact[a] - exact[a].rounded(.down)
            let rb = exact[b] - exact[b].rounded(.down)
            return ra != rb ? ra > rb : a < b
        }
        var left = target - quotas.reduce(0, +)
        var i = 0
        while left > 0 {
            quotas[order[i % order.count]] += 1
            left -= 1
            i += 1
        }
        // At least one day each, taken from the largest quota (there is one above 1: target >= count).
        for j in quotas.indices where quotas[j] == 0 {
            let largest = quotas.indices.max { quotas[$0] < quotas[$1] }!
            quotas[largest] -= 1
            quotas[j] = 1
        }
        return quotas
    }

    /// The working days of a step: its time limit in working days, or for calendar days the working days from the
    /// effective start day to the step's due date (at least one).
    public static func stepWorkingDays(limit: TimeLimit, startedAt: Date, calendar: WorkingCalendar)
        throws(CalendarError) -> Int
    {
        switch limit.unit {
        case .workingDays:
            return max(1, limit.value)
        case .days:
            let start = try calendar.effectiveReceiptDay(startedAt)
            let due = try calendar.dueDate(receivedAt: startedAt, limit: limit)
            return max(1, try calendar.workingDays(from: start, to: due))
        }
    }

    /// The due instant of a stage of `quota` working days that starts at `startedAt`.
    public static func dueInstant(quota: Int, startedAt: Date, calendar: WorkingCalendar) throws(CalendarError)
        -> Date
    {
        let start = try calendar.effectiveReceiptDay(startedAt)
        let day = try calendar.addWorkingDays(max(1, quota), to: start)
        return day.instant(hour: closingHour)
    }

    /// From when a stage due at `due` is due soon: the close of the working day before its due day (less than one
    /// working day left).
    public static func dueSoonInstant(due: Date, calendar: WorkingCalendar) throws(CalendarError) -> Date {
        let dueDay = LocalDate(instant: due)
        var probe = dueDay.adding(days: -1)
        while try !calendar.isWorkingDay(probe) { probe = probe.adding(days: -1) }
        return probe.instant(hour: closingHour)
    }

    /// Where a stage due at `due` stands at `now`.
    public static func standing(due: Date, at now: Date, calendar: WorkingCalendar) -> StageStanding {
        if now > due { return .overdue }
        guard let soon = try? dueSoonInstant(due: due, calendar: calendar) else {
            return due.timeIntervalSince(now) < 86_400 ? .dueSoon : .onTime
        }
        return now >= soon ? .dueSoon : .onTime
    }

    /// The verdict on a stage handed over at `finishedAt`: early before its due day, on time on it, late after.
    public static func verdict(due: Date, finishedAt: Date) -> StageVerdict {
        if finishedAt > due { return .late }
        return LocalDate(instant: finishedAt) < LocalDate(instant: due) ? .early : .onTime
    }
}

/// Where an open stage stands against its due instant.
public enum StageStanding: String, Sendable, Hashable, CaseIterable {
    case onTime = "on-time"
    /// Less than one working day left.
    case dueSoon = "due-soon"
    case overdue
}

/// The processing-control slip's verdict on a finished stage.
public enum StageVerdict: String, Sendable, Hashable, CaseIterable {
    case early
    case onTime = "on-time"
    case late
}
