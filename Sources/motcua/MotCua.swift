import ArgumentParser

/// The `motcua` command line: operators', auditors' and developers' entry point.
@main
struct MotCua: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "motcua",
        abstract: "MotCua: one-stop administrative dossiers under delegated authority.",
        subcommands: [RulesCommand.self, CalendarCommand.self, MigrateCommand.self, SubmitCommand.self, SimulateCommand.self,
            WithdrawCommand.self, ReturnResultCommand.self, ApologyCommand.self,
            StatusCommand.self, ReviewCommand.self, DelegationsCommand.self, ReportCommand.self, TopicsCommand.self,
        ]
    )
}
