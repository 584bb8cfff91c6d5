import Foundation
import Testing

@testable import Authority

@Suite("Working-day calendar")
struct WorkingCalendarTests {
    let calendar: WorkingCalendar

    init() throws {
        calendar = try Fixture.bundle().calendar
    }

    private func due(
        _ received: String, _ value: Int, _ unit: TimeLimit.Unit = .workingDays, pauses: [DateInterval] = []
    )
        throws -> String
    {
        try calendar.dueDate(
            receivedAt: Fixture.instant(received), limit: TimeLimit(value: value, unit: unit), pauses: pauses
        ).description
    }

    @Test func tetHolidaysAreSkipped() throws {
        // Friday 13/2 is the last working day before Tết (off Sat 14/2 – Sun 22/2).
        #expect(try due("2026-02-13T10:00:00+07:00", 1) == "2026-02-23")
        #expect(try due("2026-02-12T10:00:00+07:00", 3) == "2026-02-24")
        #expect(try due("2026-02-17T09:00:00+07:00", 1) == "2026-02-24")
        #expect(
            try calendar.effectiveReceiptDay(Fixture.instant("2026-02-18T09:00:00+07:00")).description == "2026-02-23")
        for day in 16...20 {
            #expect(try !calendar.isWorkingDay(Fixture.date("2026-02-\(day)")))
        }
    }

    @Test func tetWithAfternoonReceipt() throws {
        // After 15:00 on the Friday before Tết the receipt day itself is the first day after Tết.
        #expect(
            try calendar.effectiveReceiptDay(Fixture.instant("2026-02-13T16:00:00+07:00")).description == "2026-02-23")
        #expect(try due("2026-02-13T16:00:00+07:00", 1) == "2026-02-24")
        #expect(try due("2026-02-13T16:00:00+07:00", 15) == "2026-03-16")
    }

    @Test func nationalDayAndItsSwappedSaturday() throws {
        #expect(try calendar.isWorkingDay(Fixture.date("2026-08-22")))  // Saturday worked
        #expect(try !calendar.isWorkingDay(Fixture.date("2026-08-31")))  // Monday off in exchange
        #expect(try !calendar.isWorkingDay(Fixture.date("2026-09-01")))
        #expect(try !calendar.isWorkingDay(Fixture.date("2026-09-02")))
        #expect(try calendar.isWorkingDay(Fixture.date("2026-09-03")))
        #expect(try due("2026-08-28T09:00:00+07:00", 1) == "2026-09-03")
        // Friday 21/8 after 15:00: the receipt day is the working Saturday 22/8.
        #expect(
            try calendar.effectiveReceiptDay(Fixture.instant("2026-08-21T16:00:00+07:00")).description == "2026-08-22")
        #expect(try due("2026-08-21T16:00:00+07:00", 1) == "2026-08-24")
        #expect(try due("2026-08-20T10:00:00+07:00", 5) == "2026-08-26")
    }

    @Test func cutOffAtThreeInTheAfternoonLocalTime() throws {
        // Wednesday 4/3/2026.
        #expect(try due("2026-03-04T14:59:59+07:00", 1) == "2026-03-05")
        #expect(try due("2026-03-04T14:59:59.999+07:00", 1) == "2026-03-05")
        #expect(try due("2026-03-04T15:00:00+07:00", 1) == "2026-03-06")
        // The same instants written in UTC.
        #expect(try due("2026-03-04T07:59:59Z", 1) == "2026-03-05")
        #expect(try due("2026-03-04T08:00:00Z", 1) == "2026-03-06")
        // 23:30 UTC on 3/3 is 06:30 on 4/3 in Hanoi.
        #expect(try calendar.effectiveReceiptDay(Fixture.instant("2026-03-03T23:30:00Z")).description == "2026-03-04")
    }

    @Test func weekends() throws {
        #expect(try due("2026-03-07T09:00:00+07:00", 1) == "2026-03-10")  // Saturday → counts from Monday
        #expect(try due("2026-03-08T09:00:00+07:00", 1) == "2026-03-10")  // Sunday
        #expect(try due("2026-03-06T09:00:00+07:00", 1) == "2026-03-09")  // Friday morning → Monday
        #expect(try due("2026-03-02T09:00:00+07:00", 10) == "2026-03-16")  // two whole weeks
        #expect(try due("2026-03-02T09:00:00+07:00", 0) == "2026-03-02")
    }

    @Test func calendarDaysEndingOnAHolidayMoveToTheNextWorkingDay() throws {
        // 1/4 + 30 days = 1/5 (holiday), then Saturday and Sunday: Monday 4/5.
        #expect(try due("2026-04-01T10:00:00+07:00", 30, .days) == "2026-05-04")
        // 30/3 + 30 days = 29/4, a working day.
        #expect(try due("2026-03-30T10:00:00+07:00", 30, .days) == "2026-04-29")
        // Ending on a Saturday.
        #expect(try due("2026-03-02T10:00:00+07:00", 5, .days) == "2026-03-09")
        // Ending on the swapped Saturday 22/8, which is a working day.
        #expect(try due("2026-08-12T10:00:00+07:00", 10, .days) == "2026-08-22")
        // Ending in Tết.
        #expect(try due("2026-02-06T10:00:00+07:00", 10, .days) == "2026-02-23")
    }

    @Test func pausesExtendTheDueDate() throws {
        let start = "2026-03-02T09:00:00+07:00"  // Monday
        #expect(try due(start, 15) == "2026-03-23")
        // Supplement requested Wednesday 4/3, received Friday 6/3: Wednesday and Thursday paused.
        let pause = DateInterval(
            start: Fixture.instant("2026-03-04T10:00:00+07:00"), end: Fixture.instant("2026-03-06T09:00:00+07:00"))
        #expect(try due(start, 15, pauses: [pause]) == "2026-03-25")
        // Overlapping pauses count once.
        let overlapping = DateInterval(
            start: Fixture.instant("2026-03-05T08:00:00+07:00"), end: Fixture.instant("2026-03-06T08:00:00+07:00"))
        #expect(try due(start, 15, pauses: [pause, overlapping]) == "2026-03-25")
        // A pause over a weekend adds only its working days.
        let weekend = DateInterval(
            start: Fixture.instant("2026-03-06T10:00:00+07:00"), end: Fixture.instant("2026-03-09T10:00:00+07:00"))
        #expect(try due(start, 15, pauses: [weekend]) == "2026-03-24")
        // Calendar days pause by calendar days.
        #expect(try due(start, 30, .days, pauses: [weekend]) == "2026-04-06")
        #expect(try due(start, 30, .days) == "2026-04-01")
    }

    @Test func datesOutsideTheLoadedYearsNameTheMissingFile() throws {
        #expect {
            _ = try calendar.dueDate(
                receivedAt: Fixture.instant("2026-12-28T09:00:00+07:00"),
                limit: TimeLimit(value: 10, unit: .workingDays))
        } throws: { error in
            let e = error as? CalendarError
            return e?.year == 2027 && e?.description.contains("deploy/calendar/vn-2027.yaml") == true
        }
        #expect {
            _ = try calendar.effectiveReceiptDay(Fixture.instant("2025-12-31T09:00:00+07:00"))
        } throws: { error in
            (error as? CalendarError)?.year == 2025
        }
        #expect(throws: CalendarError.self) {
            _ = try calendar.dueDate(
                receivedAt: Fixture.instant("2026-12-10T09:00:00+07:00"), limit: TimeLimit(value: 30, unit: .days))
        }
    }

    @Test func workingDayArithmetic() throws {
        let friday = Fixture.date("2026-02-13")
        #expect(try calendar.nextWorkingDay(after: friday).description == "2026-02-23")
        #expect(try calendar.addWorkingDays(2, to: friday).description == "2026-02-24")
        #expect(try calendar.workingDays(from: friday, to: Fixture.date("2026-02-24")) == 2)
        #expect(try calendar.workingDays(from: Fixture.date("2026-02-24"), to: friday) == -2)
        #expect(throws: CalendarError.self) { _ = try calendar.addWorkingDays(-1, to: friday) }
    }

    @Test func addingThenCountingBackGivesTheSameNumber() throws {
        var rng = SplitMix64(seed: 0x5EED_2026)
        let first = Fixture.date("2026-01-01").dayNumber
        for _ in 0..<20_000 {
            let day = LocalDate(dayNumber: first + Int32.random(in: 0..<300, using: &rng))
            let n = Int.random(in: 0...40, using: &rng)
            let later = try calendar.addWorkingDays(n, to: day)
            #expect(try calendar.workingDays(from: day, to: later) == n)
            if n > 0 { #expect(try calendar.isWorkingDay(later)) }
        }
    }

    @Test func dueDatesAreNeverOnNonWorkingDays() throws {
        var rng = SplitMix64(seed: 42)
        let start = Fixture.instant("2026-01-01T00:00:00+07:00").timeIntervalSince1970
        for _ in 0..<20_000 {
            let received = Date(timeIntervalSince1970: start + Double(Int.random(in: 0..<(290 * 86400), using: &rng)))
            let unit: TimeLimit.Unit = Bool.random(using: &rng) ? .workingDays : .days
            let limit = TimeLimit(value: Int.random(in: 1...30, using: &rng), unit: unit)
            let due = try calendar.dueDate(receivedAt: received, limit: limit)
            #expect(try calendar.isWorkingDay(due), "\(received) + \(limit) → \(due)")
            let receipt = try calendar.effectiveReceiptDay(received)
            #expect(try calendar.isWorkingDay(receipt))
            if unit == .workingDays {
                #expect(try calendar.workingDays(from: receipt, to: due) == limit.value)
            } else {
                #expect(due.dayNumber >= receipt.dayNumber + Int32(limit.value))
            }
        }
    }

    @Test func realCalendarsAgreeOnTet2026AndNationalDay() throws {
        let real = try WorkingCalendar.load(from: Fixture.realDeploy.appendingPathComponent("calendar"))
        #expect(real.loadedYears.contains(2026))
        let received = Fixture.instant("2026-02-13T16:00:00+07:00")
        #expect(
            try real.dueDate(receivedAt: received, limit: TimeLimit(value: 1, unit: .workingDays)).description
                == "2026-02-24")
        #expect(
            try real.dueDate(
                receivedAt: Fixture.instant("2026-08-28T09:00:00+07:00"), limit: TimeLimit(value: 1, unit: .workingDays)
            ).description == "2026-09-03")
        #expect(try real.isWorkingDay(Fixture.date("2026-08-22")))
    }
}
