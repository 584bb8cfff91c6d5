import Foundation
import Postgres
import TestSupport
import Testing

@Suite("PostgreSQL connection against a real server")
struct PostgresConnectionTests {
    let connection: PostgresConnection

    init() throws {
        connection = try PostgresConnection.connect(
            PostgresConfiguration(connectionString: try TestEnvironment.databaseURL()), logger: TestEnvironment.logger)
    }

    @Test("every bound type round-trips")
    func typedRoundTrip() throws {
        let id = UUID()
        let when = Date(timeIntervalSince1970: 1_795_000_000.123456)
        let rows = try connection.query(
            """
            SELECT $1::text AS t, $2::int8 AS i, $3::bool AS b, $4::float8 AS d, $5::timestamptz AS ts,
                   $6::uuid AS u, $7::jsonb AS j, $8::bytea AS by, $9::text[] AS arr, $10::int4 AS i4,
                   $11::text AS n, cardinality($9::text[]) AS len
            """,
            [
                "Công ty TNHH A \t\n\\ \"q\"", Int.max, true, 3.25, when, id, PostgresJSON(#"{"a": [1, 2]}"#),
                PostgresBytes([0, 1, 254, 255]), ["a,b", "c\"d", "e\\f", ""], Int32(-7), nil,
            ])
        let row = try #require(rows.first)
        #expect(try row.decode(String.self, "t") == "Công ty TNHH A \t\n\\ \"q\"")
        #expect(try row.decode(Int.self, "i") == Int.max)
        #expect(try row.decode(Bool.self, "b") == true)
        #expect(try row.decode(Double.self, "d") == 3.25)
        #expect(abs(try row.decode(Date.self, "ts").timeIntervalSince(when)) < 0.000_001)
        #expect(try row.decode(UUID.self, "u") == id)
        #expect(try row.decode(PostgresJSON.self, "j").text == #"{"a": [1, 2]}"#)
        #expect(try row.decode(PostgresBytes.self, "by").bytes == [0, 1, 254, 255])
        #expect(try row.decode(Int32.self, "i4") == -7)
        #expect(try row.decodeIfPresent(String.self, "n") == nil)
        #expect(try row.decode(Int.self, "len") == 4)
        #expect(throws: PostgresError.self) { try row.decode(String.self, "n") }
        #expect(throws: PostgresError.self) { try row.decode(Int.self, "nope") }
    }

    @Test("a text[] parameter keeps every element exactly: quotes, backslashes, braces, NULL, non-ASCII, long JSON")
    func textArrayElementsExact() throws {
        let json = #"{"rule":"r\"1","because":"a\\b","list":[\#((0..<200).map(String.init).joined(separator: ","))]}"#
        let elements = ["", "NULL", "a,b", "c\"d", "e\\f", "{x}", " padded ", "Nguyễn Văn A", "\\\"", json]
        let back = try connection.query(
            "SELECT e FROM unnest($1::text[]) WITH ORDINALITY AS t (e, n) ORDER BY n", [elements]
        ).map { try $0.decodeIfPresent(String.self, "e") }
        #expect(back == elements.map { Optional($0) })
        let parsed = try connection.query("SELECT ($1::text[])[10]::jsonb = $2::jsonb AS same", [elements, json])
        #expect(try parsed[0].decode(Bool.self, "same"))
    }

    @Test("SQL injection attempts stay data")
    func injectionStaysData() throws {
        let table = TestEnvironment.unique("inj")
        try connection.execute("CREATE TABLE \(table) (name text)", [])
        defer { _ = try? connection.execute("DROP TABLE \(table)", []) }
        let hostile = "x'); DROP TABLE \(table); --"
        try connection.execute("INSERT INTO \(table) (name) VALUES ($1)", [hostile])
        let rows = try connection.query("SELECT name FROM \(table) WHERE name = $1", [hostile])
        #expect(rows.count == 1)
        #expect(try rows[0].decode(String.self, "name") == hostile)
        #expect(try connection.query("SELECT count(*) AS c FROM \(table) WHERE name = $1", ["' OR '1'='1"])[0].decode(Int.self, "c") == 0)
    }

    @Test("a transaction that throws is rolled back and leaves nothing")
    func rollback() throws {
        let table = TestEnvironment.unique("tx")
        try connection.execute("CREATE TABLE \(table) (id int PRIMARY KEY)", [])
        defer { _ = try? connection.execute("DROP TABLE \(table)", []) }
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try connection.transaction { tx in
                try tx.execute("INSERT INTO \(table) VALUES (1)", [])
                throw Boom()
            }
        }
        do {
            try connection.transaction { tx in
                try tx.execute("INSERT INTO \(table) VALUES (2)", [])
                try tx.execute("INSERT INTO \(table) VALUES (2)", [])
            }
            Issue.record("expected a unique violation")
        } catch let error as PostgresError {
            #expect(error.sqlState == "23505")
            #expect(error.description.contains("23505"))
        }
        #expect(try connection.query("SELECT count(*) AS c FROM \(table)", [])[0].decode(Int.self, "c") == 0)
        try connection.transaction { tx in try tx.execute("INSERT INTO \(table) VALUES (3)", []) }
        #expect(try connection.query("SELECT count(*) AS c FROM \(table)", [])[0].decode(Int.self, "c") == 1)
    }

