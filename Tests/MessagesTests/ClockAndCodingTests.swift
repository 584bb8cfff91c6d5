import Audit
import EffectivelyOnce
import Foundation
@testable import Messages
import Pages
import ServiceCommands
import Services
import Simulation
import Store
import Testing

@Suite("Clock setting, message coding and stable ids")
struct ClockAndCodingTests {
    @Test("MOTCUA_CLOCK unset is the system clock; simulated runs start + speed × elapsed")
    func clockSetting() throws {
        #expect(try ClockSetting.clock(from: [:]) is SystemClock)
        let epoch = Date().timeIntervalSince1970 - 10
        let clock = try ClockSetting.parse("simulated:start=2026-11-23T08:00:00+07:00,epoch=\(epoch),speed=60")
        let expected = Date(timeIntervalSince1970: 1_795_395_600 + 600)
        #expect(abs(clock.now().timeIntervalSince(expected)) < 5)
        // Two processes given the same setting agree.
        let other = try ClockSetting.parse("simulated:start=2026-11-23T08:00:00+07:00,epoch=\(epoch),speed=60")
        #expect(abs(clock.now().timeIntervalSince(other.now())) < 1)
    }

    @Test("bad MOTCUA_CLOCK values are rejected with what to write instead", arguments: [
        "sundial", "simulated:start=yesterday,epoch=0,speed=1", "simulated:start=2026-11-23T08:00:00+07:00,speed=2",
        "simulated:start=2026-11-23T08:00:00+07:00,epoch=0,speed=-3", "simulated:garbage",
    ])
    func badClock(setting: String) {
        do {
            _ = try ClockSetting.parse(setting)
            Issue.record("accepted \(setting)")
        } catch {
            #expect(error.description.contains("MOTCUA_CLOCK"))
            #expect(error.description.contains("simulated:start="))
        }
    }

    @Test("instants are written in UTC with milliseconds and read back")
    func instants() throws {
        let date = Date(timeIntervalSince1970: 1_795_746_600.123)
        #expect(MessageCoding.formatInstant(date) == "2026-11-27T02:30:00.123Z")
        struct Box: Codable { var at: Date }
        let data = try MessageCoding.encoder().encode(Box(at: date))
        let back = try MessageCoding.decoder().decode(Box.self, from: data)
        #expect(abs(back.at.timeIntervalSince(date)) < 0.001)
        let local = try MessageCoding.decoder().decode(Box.self, from: Data(#"{"at":"2026-11-27T09:30:00+07:00"}"#.utf8))
        #expect(local.at == Date(timeIntervalSince1970: 1_795_746_600))
    }

    @Test("stable ids are deterministic and differ by cause")
    func stableIDs() {
        #expect(StableID.make("event", "decided", "a/0/0") == StableID.make("event", "decided", "a/0/0"))
        #expect(StableID.make("event", "decided", "a/0/0") != StableID.make("event", "decided", "a/0/1"))
        #expect(StableID.make("ab", "c") != StableID.make("a", "bc"))
        let text = StableID.make("x").uuidString
        #expect(text[text.index(text.startIndex, offsetBy: 14)] == "5")
    }
}
