import Foundation

extension LocalDate {
    /// The local date (Asia/Ho_Chi_Minh, UTC+7) of `instant`.
    @inline(__always)
    public init(instant: Date) {
        self = LocalDateTime(instant: instant).date
    }

    /// The instant of local midnight (00:00 in Asia/Ho_Chi_Minh) that starts this date.
    public var startInstant: Date {
        LocalDateTime(date: self, secondOfDay: 0).instant
    }

    /// The instant of `hour`:`minute`:`second` local time (Asia/Ho_Chi_Minh) on this date; values beyond a day
    /// carry into the following days (hour 24 is the next midnight).
    public func instant(hour: Int, minute: Int = 0, second: Int = 0) -> Date {
        LocalDateTime(date: self, secondOfDay: hour * 3600 + minute * 60 + second).instant
    }
}
