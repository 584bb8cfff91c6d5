import ArgumentParser
import Audit
import Authority
import EffectivelyOnce
import Foundation
import Messages
import Pages
import ServiceCommands
import Services
import Simulation
import Store

/// `motcua calendar …`: the working-day calendar.
struct CalendarCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calendar",
        abstract: "Working-day calendar computations.",
        subcommands: [Due.self]
    )

    /// `motcua calendar due --received <instant> --limit <N> --unit working-days|days`.
    struct Due: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the due date (YYYY-MM-DD, first line) of a dossier received at an instant.",
            discussion: """
                Received before 15:00 (Asia/Ho_Chi_Minh) on a working day, the dossier counts from that day; \
                otherwise from the next working day. The due date is the N-th working day after it; for calendar \
                days, a period ending on a non-working day ends on the next working day.
                """
        )

        @Option(help: "When the dossier was received: ISO-8601 with offset, e.g. 2026-02-13T16:00:00+07:00.")
        var received: String

        @Option(help: "The time limit, a number of units.")
        var limit: Int

        @Option(help: "working-days or days.")
        var unit: String = TimeLimit.Unit.workingDays.rawValue

        @Option(
            parsing: .singleValue,
            help:
                "A paused interval START/END (two ISO-8601 instants), e.g. while a supplement was awaited. Repeatable.")
        var pause: [String] = []

        @Option(help: "The directory of the vn-YYYY.yaml calendars.")
        var calendars: String = "deploy/calendar"

        func validate() throws {
            guard ISO8601Instant.parse(received) != nil else {
                throw ValidationError("--received: expected an ISO-8601 instant with offset, got \"\(received)\"")
            }
            guard limit >= 0 else { throw ValidationError("--limit must not be negative") }
            guard TimeLimit.Unit(rawValue: unit) != nil else {
                throw ValidationError("--unit must be working-days or days, got \"\(unit)\"")
            }
            for p in pause where parsePause(p) == nil {
                throw ValidationError(
                    "--pause: expected START/END, two ISO-8601 instants with START ≤ END, got \"\(p)\"")
            }
        }

        func run() async throws {
            let calendar: WorkingCalendar
            do {
                calendar = try WorkingCalendar.load(from: URL(fileURLWithPath: calendars, isDirectory: true))
            } catch {
                for problem in error.problems { printError(problem.description) }
                throw ExitCode.failure
            }
            let instant = ISO8601Instant.parse(received)!
            let limit = TimeLimit(value: limit, unit: TimeLimit.Unit(rawValue: unit)!)
            do {
                let due = try calendar.dueDate(receivedAt: instant, limit: limit, pauses: pause.compactMap(parsePause))
                let from = try calendar.effectiveReceiptDay(instant)
                print(due)
                print("counted from \(from) (effective receipt day), \(limit)")
            } catch {
                printError(error.description)
                throw ExitCode.failure
            }
        }

        private func parsePause(_ text: String) -> DateInterval? {
            let parts = text.split(separator: "/", maxSplits: 1)
            guard parts.count == 2, let start = ISO8601Instant.parse(parts[0]),
                let end = ISO8601Instant.parse(parts[1]),
                start <= end
            else { return nil }
            return DateInterval(start: start, end: end)
        }
    }
}
