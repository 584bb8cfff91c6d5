import ArgumentParser
import EffectivelyOnce
import Foundation
import Operations

/// `motcua outbox`: the rows the relays parked because the broker refuses them for good, and the operator's two
/// decisions on one (retry, discard), recorded.
struct OutboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox",
        abstract: "Parked outbox rows (refused by the broker for good): list, retry or discard them, recorded.",
        discussion: """
            A relay parks a row the broker refuses for good (too large, malformed, a topic it will not take) and goes \
            on with the other keys; the later rows of the parked row's topic and key wait behind it, in order. \
            Retry a row once the cause is fixed (e.g. the topic's max.message.bytes raised): its relay publishes it \
            within seconds and the rows behind it follow; refused again, it is parked again. Discard a row that must \
            never be published: the rows behind it follow without it. Every decision is recorded in outbox_actions \
            (operator, database role, time, reason). Needs DATABASE_URL (the schema owner's role).

            Examples:
              motcua outbox parked
              motcua outbox retry 1234 --reason "dossiers.labour max.message.bytes raised to 2 MB" --by nguyen.an
              motcua outbox discard 1234 --reason "test dossier, re-submitted as 1240" --by nguyen.an
            """,
        subcommands: [Parked.self, Retry.self, Discard.self])

    struct Parked: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Parked rows, oldest first, with their reason and how many rows of their key wait behind them.")

        @Option(help: "Only this outbox source (reception, coordinator, a department).")
        var source: String?

        func run() async throws {
            let rows = try OutboxParking.parked(source: source, on: try CLI.database())
            guard !rows.isEmpty else {
                print("no parked outbox rows" + (source.map { " of source '\(TerminalText.escape($0))'" } ?? ""))
                return
            }
            print(CLI.table(
                ["id", "source", "topic", "key", "type", "bytes", "parked at", "held behind", "reason"],
                rows.map {
                    [String($0.id), TerminalText.escape($0.source), TerminalText.escape($0.topic),
                     TerminalText.escape($0.key), TerminalText.escape($0.type), String($0.length),
                     ISO8601DateFormatter().string(from: $0.parkedAt), String($0.heldBehind),
                     TerminalText.escape($0.reason)]
                }))
            print("resolve each with: motcua outbox retry ID --reason … | motcua outbox discard ID --reason …")
        }
    }

    struct DecisionOptions: ParsableArguments {
        @Argument(help: "The parked row's id (from `motcua outbox parked`).")
        var id: Int64

        @Option(help: "Why (recorded).")
        var reason: String

        @Option(help: "Who decides (recorded; default: $USER).")
        var by: String?

        var operatorName: String { by ?? CLI.environment["USER"] ?? "" }

        func validate() throws {
            guard id > 0 else { throw ValidationError("the row id must be positive, got \(id): see `motcua outbox parked`") }
            guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw ValidationError("--reason is empty: say why (it is recorded with your name)")
            }
            guard !operatorName.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw ValidationError("no operator name: pass --by NAME (USER is not set)")
            }
        }
    }

    static func decide(_ action: OutboxParking.Action, _ options: DecisionOptions) throws -> OutboxParking.Parked {
        do {
            return try OutboxParking.act(
                action, on: options.id, operator: options.operatorName, reason: options.reason,
                connection: try CLI.database())
        } catch let refusal as OutboxParking.Refusal {
            throw CLIError(refusal.description)
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Publish a parked row again (its relay does, within seconds); the rows behind it then follow.")

        @OptionGroup var options: DecisionOptions

        @Flag(help: "Wait until the row is sent (or parked again).")
        var wait = false

        @Option(help: "Seconds to wait with --wait.")
        var timeout: Int = 60

        func run() async throws {
            let row = try OutboxCommand.decide(.retry, options)
            print("outbox row \(row.id) (\(TerminalText.escape(row.topic))) released for retry by \(TerminalText.escape(options.operatorName)); "
                + "\(row.heldBehind) row(s) of its key follow once it is sent")
            guard wait else { return }
            let db = try CLI.database()
            let deadline = ContinuousClock.now + .seconds(timeout)
            while ContinuousClock.now < deadline {
                if try OutboxParking.isSent(row.id, on: db) {
                    print("sent")
                    return
                }
                if let again = try OutboxParking.parked(source: row.source, on: db).first(where: { $0.id == row.id }) {
                    throw CLIError("outbox row \(row.id) was refused again and parked: \(TerminalText.escape(again.reason))")
                }
                try await Task.sleep(for: .milliseconds(200))
            }
            throw CLIError("outbox row \(row.id) not sent within \(timeout) s: is the relay of source '\(TerminalText.escape(row.source))' running?")
        }
    }

    struct Discard: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Never publish a parked row; the rows behind it follow without it.")

        @OptionGroup var options: DecisionOptions

        func run() async throws {
            let row = try OutboxCommand.decide(.discard, options)
            print("outbox row \(row.id) (\(TerminalText.escape(row.topic))) discarded by \(TerminalText.escape(options.operatorName)); "
                + "\(row.heldBehind) row(s) of its key follow without it")
        }
    }
}