    @Test("COPY writes every row, escaping tabs, newlines, backslashes and NULLs")
    func copy() throws {
        let table = TestEnvironment.unique("copy")
        try connection.execute("CREATE TABLE \(table) (id int8, name text, doc jsonb, at timestamptz)", [])
        defer { _ = try? connection.execute("DROP TABLE \(table)", []) }
        let when = Date(timeIntervalSince1970: 1_800_000_000)
        let copied = try connection.copyIn("COPY \(table) (id, name, doc, at) FROM STDIN") { writer in
            for index in 0..<5_000 {
                try writer.row([index, index == 7 ? "tab\there\nline\\slash" : "n\(index)",
                                index % 2 == 0 ? PostgresJSON(#"{"i": \#(index)}"#) : nil, when])
            }
        }
        #expect(copied == 5_000)
        let rows = try connection.query("SELECT count(*) AS c, count(doc) AS d, min(at) AS at FROM \(table)", [])
        #expect(try rows[0].decode(Int.self, "c") == 5_000)
        #expect(try rows[0].decode(Int.self, "d") == 2_500)
        #expect(try rows[0].decode(Date.self, "at") == when)
        #expect(try connection.query("SELECT name FROM \(table) WHERE id = 7", [])[0].decode(String.self, "name") == "tab\there\nline\\slash")
    }

    @Test("a failing COPY is an error and copies nothing")
    func copyFailure() throws {
        let table = TestEnvironment.unique("copyfail")
        try connection.execute("CREATE TABLE \(table) (id int8 NOT NULL)", [])
        defer { _ = try? connection.execute("DROP TABLE \(table)", []) }
        #expect(throws: PostgresError.self) {
            try connection.copyIn("COPY \(table) (id) FROM STDIN") { writer in
                try writer.row([1])
                try writer.row(text: ["not a number"])
            }
        }
        #expect(try connection.query("SELECT count(*) AS c FROM \(table)", [])[0].decode(Int.self, "c") == 0)
        // The connection is usable afterwards.
        #expect(try connection.query("SELECT 1 AS one")[0].decode(Int.self, "one") == 1)
    }

    @Test("binary COPY stores every value exactly: text, int4, int8, uuid, bytea, timestamptz, jsonb and NULLs")
    func binaryCopy() throws {
        let table = TestEnvironment.unique("bincopy")
        try connection.execute(
            "CREATE TABLE \(table) (n int4, t text, i4 int4, i8 int8, u uuid, b bytea, at timestamptz, j jsonb)", [])
        defer { _ = try? connection.execute("DROP TABLE \(table)", []) }
        let ids = (0..<3_000).map { _ in UUID() }
        let payload = (0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }  // larger than one flush
        // Before 2000 (negative on PostgreSQL's clock), a fraction that must round as the text format rounds, now.
        let instants = [
            Date(timeIntervalSince1970: 86_400.5), Date(timeIntervalSince1970: 1_795_000_000.123456), Date(),
        ]
        let odd = "Công ty \t\n\\ \"q\" {a,b} NULL"
        func name(_ n: Int) -> String { n == 7 ? odd : n == 8 ? "" : "n\(n)" }
        func bytes(_ n: Int) -> [UInt8] { n == 12 ? payload : n == 13 ? [] : [0, 0xFF, UInt8(n & 0xFF)] }
        func json(_ n: Int) -> String? { n % 2 == 0 ? #"{"i": \#(n), "s": "é\\n"}"# : nil }
        let copied = try connection.copyInBinary(
            "COPY \(table) (n, t, i4, i8, u, b, at, j) FROM STDIN (FORMAT binary)"
        ) { writer in
            for (n, id) in ids.enumerated() {
                try writer.beginRow()
                writer.int32(Int32(n))
                writer.text(name(n))
                writer.int32(n == 9 ? nil : Int32(n) - 5)
                writer.int64(n == 10 ? Int64.min : Int64.max - Int64(n))
                writer.uuid(n == 11 ? nil : id)
                writer.bytes(bytes(n))
                writer.timestamp(instants[n % instants.count])
                writer.jsonb(json(n))
            }
        }
        #expect(copied == ids.count)
        let rows = try connection.query("SELECT n, t, i4, i8, u, b, at, j::text AS j FROM \(table) ORDER BY n", [])
        #expect(rows.count == ids.count)
        for (n, row) in rows.enumerated() {
            #expect(try row.decode(Int.self, "n") == n)
            #expect(try row.decode(String.self, "t") == name(n))
            #expect(try row.decodeIfPresent(Int32.self, "i4") == (n == 9 ? nil : Int32(n) - 5))
            #expect(try row.decode(Int64.self, "i8") == (n == 10 ? Int64.min : Int64.max - Int64(n)))
            #expect(try row.decodeIfPresent(UUID.self, "u") == (n == 11 ? nil : ids[n]))
            #expect(try row.decode(PostgresBytes.self, "b").bytes == bytes(n))
            // The same microsecond as the text format gives for the instant.
            let instant = instants[n % instants.count]
            #expect(try row.decode(Date.self, "at") == PostgresTimestamp.parse(PostgresTimestamp.format(instant)))
            #expect(try row.decodeIfPresent(String.self, "j") == json(n))
        }
    }

    @Test("binary COPY refuses a row with a missing value, a value of the wrong type, and a text-format statement")
    func binaryCopyRefusals() throws {
        let table = TestEnvironment.unique("bincopybad")
        try connection.execute("CREATE TABLE \(table) (id int8 NOT NULL, name text)", [])
        defer { _ = try? connection.execute("DROP TABLE \(table)", []) }
        let statement = "COPY \(table) (id, name) FROM STDIN (FORMAT binary)"
        let missing = #expect(throws: PostgresError.self) {
            try connection.copyInBinary(statement) { writer in
                try writer.beginRow()
                writer.int64(1)
                writer.text("one")
                try writer.beginRow()
                writer.int64(2)  // no name
            }
        }
        #expect(missing?.message.contains("1 values for 2 columns") == true)
        let wrongType = #expect(throws: PostgresError.self) {
            try connection.copyInBinary(statement) { writer in
                try writer.beginRow()
                writer.int32(1)  // an int4 for an int8 column
                writer.text("one")
            }
        }
        // protocol_violation, "insufficient data left in message": a consumer treats it as a database fault and
        // retries (never dead-letters), which is right for a writer out of step with the table's types.
        #expect(wrongType?.sqlState == "08P01")
        let textStatement = #expect(throws: PostgresError.self) {
            try connection.copyInBinary("COPY \(table) (id, name) FROM STDIN") { _ in }
        }
        #expect(textStatement?.message.contains("FORMAT binary") == true)
        #expect(try connection.query("SELECT count(*) AS c FROM \(table)", [])[0].decode(Int.self, "c") == 0)
        #expect(try connection.query("SELECT 1 AS one")[0].decode(Int.self, "one") == 1)
    }

