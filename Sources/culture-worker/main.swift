import ServiceCommands

// The culture department's worker: its decision table and checks, applied to dossiers.culture.
await WorkerCommand.main(department: "culture")
