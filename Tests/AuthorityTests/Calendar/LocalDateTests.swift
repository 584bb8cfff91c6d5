import Foundation
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

    /// The byte-writing `format` gives what the interpolating one did (kept here as the reference), over random
    /// instants from year 1 to 9999, with and without milliseconds, and the round-up to the next second.
    @Test func instantsFormatAsTheReference() {
        func reference(_ date: Date) -> String {
            let t = date.timeIntervalSince1970
            let whole = t.rounded(.down)
            var millis = Int(((t - whole) * 1000).rounded())
            var seconds = Int64(whole)
            if millis == 1000 {
                millis = 0
                seconds += 1
            }
            let days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
            let rest = Int(seconds - days * 86400)
            func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
            var s = "\(LocalDate(dayNumber: Int32(days)))T\(two(rest / 3600)):\(two(rest / 60 % 60)):\(two(rest % 60))"
            if millis != 0 {
                let m = String(millis)
                s += "." + String(repeating: "0", count: 3 - m.count) + m
            }
            return s + "Z"
        }
        var rng = SplitMix64(seed: 13)
        var instants = [0, -0.5, 0.9996, 1_795_746_600.125, -62_135_596_800, 253_402_300_799.999].map {
            Date(timeIntervalSince1970: $0)
        }
        for _ in 0..<20_000 {
            let seconds = Double(Int64.random(in: -62_135_596_800...253_402_300_799, using: &rng))
            let fraction = [0, 0.001, 0.5, 0.9995, Double(Int.random(in: 0..<1000, using: &rng)) / 1000].randomElement(
                using: &rng)!
            instants.append(Date(timeIntervalSince1970: seconds + fraction))
        }
        for instant in instants {
            #expect(ISO8601Instant.format(instant) == reference(instant), "\(instant.timeIntervalSince1970)")
        }
    }
}