    @Test("a savepoint sent with a binary COPY in one round trip: a failing COPY rolls back to it, a failing savepoint copies nothing")
    func savepointWithCopy() throws {
        let table = TestEnvironment.unique("bincopysave")
        try connection.execute("CREATE TABLE \(table) (id int8 PRIMARY KEY)", [])
        defer { _ = try? connection.execute("DROP TABLE \(table)", []) }
        let statement = "SAVEPOINT before_copy; COPY \(table) (id) FROM STDIN (FORMAT binary)"
        func copy(_ ids: [Int64], into tx: PostgresConnection) throws -> Int {
            try tx.copyInBinary(statement) { writer in
                for id in ids {
                    try writer.beginRow()
                    writer.int64(id)
                }
            }
        }
        try connection.transaction { tx in
            try tx.execute("INSERT INTO \(table) VALUES (1)", [])
            #expect(try copy([2, 3], into: tx) == 2)
            // 3 again: the COPY fails; the transaction goes on from the savepoint this COPY set.
            let duplicate = #expect(throws: PostgresError.self) { try copy([4, 3], into: tx) }
            #expect(duplicate?.sqlState == "23505")
            try tx.execute("ROLLBACK TO SAVEPOINT before_copy")
            #expect(try copy([5], into: tx) == 1)
        }
        let ids = try connection.query("SELECT id FROM \(table) ORDER BY id", []).map { try $0.decode(Int64.self, "id") }
        #expect(ids == [1, 2, 3, 5])
        // Outside a transaction the savepoint itself fails (25P01): its error, and nothing copied.
        let outside = #expect(throws: PostgresError.self) { try copy([9], into: connection) }
        #expect(outside?.sqlState == "25P01")
        #expect(try connection.query("SELECT count(*) AS c FROM \(table) WHERE id = 9", [])[0].decode(Int.self, "c") == 0)
    }

