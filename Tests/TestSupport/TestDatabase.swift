import Foundation
import Postgres

/// A database of the test's own on the shared server (`DATABASE_URL`'s cluster), migrated, dropped by `drop()`:
/// for tests whose data or changes (a revocation, a role's rows) must not meet the other tests'.
public final class TestDatabase: @unchecked Sendable {
    public let name: String
    public let url: String
    /// A connection to the server's own database, which creates and drops this one.
    public let admin: PostgresConnection
    public let connection: PostgresConnection

    /// `migratedUpTo`: apply only the migrations up to that version (to test a later migration on older data).
    public init(_ prefix: String = "test", migratedUpTo: Int? = nil) throws {
        let base = try TestEnvironment.databaseURL()
        name = TestEnvironment.unique(prefix)
        let head = base.split(separator: "?", maxSplits: 1)[0]
        let query = base.contains("?") ? "?" + base.split(separator: "?", maxSplits: 1)[1] : ""
        url = head[..<head.lastIndex(of: "/")!] + "/" + name + query
        admin = try PostgresConnection.connect(PostgresConfiguration(connectionString: base), logger: TestEnvironment.logger)
        try admin.execute("CREATE DATABASE \(name)", [])
        connection = try PostgresConnection.connect(PostgresConfiguration(connectionString: url), logger: TestEnvironment.logger)
        let migrator = try Self.migrator()
        try PostgresMigrator(migrations: migrator.migrations.filter { $0.version <= migratedUpTo ?? .max })
            .migrate(connection)
    }

    /// The project's migrations (`schemas/postgres`).
    public static func migrator() throws -> PostgresMigrator {
        try PostgresMigrator(directory: TestEnvironment.root.appendingPathComponent("schemas/postgres"))
    }

    public func drop() {
        _ = try? admin.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)", [])
    }

    /// `DATABASE_URL` for a process that should use this database.
    public var environment: [String: String] { ["DATABASE_URL": url] }
}
