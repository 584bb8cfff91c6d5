import ServiceCommands

// The industrial-zones department's worker: its decision table and checks, applied to dossiers.industrial-zones.
await WorkerCommand.main(department: "industrial-zones")