    @Test("a pipeline runs thousands of prepared statements in one transaction")
    func pipeline() throws {
        let table = TestEnvironment.unique("pipe")
        try connection.execute("CREATE TABLE \(table) (id int8 PRIMARY KEY, name text)", [])
        defer { _ = try? connection.execute("DROP TABLE \(table)", []) }
        let name = TestEnvironment.unique("ins")
        try connection.prepare(name, "INSERT INTO \(table) (id, name) VALUES ($1, $2)")
        let statements = (0..<3_000).map { (index: Int) in PipelineStatement.prepared(name, [index, "row \(index)"]) }
        _ = try connection.transaction { tx in try tx.pipeline(statements) }
        #expect(try connection.query("SELECT count(*) AS c FROM \(table)", [])[0].decode(Int.self, "c") == 3_000)

        // A failing statement inside a transaction fails the pipeline, and the transaction leaves nothing.
        let failing = [PipelineStatement.prepared(name, [5_000, "ok"]), .prepared(name, [1, "duplicate"]), .prepared(name, [5_001, "skipped"])]
        do {
            try connection.transaction { tx in _ = try tx.pipeline(failing) }
            Issue.record("expected a unique violation")
        } catch let error as PostgresError {
            #expect(error.sqlState == "23505")
        }
        #expect(try connection.query("SELECT count(*) AS c FROM \(table)", [])[0].decode(Int.self, "c") == 3_000)
    }

    @Test("a killed backend is reported as a connection failure and reconnect recovers")
    func reconnect() throws {
        let pid = try connection.query("SELECT pg_backend_pid() AS pid")[0].decode(Int.self, "pid")
        let other = try PostgresConnection.connect(
            PostgresConfiguration(connectionString: try TestEnvironment.databaseURL()), logger: TestEnvironment.logger)
        try other.execute("SELECT pg_terminate_backend($1::int)", [pid])
        do {
            try connection.execute("SELECT 1")
            Issue.record("expected the terminated connection to fail")
        } catch {
            #expect(error.isConnectionFailure)
        }
        try connection.reconnect()
        #expect(try connection.query("SELECT 2 AS two")[0].decode(Int.self, "two") == 2)
    }

