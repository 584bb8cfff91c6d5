import Foundation

/// A wall-clock moment in Asia/Ho_Chi_Minh: a local date and the whole seconds since its midnight.
///
/// The one conversion between instants and local time in the code base. Asia/Ho_Chi_Minh has been UTC+7 without
/// daylight saving since 1975, so the conversion is a fixed shift of ``utcOffsetSeconds``; every other local-time
/// helper (``LocalDate/init(instant:)``, ``LocalDate/startInstant``, ``ISO8601Instant/formatLocal(_:)``) goes
/// through this type.
public struct LocalDateTime: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Asia/Ho_Chi_Minh's offset from UTC, in seconds: 25,200 (seven hours), all year.
    public static let utcOffsetSeconds: Int = 25_200
    /// The offset as ISO 8601 writes it: `+07:00`.
    public static let utcOffsetText = "+07:00"
    static let secondsPerDay: Int64 = 86_400

    /// The local date.
    public let date: LocalDate
    /// Whole seconds since local midnight, `0..<86_400` (a fraction of a second is dropped).
    public let secondOfDay: Int

    /// The local date and time of `instant`.
    ///
    /// Instants too far from 1970 for a `LocalDate` (beyond ±5.8 million years) are clamped to its first or last
    /// day; a NaN instant is 1970-01-01 00:00 local time.
    @inline(__always)
    public init(instant: Date) {
        let (day, second) = LocalDateTime.split(instant.timeIntervalSince1970)
        self.date = LocalDate(dayNumber: day)
        self.secondOfDay = second
    }

    /// `secondOfDay` seconds after local midnight on `date`; values outside `0..<86_400` carry into the days
    /// before or after.
    public init(date: LocalDate, secondOfDay: Int) {
        let (days, second) = Int64(secondOfDay).floorDivided(by: LocalDateTime.secondsPerDay)
        self.date = days == 0 ? date : LocalDate(dayNumber: Int32(clamping: Int64(date.dayNumber) + days))
        self.secondOfDay = Int(second)
    }

    /// Local hour, `0..<24`.
    public var hour: Int { secondOfDay / 3600 }
    /// Local minute, `0..<60`.
    public var minute: Int { secondOfDay / 60 % 60 }
    /// Local second, `0..<60`.
    public var second: Int { secondOfDay % 60 }

    /// The instant of this local moment.
    public var instant: Date {
        Date(
            timeIntervalSince1970: Double(
                Int64(date.dayNumber) * LocalDateTime.secondsPerDay + Int64(secondOfDay)
                    - Int64(LocalDateTime.utcOffsetSeconds)))
    }

    /// ISO 8601 with the local offset: `2026-11-27T09:30:00+07:00`.
    public var description: String {
        "\(date)T\(LocalDateTime.two(hour)):\(LocalDateTime.two(minute)):\(LocalDateTime.two(second))"
            + LocalDateTime.utcOffsetText
    }

    /// Date and time to the minute, for people: `2026-11-27 09:30`.
    public var minuteText: String {
        "\(date) \(LocalDateTime.two(hour)):\(LocalDateTime.two(minute))"
    }

    public static func < (lhs: LocalDateTime, rhs: LocalDateTime) -> Bool {
        (lhs.date, lhs.secondOfDay) < (rhs.date, rhs.secondOfDay)
    }

    /// The local day number (days since 1970-01-01) and the whole seconds since local midnight of
    /// `secondsSince1970` (UTC); the day clamped to what a `LocalDate` holds, a NaN instant 1970-01-01 00:00.
    @inline(__always)
    static func split(_ secondsSince1970: Double) -> (day: Int32, secondOfDay: Int) {
        let (day, second) = localDayAndSecond(secondsSince1970)
        guard day > Double(Int32.min), day < Double(Int32.max) else {
            return (day.isNaN ? 0 : day < 0 ? Int32.min : Int32.max, 0)
        }
        // Within a day by construction; the bounds only guard against rounding far from 1970.
        return (Int32(day), Int(min(max(second, 0), Double(secondsPerDay - 1))))
    }

    /// The local day (days since 1970-01-01, a whole number) and the seconds since local midnight, fraction
    /// included, of `secondsSince1970` (UTC): the arithmetic itself, in floating point as the due-date path needs it
    /// (no integer division). NaN for NaN.
    @inline(__always)
    static func localDayAndSecond(_ secondsSince1970: Double) -> (day: Double, second: Double) {
        let local = secondsSince1970 + Double(utcOffsetSeconds)
        let day = (local / Double(secondsPerDay)).rounded(.down)
        return (day, local - day * Double(secondsPerDay))
    }

    private static func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
}

extension Int64 {
    /// Quotient rounded toward negative infinity, and the remainder in `0..<divisor` (`divisor` > 0).
    @inline(__always)
    fileprivate func floorDivided(by divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let (q, r) = quotientAndRemainder(dividingBy: divisor)
        return r < 0 ? (q - 1, r + divisor) : (q, r)
    }
}
