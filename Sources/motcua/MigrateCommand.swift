import ArgumentParser
import Audit
import Authority
import EffectivelyOnce
import Foundation
import Logging
import Messages
import Pages
import Postgres
import ServiceCommands
import Services
import Simulation
import Store

/// `motcua migrate`: applies the SQL migrations to the database of `DATABASE_URL` (or the `PG*` variables).
struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply the PostgreSQL migrations (schemas/postgres/NNN_*.sql) that are not applied yet.",
        discussion: """
            Each file is applied once, in order, in its own transaction, and recorded in schema_migrations. \
            Several services may run it at once (an advisory lock serializes them).

            Example: DATABASE_URL=postgresql://motcua@127.0.0.1/motcua motcua migrate
            """)

    @Option(help: "Directory of NNN_name.sql files.")
    var directory: String = "schemas/postgres"

    func run() throws {
        var logger = Logger(label: "motcua.migrate")
        logger.logLevel = .warning
        let environment = ProcessInfo.processInfo.environment
        guard environment["DATABASE_URL"] != nil || environment["PGHOST"] != nil || environment["PGDATABASE"] != nil else {
            throw ValidationError("DATABASE_URL is not set: export the PostgreSQL URL (or PGHOST/PGDATABASE)")
        }
        let migrator = try PostgresMigrator(directory: URL(fileURLWithPath: directory))
        let connection = try PostgresConnection.connect(.fromEnvironment(environment), logger: logger)
        let applied = try migrator.migrate(connection)
        print(applied.isEmpty
              ? "migrations: up to date (\(migrator.migrations.count) known)"
              : "migrations: applied \(applied.map(String.init).joined(separator: ", "))")
    }
}
