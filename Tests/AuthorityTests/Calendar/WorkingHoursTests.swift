import Foundation
import Testing

@testable import Authority

/// ``WorkingCalendar/workingSeconds(from:to:)``: office hours (08:00–17:00 local) of working days, counted through
/// the calendar's prefix sums for whole days and day by day beyond the loaded years.
@Suite("Working hours")
struct WorkingHoursTests {
    let calendar: WorkingCalendar

    init() throws {
        calendar = try Fixture.bundle().calendar
    }

    /// The same hours counted day by day, as the definition says.
    func dayByDay(_ from: Date, _ to: Date) throws -> Double {
        var total = 0.0
        var day = LocalDate(instant: from)
        while day <= LocalDate(instant: to) {
            if try calendar.isWorkingDay(day) {
                let open = max(from, day.instant(hour: 8))
                let close = min(to, day.instant(hour: 17))
                if close > open { total += close.timeIntervalSince(open) }
            }
            day = day.adding(days: 1)
        }
        return total / 3_600
    }

    @Test func spansAcrossTetAndWeekendsEqualTheDayByDayCount() throws {
        // Thursday 12 February 2026 10:00 to Wednesday 25 February 11:30, across Tết (16–20/2) and three weekends:
        // Thu 7 h + Fri 9 h + Mon 23, Tue 24 (18 h) + Wed 3.5 h = 37.5 h.
        let from = Fixture.instant("2026-02-12T10:00:00+07:00")
        let to = Fixture.instant("2026-02-25T11:30:00+07:00")
        #expect(calendar.workingHours(from: from, to: to) == 37.5)
        #expect(try calendar.workingHours(from: from, to: to) == dayByDay(from, to))
        // Every pair of these instants, both ways.
        let instants = [
            "2026-01-09T16:00:00+07:00", "2026-01-10T12:00:00+07:00", "2026-04-29T07:00:00+07:00",
            "2026-05-04T18:30:00+07:00", "2026-12-30T16:59:00+07:00", "2026-12-31T08:01:00+07:00",
        ].map(Fixture.instant)
        for a in instants {
            for b in instants {
                #expect(try calendar.workingHours(from: a, to: b) == (a < b ? dayByDay(a, b) : 0))
            }
        }
    }

    @Test func beyondTheLoadedYearsWeekdaysStandIn() throws {
        // The fixture loads 2026 only. Friday 8 January 2027 16:00 to Monday 11 January 09:00: 1 h + 1 h.
        #expect(calendar.workingHours(
            from: Fixture.instant("2027-01-08T16:00:00+07:00"), to: Fixture.instant("2027-01-11T09:00:00+07:00")) == 2)
        // Across the end of the loaded years, day by day: Thursday 31 December 16:00 (1 h), Friday 1 January 2027
        // (a weekday beyond the calendar: 9 h), Monday 4 January until 09:00 (1 h).
        #expect(calendar.workingHours(
            from: Fixture.instant("2026-12-31T16:00:00+07:00"), to: Fixture.instant("2027-01-04T09:00:00+07:00")) == 11)
    }
}
