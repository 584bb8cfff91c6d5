import Foundation

/// Applies `NNN_name.sql` files from a directory exactly once each, in order, each in its own transaction,
/// recording them in `schema_migrations`.
///
/// Concurrent migrators are serialized by an advisory lock, so several services may start at once.
public struct PostgresMigrator: Sendable {
    public struct Migration: Sendable, Hashable {
        public var version: Int
        public var name: String
        public var sql: String
        /// The file it came from (`001_init.sql`), for messages.
        public var file: String

        public init(version: Int, name: String, sql: String, file: String? = nil) {
            self.version = version
            self.name = name
            self.sql = sql
            self.file = file ?? "\(version)_\(name).sql"
        }
    }

    public let migrations: [Migration]

    /// Reads the migrations of `directory`. A file that does not match `NNN_name.sql`, or two files with the same
    /// number, is an error naming the file.
    public init(directory: URL) throws(PostgresError) {
        let files: [String]
        do {
            files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw PostgresError(.migration, context: "cannot list migrations in \(directory.path): \(error)")
        }
        var seen: [Int: String] = [:]
        var migrations: [Migration] = []
        for file in files.sorted() where file.hasSuffix(".sql") {
            let stem = file.dropLast(4)
            guard let underscore = stem.firstIndex(of: "_"), let version = Int(stem[..<underscore]), version > 0 else {
                throw PostgresError(.migration, context: "\(file): name must be NNN_description.sql (e.g. 001_init.sql)")
            }
            if let other = seen[version] {
                throw PostgresError(.migration, context: "\(file) and \(other) share version \(version); renumber one")
            }
            seen[version] = file
            let sql: String
            do {
                sql = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            } catch {
                throw PostgresError(.migration, context: "cannot read \(file): \(error)")
            }
            migrations.append(
                Migration(version: version, name: String(stem[stem.index(after: underscore)...]), sql: sql, file: file))
        }
        self.migrations = migrations.sorted { $0.version < $1.version }
    }

    public init(migrations: [Migration]) {
        self.migrations = migrations.sorted { $0.version < $1.version }
    }

    /// Applies what is missing; returns the versions applied now.
    @discardableResult
    public func migrate(_ connection: PostgresConnection) throws -> [Int] {
        try connection.executeScript(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version integer PRIMARY KEY,
                name text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """)
        var applied: [Int] = []
        for migration in migrations {
            let done: Bool = try connection.transaction { tx in
                // Serialize migrators across processes; released at commit.
                try tx.execute("SELECT pg_advisory_xact_lock(727274)")
                let rows = try tx.query("SELECT 1 FROM schema_migrations WHERE version = $1", [migration.version])
                guard rows.isEmpty else { return false }
                do {
                    try tx.executeScript(migration.sql)
                } catch var error as PostgresError {
                    error.context = "migration \(migration.file): \(error.context)"
                    error.code = .migration
                    throw error
                }
                try tx.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [migration.version, migration.name])
                return true
            }
            if done { applied.append(migration.version) }
        }
        return applied
    }
}
