import Foundation
import Testing

@testable import Authority

/// The one conversion between instants and Asia/Ho_Chi_Minh local time (`LocalDateTime`, `LocalDate(instant:)`,
/// `LocalDate.startInstant`, `ISO8601Instant.formatLocal`), against Foundation's calendar in that time zone.
@Suite("Local time (UTC+7)")
struct LocalDateTimeTests {
    static let hoChiMinh = TimeZone(identifier: "Asia/Ho_Chi_Minh") ?? TimeZone(secondsFromGMT: 25_200)!

    @Test func dayBoundaryIsLocalMidnight() throws {
        let lastSecond = try #require(ISO8601Instant.parse("2026-11-27T16:59:59.999Z"))
        let midnight = try #require(ISO8601Instant.parse("2026-11-27T17:00:00Z"))
        #expect(LocalDate(instant: lastSecond).description == "2026-11-27")
        #expect(LocalDate(instant: midnight).description == "2026-11-28")
        #expect(LocalDateTime(instant: lastSecond).secondOfDay == 86_399)
        #expect(LocalDateTime(instant: midnight).secondOfDay == 0)
        #expect(try #require(LocalDate("2026-11-28")).startInstant == midnight)
    }

    @Test func formatsWithTheOffset() throws {
        let instant = try #require(ISO8601Instant.parse("2026-11-27T09:30:15.900+07:00"))
        let local = LocalDateTime(instant: instant)
        #expect(local.hour == 9 && local.minute == 30 && local.second == 15)
        #expect(local.description == "2026-11-27T09:30:15+07:00")
        #expect(local.minuteText == "2026-11-27 09:30")
        #expect(ISO8601Instant.formatLocal(instant) == "2026-11-27T09:30:15+07:00")
        #expect(LocalDateTime.utcOffsetText == "+07:00" && LocalDateTime.utcOffsetSeconds == 25_200)
        let whole = try #require(ISO8601Instant.parse(ISO8601Instant.formatLocal(instant)))
        #expect(whole.timeIntervalSince1970 == instant.timeIntervalSince1970.rounded(.down))
    }

    @Test func localTimesOnADate() throws {
        let day = try #require(LocalDate("2026-11-27"))
        #expect(day.instant(hour: 17) == ISO8601Instant.parse("2026-11-27T17:00:00+07:00"))
        #expect(day.instant(hour: 8, minute: 30, second: 5) == ISO8601Instant.parse("2026-11-27T08:30:05+07:00"))
        #expect(day.instant(hour: 24) == ISO8601Instant.parse("2026-11-28T00:00:00+07:00"))
        #expect(LocalDateTime(date: day, secondOfDay: -1).description == "2026-11-26T23:59:59+07:00")
        #expect(LocalDateTime(date: day, secondOfDay: 3_600).instant == day.instant(hour: 1))
    }

    @Test func beforeNineteenSeventyAndFarAway() {
        let local = LocalDateTime(instant: Date(timeIntervalSince1970: -25_201))
        #expect(local.description == "1969-12-31T23:59:59+07:00")
        #expect(LocalDate(instant: Date(timeIntervalSince1970: -25_200)).description == "1970-01-01")
        // Clamped, never a trap.
        #expect(LocalDate(instant: Date(timeIntervalSince1970: 1e300)).dayNumber == Int32.max)
        #expect(LocalDate(instant: Date(timeIntervalSince1970: -1e300)).dayNumber == Int32.min)
        #expect(LocalDate(instant: Date(timeIntervalSince1970: .nan)).dayNumber == 0)
        #expect(LocalDate(instant: .distantFuture) > LocalDate(instant: Date()))
    }

    @Test func agreesWithFoundationsCalendar() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = LocalDateTimeTests.hoChiMinh
        // Every ~7.3 hours from 1976 (after the last change of Asia/Ho_Chi_Minh's offset) to 2040, fractions too.
        var t = 189_302_400.25
        while t < 2_208_988_800 {
            let instant = Date(timeIntervalSince1970: t)
            let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: instant)
            let local = LocalDateTime(instant: instant)
            #expect(local.date.year == c.year && local.date.month == c.month && local.date.day == c.day, "\(t)")
            #expect(local.hour == c.hour && local.minute == c.minute && local.second == c.second, "\(t)")
            let midnight = calendar.startOfDay(for: instant)
            #expect(local.date.startInstant == midnight, "\(t)")
            t += 26_357.75
        }
    }
}
