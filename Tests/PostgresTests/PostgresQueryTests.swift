import Foundation
import Postgres
import TestSupport
import Testing

@Suite("PostgresQuery: values at their placeholders")
struct PostgresQueryTests {
    @Test("interpolated values become numbered placeholders, in order, with casts where asked")
    func placeholders() {
        let id = "d-1"
        let step = 2
        let reason: String? = nil
        let query: PostgresQuery = "UPDATE t SET r = \(reason) WHERE id = \(id) AND step = \(step) AND day = \("2026-12-07", as: "date")"
        #expect(query.sql == "UPDATE t SET r = $1 WHERE id = $2 AND step = $3 AND day = $4::date")
        #expect(query.binds.count == 4)
        #expect(query.binds[0] == nil)
        #expect(query.binds[1]?.postgresText == "d-1")
        #expect(query.binds[2]?.postgresText == "2")
        let column: PostgresQuery = "SELECT \(unescaped: "due_date") FROM t"
        #expect(column.sql == "SELECT due_date FROM t" && column.binds.isEmpty)
    }

    /// A literal passed to `query` without a type is a PostgresQuery, never a String with the values printed into
    /// it (a statement once compared `next_fire_at <= 2026-03-10 02:00:00 +0000`).
    @Test("a hostile value stays a value on a real server; NULL, instants and arrays bind")
    func againstTheServer() throws {
        let connection = try PostgresConnection.connect(
            PostgresConfiguration(connectionString: try TestEnvironment.databaseURL()), logger: TestEnvironment.logger)
        let hostile = "x'); DROP TABLE schema_migrations; --"
        let missing: String? = nil
        let row = try #require(try connection.query(
            "SELECT \(hostile)::text AS t, \(missing)::text IS NULL AS n, cardinality(\(["a", "b"], as: "text[]")) AS c"
        ).first)
        #expect(try row.decode(String.self, "t") == hostile)
        #expect(try row.decode(Bool.self, "n"))
        #expect(try row.decode(Int.self, "c") == 2)
        let when = Date(timeIntervalSince1970: 1_772_000_000)
        #expect(try connection.query("SELECT \(when) = to_timestamp(1772000000) AS same")[0].decode(Bool.self, "same"))
        #expect(try connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL AS present")[0]
            .decode(Bool.self, "present"))
    }
}
