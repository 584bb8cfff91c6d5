import ServiceCommands

// The environment department's worker: its decision table and checks, applied to dossiers.environment.
await WorkerCommand.main(department: "environment")
