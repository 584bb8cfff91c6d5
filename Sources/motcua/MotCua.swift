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

/// The `motcua` command line: operators', auditors' and developers' entry point.
@main
struct MotCua: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "motcua",
        abstract: "MotCua: one-stop administrative dossiers under delegated authority.",
        subcommands: [RulesCommand.self, CalendarCommand.self, MigrateCommand.self, SubmitCommand.self, SimulateCommand.self,
            WithdrawCommand.self, SupplyCommand.self, ReturnResultCommand.self, ApologyCommand.self, AuditCommand.self,
            StatusCommand.self, ReviewCommand.self, DelegationsCommand.self, ReportCommand.self, TopicsCommand.self,
            OffsetsCommand.self, OutboxCommand.self, PortalCommand.self, OfficialsRegistryCommand.self,
            SlipCommand.self, PayCommand.self, RateCommand.self, ComplainCommand.self,
        ]
    )

    /// As ArgumentParser's, except that `motcua audit …` exits 2 on any error (1 is "differences found", as diff).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var command = command as? AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            if CommandLine.arguments.dropFirst().first == "audit", !(error is ExitCode), exitCode(for: error) != .success {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}
