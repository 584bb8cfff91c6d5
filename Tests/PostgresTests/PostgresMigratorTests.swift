import Foundation
import Postgres
import TestSupport
import Testing

@Suite("Migrations against a real server")
struct PostgresMigratorTests {
    let connection: PostgresConnection
    init() throws {
        connection = try PostgresConnection.connect(
            PostgresConfiguration(connectionString: try TestEnvironment.databaseURL()), logger: TestEnvironment.logger)
    }

    func directory(_ files: [String: String]) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(TestEnvironment.unique("migrations"))
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(to: url.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        return url
    }

    @Test("migrations applied twice are applied once, in order")
    func appliedOnce() throws {
        // A schema of its own keeps this test's schema_migrations apart from the project's.
        let schema = TestEnvironment.unique("mig")
        try connection.execute("CREATE SCHEMA \(schema)", [])
        defer { _ = try? connection.execute("DROP SCHEMA \(schema) CASCADE", []) }
        try connection.execute("SET search_path TO \(schema)", [])
        defer { _ = try? connection.execute("SET search_path TO public") }
        let dir = try directory([
            "002_more.sql": "INSERT INTO counter VALUES (2);",
            "001_init.sql": "CREATE TABLE counter (n int); INSERT INTO counter VALUES (1);",
        ])
        let migrator = try PostgresMigrator(directory: dir)
        #expect(migrator.migrations.map(\.version) == [1, 2])
        #expect(try migrator.migrate(connection) == [1, 2])
        #expect(try migrator.migrate(connection) == [])
        #expect(try connection.query("SELECT count(*) AS c FROM counter")[0].decode(Int.self, "c") == 2)
        #expect(try connection.query("SELECT count(*) AS c FROM schema_migrations")[0].decode(Int.self, "c") == 2)
    }

    @Test("a failing migration leaves no trace and names itself")
    func failingMigration() throws {
        let schema = TestEnvironment.unique("migfail")
        try connection.execute("CREATE SCHEMA \(schema)", [])
        defer { _ = try? connection.execute("DROP SCHEMA \(schema) CASCADE", []) }
        try connection.execute("SET search_path TO \(schema)", [])
        defer { _ = try? connection.execute("SET search_path TO public") }
        let dir = try directory(["001_bad.sql": "CREATE TABLE half (n int); SELECT * FROM missing_table;"])
        do {
            try PostgresMigrator(directory: dir).migrate(connection)
            Issue.record("expected the migration to fail")
        } catch let error as PostgresError {
            #expect(error.code == .migration)
            #expect(error.description.contains("001_bad"))
        }
        #expect(try connection.query("SELECT count(*) AS c FROM pg_tables WHERE schemaname = $1 AND tablename = 'half'", [schema])[0].decode(Int.self, "c") == 0)
    }

    @Test("badly named or duplicate migration files are rejected with the file name")
    func badNames() throws {
        #expect(throws: PostgresError.self) { try PostgresMigrator(directory: try directory(["init.sql": ""])) }
        do {
            _ = try PostgresMigrator(directory: try directory(["001_a.sql": "", "001_b.sql": ""]))
            Issue.record("expected duplicate versions to be rejected")
        } catch {
            #expect("\(error)".contains("001_a.sql"))
        }
    }
}
