import Postgres

/// The database schema this build needs: the highest migration of `schemas/postgres` it relies on.
public enum DatabaseSchema {
    /// Bump with every migration the code starts to use (a test compares it with the migration files).
    public static let requiredVersion = 30

    /// The database's schema is older than this build.
    public struct Outdated: Error, CustomStringConvertible {
        public var applied: Int?
        public var description: String {
            "the database schema is at migration \(applied.map(String.init) ?? "none") but this program needs "
                + "\(requiredVersion): run `motcua migrate` (as the schema owner) against this database, then it resumes"
        }
    }

    /// Throws ``Outdated`` unless every migration up to ``requiredVersion`` is applied.
    public static func check(_ connection: PostgresConnection) throws {
        let present = try connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL AS present")
        var applied: Int?
        if try present.first?.decode(Bool.self, "present") == true {
            applied = try connection.query("SELECT max(version) AS v FROM schema_migrations").first?
                .decodeIfPresent(Int.self, "v")
        }
        guard let applied, applied >= requiredVersion else { throw Outdated(applied: applied) }
    }
}
