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
            A consumer stops a partition whose stored offset is beyond the broker's high watermark (the broker lost \
            data the group had consumed): nothing is skipped silently; /health/ready reports it and the metric \
            motcua_partitions_stopped counts it. Decide where it resumes and store that offset; the consumer \
            resumes within seconds. Needs DATABASE_URL (the owner's or the group's role) and KAFKA_BOOTSTRAP.

            Examples:
              motcua offsets list --group motcua.labour
              motcua offsets reset --group motcua.labour --topic dossiers.labour --partition 3 --to 0
            """,
        subcommands: [List.self, Reset.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stored offsets of a group with the broker's low and high watermarks; 'ahead' where stopped.")

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
                    state = item.next > marks.high ? "AHEAD of the broker: stopped" : "ok, lag \(marks.high - item.next)"
                } else {
                    state = "broker did not answer"
                }
                return [
                    TerminalText.escape(item.partition.topic), String(item.partition.partition), String(item.next),
                    marks.map { "\($0.low)–\($0.high)" } ?? "?", state,
                ]
            }
            print(CLI.table(["topic", "partition", "stored", "broker", "state"], rows))
        }
    }

    struct Reset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Store the offset a partition resumes from (within the broker's watermarks).")

        @Option(help: "The consumer group.")
        var group: String

        @Option(help: "The topic.")
        var topic: String

        @Option(help: "The partition.")
        var partition: Int

        @Option(help: "The next offset to consume: between the broker's low and high watermarks.")
        var to: Int64

        func validate() throws {
            guard partition >= 0, partition <= Int(Int32.max) else {
                throw ValidationError("--partition must be a partition number (0 or more), got \(partition)")
            }
            guard to >= 0 else { throw ValidationError("--to must be an offset (0 or more), got \(to)") }
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
            guard (marks.low...marks.high).contains(to) else {
                throw CLIError(
                    "--to \(to) is outside the broker's range \(marks.low)–\(marks.high) for \(TerminalText.escape(topic))[\(partition)]: "
                        + "choose \(marks.low) to read everything the broker still has, or \(marks.high) to start after it")
            }
            let previous = try OffsetStore(group: group).reset(target, to: to, on: try CLI.database())
            print("\(TerminalText.escape(group)) \(TerminalText.escape(topic))[\(partition)]: stored \(previous.map(String.init) ?? "nothing") → \(to)")
        }
    }
}
