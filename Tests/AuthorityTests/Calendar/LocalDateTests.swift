import Testing

@testable import Authority

@Suite("Local dates")
struct LocalDateTests {
    @Test func parsesAndFormats() throws {
        let date = try #require(LocalDate("2026-02-17"))
        #expect(date.description == "2026-02-17")
        #expect(date.year == 2026 && date.month == 2 && date.day == 17)
        #expect(date.weekday == 2)  // Tuesday
        #expect(LocalDate("1970-01-01")?.dayNumber == 0)
        #expect(LocalDate("2026-02-29") == nil)
        #expect(LocalDate("2028-02-29") != nil)
        #expect(LocalDate("2026-13-01") == nil)
        #expect(LocalDate("2026-1-01") == nil)
        #expect(LocalDate("2026-01-01T00:00") == nil)
    }

    @Test func dayNumbersRoundTrip() {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<10_000 {
            let n = Int32.random(in: -100_000...100_000, using: &rng)
            let date = LocalDate(dayNumber: n)
            #expect(LocalDate(date.description)?.dayNumber == n)
            #expect(date.adding(days: 1).weekday == date.weekday % 7 + 1)
        }
    }

    @Test func instantsNeedAnOffset() {
        #expect(ISO8601Instant.parse("2026-11-27T09:30:00+07:00")?.timeIntervalSince1970 == 1_795_746_600)
        #expect(ISO8601Instant.parse("2026-11-27T02:30:00Z")?.timeIntervalSince1970 == 1_795_746_600)
        #expect(ISO8601Instant.parse("2026-11-27T09:30:00") == nil)
        #expect(ISO8601Instant.parse("2026-11-27 09:30:00+07:00") == nil)
        #expect(ISO8601Instant.parse("2026-02-30T09:30:00+07:00") == nil)
        #expect(
            ISO8601Instant.format(ISO8601Instant.parse("2026-11-27T09:30:00.125+07:00")!) == "2026-11-27T02:30:00.125Z")
    }
}
