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

    /// The workers' consumer groups rebalance cooperatively: a member joining or leaving moves only the partitions
    /// that change hands, and the others keep consuming (`CooperativeRebalanceTests`; pauses in BENCHMARKS.md).
    /// `KAFKA_PARTITION_ASSIGNMENT_STRATEGY` overrides it; every member of a group must use the same strategy
    /// (docs/operators.md, Scaling: how to switch a running group).
    public static let assignmentStrategy = "cooperative-sticky"

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
                batchSize: command.runtime.batchSize, assignmentStrategy: WorkerCommand.assignmentStrategy)
            try await runtime.run([service], configuration: command.runtime.configuration)
        } catch {
            WorkerCommand.exit(withError: error)
        }
    }
}
