import ArgumentParser
import Foundation

/// The command line of the `coordinator` executable. It hosts reception (intake → dossiers → department topics);
/// `--reception-only` runs reception alone.
public struct CoordinatorCommand: ParsableArguments {
    @OptionGroup public var runtime: RuntimeOptions

    @Flag(help: "Run only the reception service.")
    public var receptionOnly = false

    @Option(help: "Consumer group of reception.")
    public var receptionGroup: String = "motcua.reception"

    public init() {}

    public static func main() async {
        do {
            let command = try CoordinatorCommand.parse()
            let runtime = try Runtime.make(command.runtime, label: "motcua.coordinator")
            let reception = Reception(bundle: runtime.bundle, clock: runtime.clock, logger: runtime.logger)
            let service = try runtime.service(
                writer: reception, group: command.receptionGroup, topics: [Topics.intake],
                batchSize: command.runtime.batchSize)
            try await runtime.run([service], options: command.runtime)
        } catch {
            CoordinatorCommand.exit(withError: error)
        }
    }
}
