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
        var total: TimeInterval = 0
        var day = LocalDate(instant: from)
        let last = LocalDate(instant: to)
        while day <= last {
            let working = (try? isWorkingDay(day)) ?? !day.isWeekend
            if working {
                let open = max(from, day.instant(hour: Self.openingHour))
                let close = min(to, day.instant(hour: Self.closingHour))
                if close > open { total += close.timeIntervalSince(open) }
            }
            day = day.adding(days: 1)
        }
        return total
    }

    /// ``workingSeconds(from:to:)`` in hours.
    public func workingHours(from: Date, to: Date) -> Double {
        workingSeconds(from: from, to: to) / 3_600
    }
}