    @Test("queries are prepared once per connection and keep working across DDL, failures and a reconnect")
    func statementCache() throws {
        let table = TestEnvironment.unique("stmts")
        try connection.execute("CREATE TABLE \(table) (id int8 PRIMARY KEY, name text)", [])
        defer { _ = try? connection.execute("DROP TABLE \(table)", []) }
        func prepared() throws -> Int {
            try connection.query("SELECT count(*)::int8 AS n FROM pg_prepared_statements WHERE name LIKE 'motcua_q%'")[0]
                .decode(Int.self, "n")
        }
        let insert = "INSERT INTO \(table) (id, name) VALUES ($1, $2)"
        let select = "SELECT name FROM \(table) WHERE id = $1"
        // Planned for their parameters every run: no generic plan outlives a table's growth.
        #expect(try connection.query("SHOW plan_cache_mode")[0].decode(String.self, "plan_cache_mode") == "force_custom_plan")
        let before = try prepared()  // counts the count query itself, prepared before it ran
        for id in 0..<20 { try connection.execute(insert, [id, id == 3 ? nil : "n\(id)"]) }
        // Different parameters each run, the same two statements prepared once.
        for id in 0..<20 {
            #expect(try connection.query(select, [id])[0].decodeIfPresent(String.self, "name") == (id == 3 ? nil : "n\(id)"))
        }
        #expect(try prepared() == before + 2)
        // A failing run (duplicate key) fails as before and leaves the statement usable.
        #expect(throws: PostgresError.self) { try connection.execute(insert, [5, "again"]) }
        try connection.execute(insert, [20, "n20"])
        // The table changes under the prepared statements: they are planned again by the server.
        try connection.execute("ALTER TABLE \(table) ADD COLUMN extra int4 DEFAULT 7", [])
        try connection.execute(insert, [21, "n21"])
        #expect(try connection.query(select, [21])[0].decode(String.self, "name") == "n21")
        // `*` over a changed table fails once ("cached plan must not change result type"), then runs again.
        let star = "SELECT * FROM \(table) WHERE id = $1"
        #expect(try connection.query(star, [1]).count == 1)
        try connection.execute("ALTER TABLE \(table) DROP COLUMN extra", [])
        _ = try? connection.query(star, [1])
        #expect(try connection.query(star, [1]).count == 1)
        // Utility statements are not prepared; a reconnect forgets the names and prepares again.
        try connection.execute("SET application_name = 'stmts'")
        let pid = try connection.query("SELECT pg_backend_pid() AS pid")[0].decode(Int.self, "pid")
        let other = try PostgresConnection.connect(
            PostgresConfiguration(connectionString: try TestEnvironment.databaseURL()), logger: TestEnvironment.logger)
        try other.execute("SELECT pg_terminate_backend($1::int)", [pid])
        #expect(throws: PostgresError.self) { try connection.query(select, [1]) }
        try connection.reconnect()
        #expect(connection.preparedStatementCount == 0)
        #expect(try connection.query(select, [2])[0].decode(String.self, "name") == "n2")
        #expect(connection.preparedStatementCount == 1)
    }

    @Test("an unreachable server fails after the retries with a message that says what to check")
    func unreachable() throws {
        var config = PostgresConfiguration(connectionString: "postgresql://postgres@127.0.0.1:1/none")
        config.retry = .init(attempts: 2, initialDelay: .milliseconds(10))
        do {
            _ = try PostgresConnection.connect(config, logger: TestEnvironment.logger)
            Issue.record("expected a connection error")
        } catch {
            #expect(error.code == .connection)
            #expect(error.description.contains("DATABASE_URL"))
        }
    }

    @Test("timestamps format and parse exactly")
    func timestamps() {
        for seconds in [0.0, 1_795_000_000.5, -86_400.25, 4_102_444_800.000001] {
            let date = Date(timeIntervalSince1970: seconds)
            let parsed = PostgresTimestamp.parse(PostgresTimestamp.format(date))
            #expect(parsed.map { abs($0.timeIntervalSince(date)) < 0.000_002 } == true)
        }
        #expect(PostgresTimestamp.parse("2026-11-27 09:30:00+07") == Date(timeIntervalSince1970: 1_795_746_600))
    }
}
