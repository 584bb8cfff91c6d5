import Foundation

/// The working-day calendar of the loaded years: due dates, working-day arithmetic, effective receipt days.
///
/// Built once from the `vn-YYYY.yaml` files. Every day of the loaded (contiguous) years is a bit in a table
/// with prefix sums of working days and the position of every working day, so that each operation is a few
/// array reads: no `Foundation.Calendar`, no allocation.
public struct WorkingCalendar: Sendable {
    /// The local time (Asia/Ho_Chi_Minh) from which a dossier counts as received on the next working day.
    public static let cutOffSecondsOfDay: Int64 = 15 * 3600

    /// The loaded years, in order.
    public let years: [CalendarYear]
    /// First and last loaded year.
    public let loadedYears: ClosedRange<Int>

    private let firstDay: Int32
    /// 1 when the day at this offset from `firstDay` is a working day.
    private let working: [UInt8]
    /// `before[i]` = working days among offsets `0..<i`; one longer than `working`.
    private let before: [Int32]
    /// Offset of the k-th working day (0-based).
    private let ordinals: [Int32]

    /// Builds the calendar from contiguous years.
    ///
    /// - Precondition: `years` is non-empty and has one entry per year from the first to the last, which the
    ///   loader checks and reports.
    public init(years: [CalendarYear]) {
        precondition(!years.isEmpty, "a working calendar needs at least one year")
        let sorted = years.sorted { $0.year < $1.year }
        self.years = sorted
        let first = sorted.first!.year
        let last = sorted.last!.year
        precondition(sorted.map(\.year) == Array(first...last), "calendar years must be contiguous")
        loadedYears = first...last
        firstDay = Int32(LocalDate.daysFromCivil(first, 1, 1))
        let endDay = Int32(LocalDate.daysFromCivil(last + 1, 1, 1))
        let count = Int(endDay - firstDay)
        var working = [UInt8](repeating: 0, count: count)
        for i in 0..<count {
            working[i] = LocalDate(dayNumber: firstDay + Int32(i)).isWeekend ? 0 : 1
        }
        let firstDay = self.firstDay
        for year in sorted {
            for holiday in year.holidays {
                for n in holiday.from.dayNumber...holiday.to.dayNumber where n >= firstDay && n < endDay {
                    working[Int(n - firstDay)] = 0
                }
            }
        }
        for year in sorted {
            for saturday in year.workingSaturdays {
                if let off = saturday.replaces, off.dayNumber >= firstDay, off.dayNumber < endDay {
                    working[Int(off.dayNumber - firstDay)] = 0
                }
            }
        }
        for year in sorted {
            for saturday in year.workingSaturdays where saturday.date.dayNumber >= firstDay {
                working[Int(saturday.date.dayNumber - firstDay)] = 1
            }
        }
        var before = [Int32](repeating: 0, count: count + 1)
        var ordinals: [Int32] = []
        ordinals.reserveCapacity(count)
        for i in 0..<count {
            before[i + 1] = before[i] + Int32(working[i])
            if working[i] == 1 { ordinals.append(Int32(i)) }
        }
        self.working = working
        self.before = before
        self.ordinals = ordinals
    }

    // MARK: - Queries

    /// Whether `date` is a working day.
    public func isWorkingDay(_ date: LocalDate) throws(CalendarError) -> Bool {
        working[try offset(date)] == 1
    }

    /// The first working day strictly after `date`.
    public func nextWorkingDay(after date: LocalDate) throws(CalendarError) -> LocalDate {
        let k = Int(before[try offset(date) + 1])
        guard k < ordinals.count else { throw beyondEnd() }
        return day(ordinals[k])
    }

    /// The `count`-th working day after `date` (`date` itself when `count` is 0, even if not a working day).
    public func addWorkingDays(_ count: Int, to date: LocalDate) throws(CalendarError) -> LocalDate {
        guard count >= 0 else { throw CalendarError(code: .negativeLimit) }
        let o = try offset(date)
        if count == 0 { return date }
        let k = Int(before[o + 1]) + count - 1
        guard k < ordinals.count else { throw beyondEnd() }
        return day(ordinals[k])
    }

    /// Working days in `(from, to]`: after `from`, up to and including `to`; negative when `to < from`.
    ///
    /// `workingDays(from: d, to: addWorkingDays(n, to: d)) == n` for every `d` and `n`.
    public func workingDays(from: LocalDate, to: LocalDate) throws(CalendarError) -> Int {
        let a = try offset(from)
        let b = try offset(to)
        return Int(before[b + 1]) - Int(before[a + 1])
    }

