import ArgumentParser
import EffectivelyOnce
import Foundation
import Kafka
import Operations

/// `motcua offsets`: the offsets a consumer group stored in PostgreSQL, next to the broker's, and the operator's
/// way to resume a partition whose stored offset is ahead of the broker (data lost, a topic recreated).
struct OffsetsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "offsets",
        abstract: "Consumer offsets stored in PostgreSQL, beside the broker's watermarks; resume a stopped partition.",
        discussion: """
            A consumer stops a partition that no longer holds what PostgreSQL says the group consumed: the stored \
            offset beyond the broker's high watermark (data lost), below its low watermark (deleted by retention \
            before it was consumed), or the message before the stored offset not the one consumed (the topic \
            recreated and refilled). Nothing is skipped silently; /health/ready reports it and the metric \
            motcua_partitions_stopped counts it. Decide where it resumes and store that offset with --confirm \
            (without it, reset only says what it would change); the reset is recorded (offset_resets) and the \
            consumer resumes within seconds. Needs DATABASE_URL (the schema owner's role) and KAFKA_BOOTSTRAP.

            Examples:
              motcua offsets list --group motcua.labour
              motcua offsets reset --group motcua.labour --topic dossiers.labour --partition 3 --to earliest
              motcua offsets reset --group motcua.labour --topic dossiers.labour --partition 3 --to earliest \
                --confirm --reason "devbroker restarted empty" --by nguyen.an
            """,
        subcommands: [List.self, Reset.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stored offsets of a group with the broker's low and high watermarks; where a partition stops.",
            aliases: ["show"])

        @Option(help: "The consumer group (e.g. motcua.labour, motcua.reception, motcua.coordinator).")
        var group: String

        func run() async throws {
            let db = try CLI.database()
            let admin = try KafkaAdmin(options: .fromEnvironment(CLI.environment), logger: CLI.quietLogger)
            let stored = try OffsetStore(group: group).stored(on: db)
            guard !stored.isEmpty else {
                print("no offsets stored for group '\(TerminalText.escape(group))'")
                return
            }
            let rows = stored.map { item -> [String] in
                let marks = try? admin.watermarks(item.partition, timeout: .seconds(5))
                let state: String
                if let marks {
                    if item.next > marks.high {
                        state = "AHEAD of the broker: stopped"
                    } else if item.next < marks.low {
                        state = "BELOW the broker's low watermark: stopped"
                    } else {
                        state = "lag \(marks.high - item.next)"
                    }
                } else {
                    state = "broker did not answer"
                }
                return [
                    TerminalText.escape(item.partition.topic), String(item.partition.partition), String(item.next),
                    marks.map { "\($0.low)–\($0.high)" } ?? "?", state,
                ]
            }
            print(CLI.table(["topic", "partition", "stored", "broker", "state"], rows))
            print("a partition whose message before the stored offset is not the one consumed is stopped by its "
                + "consumer too (see its log and /health/ready)")
        }
    }

    struct Reset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Store the offset a partition resumes from (dry run without --confirm), recorded.")

        @Option(help: "The consumer group.")
        var group: String

        @Option(help: "The topic.")
        var topic: String

        @Option(parsing: .unconditional, help: "The partition.")
        var partition: Int

        @Option(
            parsing: .unconditional,
            help: "Where it resumes: earliest (all the broker still has), latest (after it), or an offset N within the broker's range.")
        var to: String

        @Flag(help: "Store it. Without this flag, only say what would change.")
        var confirm = false

        @Option(help: "Why (recorded; required with --confirm).")
        var reason: String?

        @Option(help: "Who decides (recorded; default: $USER).")
        var by: String?

        var operatorName: String { by ?? CLI.environment["USER"] ?? "" }

        func validate() throws {
            guard partition >= 0, partition <= Int(Int32.max) else {
                throw ValidationError("--partition must be a partition number (0 or more), got \(partition)")
            }
            if to != "earliest" && to != "latest" {
                guard let offset = Int64(to) else {
                    throw ValidationError("--to must be earliest, latest or an offset (0 or more), got '\(to)'")
                }
                guard offset >= 0 else { throw ValidationError("--to must be an offset (0 or more), got \(offset)") }
            }
            if confirm {
                guard let reason, !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
                    throw ValidationError("--confirm needs --reason: say why (it is recorded with your name)")
                }
                guard !operatorName.trimmingCharacters(in: .whitespaces).isEmpty else {
                    throw ValidationError("no operator name: pass --by NAME (USER is not set)")
                }
            }
        }

        func run() async throws {
            let target = TopicPartition(topic, Int32(partition))
            let admin = try KafkaAdmin(options: .fromEnvironment(CLI.environment), logger: CLI.quietLogger)
            let marks: (low: Int64, high: Int64)
            do {
                marks = try admin.watermarks(target, timeout: .seconds(10))
            } catch {
                throw CLIError("cannot read the watermarks of \(TerminalText.escape(topic))[\(partition)] (\(error)): check the topic, the partition and KAFKA_BOOTSTRAP")
            }
            let offset: Int64 = to == "earliest" ? marks.low : to == "latest" ? marks.high : Int64(to)!
            guard (marks.low...marks.high).contains(offset) else {
                throw CLIError(
                    "--to \(offset) is outside the broker's range \(marks.low)–\(marks.high) for \(TerminalText.escape(topic))[\(partition)]: "
                        + "choose earliest (\(marks.low)) to read everything the broker still has, or latest (\(marks.high)) to start after it")
            }
            let db = try CLI.database()
            let store = OffsetStore(group: group)
            let name = "\(TerminalText.escape(group)) \(TerminalText.escape(topic))[\(partition)]"
            guard confirm else {
                let current = try store.positions([target], from: db)[target]?.next
                print("would store \(name): \(current.map(String.init) ?? "nothing") → \(offset) "
                    + "(broker \(marks.low)–\(marks.high)); the group would read \(marks.high - offset) message(s) from there. "
                    + "Nothing changed: add --confirm --reason \"…\" to store it")
                return
            }
            let previous = try store.reset(target, to: offset, operator: operatorName, reason: reason ?? "", on: db)
            print("\(name): stored \(previous.map(String.init) ?? "nothing") → \(offset), recorded; a consumer that "
                + "stopped the partition resumes within seconds")
        }
    }
}
