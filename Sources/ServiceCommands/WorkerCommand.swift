import ArgumentParser
import Authority
import Messages
import Services

/// The command line of a department worker executable: `<department>-worker [--rules DIR] [--group G] …`.
public struct WorkerCommand: ParsableArguments {
    @OptionGroup public var runtime: RuntimeOptions

    @Option(help: "Consumer group (every process of one department shares it). Default: motcua.<department>.")
    public var group: String?

    public init() {}

    /// Parses the command line and runs the worker of `department` until SIGTERM/SIGINT.
    public static func main(department: DepartmentID) async {
        do {
            let command = try WorkerCommand.parse()
            let runtime = try Runtime.make(command.runtime.configuration, label: "motcua.\(department)-worker")
            let worker = try DepartmentWorker(
                department: department, bundle: runtime.bundle, clock: runtime.clock, topics: runtime.topics,
                logger: runtime.logger)
            let service = try runtime.service(
                writer: worker, group: command.group ?? runtime.topics.group("motcua.\(department)"),
                topics: [runtime.topics.department(department)],
                batchSize: command.runtime.batchSize)
            try await runtime.run([service], configuration: command.runtime.configuration)
        } catch {
            WorkerCommand.exit(withError: error)
        }
    }
}
