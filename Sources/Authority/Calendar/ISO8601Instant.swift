import Foundation

/// Parser and formatter for the instants of the data formats: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`.
///
/// Hand-written because `ISO8601DateFormatter` is slow on the intake path and a time zone offset is required
/// (an instant without one is ambiguous).
public enum ISO8601Instant {
    /// The instant, or nil when `text` is not `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` or names no real time.
    public static func parse(_ text: some StringProtocol) -> Date? {
        StringLayout.withUTF8(String(text)) { parse(utf8: $0) }
    }

    static func parse(utf8 b: UnsafeBufferPointer<UInt8>) -> Date? {
        guard b.count >= 20, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
            b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t"), b[13] == UInt8(ascii: ":"),
            b[16] == UInt8(ascii: ":")
        else { return nil }
        func num(_ start: Int, _ count: Int) -> Int? {
            var v = 0
            for i in start..<(start + count) {
                let c = b[i]
                guard c >= 48, c <= 57 else { return nil }
                v = v * 10 + Int(c - 48)
            }
            return v
        }
        guard let year = num(0, 4), let month = num(5, 2), let day = num(8, 2), let hour = num(11, 2),
            let minute = num(14, 2), let second = num(17, 2), hour < 24, minute < 60, second < 60,
            LocalDate(year: year, month: month, day: day) != nil
        else { return nil }
        var i = 19
        var fraction = 0.0
        if b[i] == UInt8(ascii: ".") {
            i += 1
            var scale = 0.1
            let start = i
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                fraction += Double(b[i] - 48) * scale
                scale /= 10
                i += 1
            }
            guard i > start else { return nil }
        }
        guard i < b.count else { return nil }
        var offset = 0
        if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") {
            i += 1
        } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            guard i + 6 == b.count, b[i + 3] == UInt8(ascii: ":"), let oh = num(i + 1, 2), let om = num(i + 4, 2),
                oh < 24, om < 60
            else { return nil }
            offset = (oh * 3600 + om * 60) * (b[i] == UInt8(ascii: "-") ? -1 : 1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        let days = LocalDate.daysFromCivil(year, month, day)
        let seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    /// Formats in UTC with millisecond precision when the instant has a fraction: `2026-11-27T02:30:00Z`.
    public static func format(_ date: Date) -> String {
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
        let date = LocalDate(dayNumber: Int32(days))
        let civil = date.civil
        if (0...9999).contains(civil.year) {
            // The bytes written into the string's own storage: the interpolation below cost ~1 µs an instant, and
            // every event, stage entry and dossier digest formats one or more (BENCHMARKS.md, session 13).
            return String(unsafeUninitializedCapacity: 24) { buffer in
                func put(_ value: Int, _ width: Int, at start: Int) {
                    var v = value
                    for i in stride(from: start + width - 1, through: start, by: -1) {
                        buffer[i] = UInt8(truncatingIfNeeded: 48 + v % 10)
                        v /= 10
                    }
                }
                put(civil.year, 4, at: 0)
                buffer[4] = UInt8(ascii: "-")
                put(civil.month, 2, at: 5)
                buffer[7] = UInt8(ascii: "-")
                put(civil.day, 2, at: 8)
                buffer[10] = UInt8(ascii: "T")
                put(rest / 3600, 2, at: 11)
                buffer[13] = UInt8(ascii: ":")
                put(rest / 60 % 60, 2, at: 14)
                buffer[16] = UInt8(ascii: ":")
                put(rest % 60, 2, at: 17)
                var count = 19
                if millis != 0 {
                    buffer[19] = UInt8(ascii: ".")
                    put(millis, 3, at: 20)
                    count = 23
                }
                buffer[count] = UInt8(ascii: "Z")
                return count + 1
            }
        }
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        var s = "\(date)T\(two(rest / 3600)):\(two(rest / 60 % 60)):\(two(rest % 60))"
        if millis != 0 {
            let m = String(millis)
            s += "." + String(repeating: "0", count: 3 - m.count) + m
        }
        return s + "Z"
    }

    /// Formats in local time (Asia/Ho_Chi_Minh) with its offset, to the whole second: `2026-11-27T09:30:00+07:00`.
    public static func formatLocal(_ date: Date) -> String {
        LocalDateTime(instant: date).description
    }
}
