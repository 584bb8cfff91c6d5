import ServiceCommands

// The labour department's worker: its decision table and checks, applied to dossiers.labour.
await WorkerCommand.main(department: "labour")
