import Authority
import EffectivelyOnce
import Foundation
import Kafka
import Synchronization

/// Where every MotCua executable reads "now" from.
///
/// Chosen by `MOTCUA_CLOCK`: unset is the system clock; `simulated:start=<ISO-8601>,epoch=<unix seconds>,speed=<x>`
/// is `start + speed × (wall time − epoch)`, so that processes given the same setting agree.
public protocol MotCuaClock: Sendable {
    func now() -> Date
}

/// The system clock.
public struct SystemClock: MotCuaClock {
    public init() {}
    public func now() -> Date { Date() }
}

/// A clock that runs `speed` times faster than the wall, starting at `start` when the wall showed `epoch`.
public struct SimulatedClock: MotCuaClock, Equatable {
    public var start: Date
    public var epoch: Date
    public var speed: Double

    public init(start: Date, epoch: Date, speed: Double) {
        self.start = start
        self.epoch = epoch
        self.speed = speed
    }

    public func now() -> Date { start.addingTimeInterval(speed * Date().timeIntervalSince(epoch)) }
}

/// A clock that tests move by hand.
public final class ManualClock: MotCuaClock {
    private let current: Mutex<Date>
    public init(_ start: Date) { current = Mutex(start) }
    public func now() -> Date { current.withLock { $0 } }
    public func set(_ date: Date) { current.withLock { $0 = date } }
    public func advance(by seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

/// A `MOTCUA_CLOCK` value that could not be understood.
public struct ClockSettingError: Error, CustomStringConvertible {
    public var setting: String
    public var problem: String
    public var description: String {
        "MOTCUA_CLOCK='\(setting)': \(problem). Use nothing (system clock) or "
            + "simulated:start=2026-11-23T08:00:00+07:00,epoch=<unix seconds>,speed=<factor>"
    }
}

public enum ClockSetting {
    /// The clock `MOTCUA_CLOCK` asks for.
    public static func clock(from environment: [String: String]) throws(ClockSettingError) -> any MotCuaClock {
        guard let setting = environment["MOTCUA_CLOCK"], !setting.isEmpty, setting != "system" else {
            return SystemClock()
        }
        return try parse(setting)
    }

    public static func parse(_ setting: String) throws(ClockSettingError) -> SimulatedClock {
        guard setting.hasPrefix("simulated:") else {
            throw ClockSettingError(setting: setting, problem: "unknown clock kind")
        }
        var fields: [String: String] = [:]
        for part in setting.dropFirst("simulated:".count).split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { throw ClockSettingError(setting: setting, problem: "'\(part)' is not key=value") }
            fields[String(pair[0])] = String(pair[1])
        }
        guard let startText = fields["start"], let start = parseInstant(startText) else {
            throw ClockSettingError(setting: setting, problem: "start= must be an ISO-8601 instant with offset")
        }
        guard let epochText = fields["epoch"], let epoch = Double(epochText) else {
            throw ClockSettingError(setting: setting, problem: "epoch= must be unix seconds")
        }
        let speed = Double(fields["speed"] ?? "1") ?? -1
        guard speed > 0 else { throw ClockSettingError(setting: setting, problem: "speed= must be a positive number") }
        return SimulatedClock(start: start, epoch: Date(timeIntervalSince1970: epoch), speed: speed)
    }

    static func parseInstant(_ text: String) -> Date? {
        // Every message date goes through here: the hand-written parser takes what MotCua writes
        // (`2026-11-27T02:30:00.123Z`, offsets `±HH:MM`); an ISO8601DateFormatter costs ~0.3 ms to create, so it is
        // only the fallback for other forms it may accept.
        if let date = ISO8601Instant.parse(text) { return date }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }
}
