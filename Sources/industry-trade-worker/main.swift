import ServiceCommands

// The industry-trade department's worker: its decision table and checks, applied to dossiers.industry-trade.
await WorkerCommand.main(department: "industry-trade")