    /// The day a dossier received at `instant` counts as received on.
    ///
    /// The local day (UTC+7) if it is a working day and the instant is before 15:00 local time; otherwise the
    /// next working day.
    public func effectiveReceiptDay(_ instant: Date) throws(CalendarError) -> LocalDate {
        day(try effectiveReceiptOffset(instant))
    }

    /// The statutory due date of a dossier received at `receivedAt`.
    ///
    /// For working days: the `limit.value`-th working day after the effective receipt day. For calendar days:
    /// the effective receipt day plus `limit.value` days, moved to the next working day when that is not one.
    /// Each paused interval (a supplement request until the supplement arrived) extends the period by the working
    /// days (or days) from the local day it started, inclusive, to the local day it ended, exclusive; overlapping
    /// pauses count once.
    public func dueDate(
        receivedAt: Date, limit: TimeLimit, pauses: [DateInterval] = []
    ) throws(CalendarError) -> LocalDate {
        guard limit.value >= 0 else { throw CalendarError(code: .negativeLimit) }
        let receipt = try effectiveReceiptOffset(receivedAt)
        let extra = pauses.isEmpty ? 0 : try pausedAmount(pauses, unit: limit.unit)
        switch limit.unit {
        case .workingDays:
            let k = Int(before[receipt]) + limit.value + extra
            guard k < ordinals.count else { throw beyondEnd() }
            return day(ordinals[k])
        case .days:
            let end = receipt + limit.value + extra
            guard end < working.count else { throw outside(Int(firstDay) + end) }
            if working[end] == 1 { return day(Int32(end)) }
            let k = Int(before[end + 1])
            guard k < ordinals.count else { throw beyondEnd() }
            return day(ordinals[k])
        }
    }

    // MARK: - Internals

    private func effectiveReceiptOffset(_ instant: Date) throws(CalendarError) -> Int {
        let (dayValue, secondsOfDay) = LocalDateTime.localDayAndSecond(instant.timeIntervalSince1970)
        guard dayValue > -2_000_000, dayValue < 2_000_000 else { throw outside(dayValue) }
        let dayIndex = Int(dayValue)
        let o = dayIndex - Int(firstDay)
        guard o >= 0, o < working.count else { throw outside(dayIndex) }
        if working[o] == 1 && secondsOfDay < Double(WorkingCalendar.cutOffSecondsOfDay) { return o }
        let k = Int(before[o + 1])
        guard k < ordinals.count else { throw beyondEnd() }
        return Int(ordinals[k])
    }

    private func pausedAmount(_ pauses: [DateInterval], unit: TimeLimit.Unit) throws(CalendarError) -> Int {
        var spans: [(Int, Int)] = []
        spans.reserveCapacity(pauses.count)
        for pause in pauses {
            let a = try localOffset(pause.start)
            let b = try localOffset(pause.end)
            if b > a { spans.append((a, b)) }
        }
        spans.sort { $0.0 < $1.0 }
        var total = 0
        var cursor = Int.min
        for (a, b) in spans {
            let start = max(a, cursor)
            guard b > start else { continue }
            total += unit == .workingDays ? Int(before[b] - before[start]) : b - start
            cursor = b
        }
        return total
    }

    private func localOffset(_ instant: Date) throws(CalendarError) -> Int {
        let dayValue = LocalDateTime.localDayAndSecond(instant.timeIntervalSince1970).day
        guard dayValue > -2_000_000, dayValue < 2_000_000 else { throw outside(dayValue) }
        let o = Int(dayValue) - Int(firstDay)
        guard o >= 0, o < working.count else { throw outside(Int(dayValue)) }
        return o
    }

    private func offset(_ date: LocalDate) throws(CalendarError) -> Int {
        let o = Int(date.dayNumber) - Int(firstDay)
        guard o >= 0, o < working.count else { throw outside(Int(date.dayNumber)) }
        return o
    }

    private func day(_ offset: Int32) -> LocalDate {
        LocalDate(dayNumber: firstDay + offset)
    }

    private func day(_ offset: Int) -> LocalDate {
        LocalDate(dayNumber: firstDay + Int32(offset))
    }

    /// `outside` for a day that may be far from any loaded year, or NaN.
    private func outside(_ dayValue: Double) -> CalendarError {
        outside(dayValue.isNaN ? 0 : Int(min(max(dayValue, -3.0e9), 3.0e9)))
    }

    private func outside(_ dayNumber: Int) -> CalendarError {
        let year = LocalDate(dayNumber: Int32(clamping: dayNumber)).year
        return CalendarError(code: .yearNotLoaded, year: year, loadedYears: loadedYears)
    }

    private func beyondEnd() -> CalendarError {
        CalendarError(code: .yearNotLoaded, year: loadedYears.upperBound + 1, loadedYears: loadedYears)
    }
}
