import Postgres

/// The database schema this build needs: the highest migration of `schemas/postgres` it relies on.
public enum DatabaseSchema {
    /// Bump with every migration the code starts to use (a test compares it with the migration files).
    public static let requiredVersion = 34

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

    /// A topic prefix with a login other than the schema owner's: the database's guards (010, 017, 022, 027) know
    /// the topics and consumer groups by their unprefixed names, so every outbox row and stored offset of such a
    /// service would be refused (42501) batch after batch.
    public struct PrefixNeedsOwner: Error, CustomStringConvertible {
        public var prefix: String
        public var role: String
        public var description: String {
            "the topic prefix '\(prefix)' cannot be used with the database role '\(role)': the database's guards know topics "
                + "and consumer groups by their unprefixed names, so everything this service writes would be refused; "
                + "run it with no --topic-prefix / MOTCUA_TOPIC_PREFIX (one MotCua system per Kafka cluster), or, for "
                + "tests and trials sharing a cluster, as the schema owner"
        }
    }

    /// Throws ``PrefixNeedsOwner`` when `prefix` is not empty and the current user is not the schema owner (nor a
    /// member of its role) — the user the guards check, also after `SET ROLE` or a login's `role` setting. Services call it when they connect, so the refusal is said once, not found in every
    /// batch's permission error.
    public static func checkTopicPrefix(_ prefix: String, on connection: PostgresConnection) throws {
        guard !prefix.isEmpty else { return }
        let row = try connection.query(
            """
            SELECT current_user::text AS role,
                   pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = 'outbox'::regclass), 'USAGE')
                       AS owner
            """)[0]
        if try !row.decode(Bool.self, "owner") {
            throw PrefixNeedsOwner(prefix: prefix, role: try row.decode(String.self, "role"))
        }
    }
}
