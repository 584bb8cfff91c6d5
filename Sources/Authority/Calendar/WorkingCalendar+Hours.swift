import Foundation

extension WorkingCalendar {
    /// Local hour a working day's office hours open. Default: 8, as ``DeadlinePolicy/openingHour``.
    public static let openingHour = 8
    /// Local hour a working day's office hours close. Default: 17, as ``StagePlan/closingHour``.
    public static let closingHour = 17

    /// The working time between two instants: the seconds of `[from, to)` that fall within office hours (08:00 to
    /// 17:00 local, nine hours a day) on working days of this calendar — a night, a weekend or a holiday adds
    /// nothing. Beyond the loaded years, Monday to Friday stand in for working days. Zero when `to` is not after
    /// `from`.
    public func workingSeconds(from: Date, to: Date) -> TimeInterval {
        guard to > from else { return 0 }
        let first = LocalDate(instant: from)
        let last = LocalDate(instant: to)
        func office(_ day: LocalDate) -> TimeInterval {
            guard (try? isWorkingDay(day)) ?? !day.isWeekend else { return 0 }
            let open = max(from, day.instant(hour: Self.openingHour))
            let close = min(to, day.instant(hour: Self.closingHour))
            return close > open ? close.timeIntervalSince(open) : 0
        }
        guard first < last else { return office(first) }
        var total = office(first) + office(last)
        guard last.dayNumber - first.dayNumber > 1 else { return total }
        // The whole days between, from the calendar's prefix sums (a few array reads, however long the stage);
        // beyond the loaded years, day by day.
        if let between = try? workingDays(from: first, to: last.adding(days: -1)) {
            return total + Double(between * (Self.closingHour - Self.openingHour) * 3_600)
        }
        var day = first.adding(days: 1)
        while day < last {
            total += office(day)
            day = day.adding(days: 1)
        }
        return total
    }

    /// ``workingSeconds(from:to:)`` in hours.
    public func workingHours(from: Date, to: Date) -> Double {
        workingSeconds(from: from, to: to) / 3_600
    }
}
