import Authority
import Foundation
import Postgres
import Store
import TestSupport
import Testing

/// The queues of issue 20 over 100,000 open dossier stages: an official's and a division's, read through their
/// partial indexes (migration 019), not a scan.
@Suite("Stage queues", .serialized)
struct StageQueueTests {
    /// 100,000 open stages (100 specialists of 4 divisions, 1,000 each) and 100,000 closed ones, as the worker
    /// would have written them.
    static func fill(_ db: PostgresConnection) throws {
        try db.execute(
            """
            INSERT INTO stages (dossier_id, step, round, department, division, procedure, route, stage_count, position,
                                stage, role, assignee, entered_at, due_at, handovers, closed_at)
            SELECT 'd-' || n, 0, 0, 'labour', 'division-' || (n % 4), '1.000105',
                   'examine specialist 6,check head-of-division 2,sign director 2', 3, 0, 'examine', 'specialist',
                   'specialist-' || lpad((n % 100)::text, 3, '0'),
                   timestamptz '2026-12-01 02:00:00+00' + n * interval '7 seconds',
                   timestamptz '2026-12-09 10:00:00+00' + (n % 5000) * interval '1 minute', 1,
                   CASE WHEN n > 100000 THEN timestamptz '2026-12-05 02:00:00+00' END
            FROM generate_series(1, 200000) AS n
            """, [])
        try db.execute("ANALYZE stages", [])
    }

    @Test("an official's queue and a division's over 100,000 open stages: soonest due first, through their indexes, each read under 50 ms (median of 21)")
    func queuesOverOneHundredThousand() throws {
        let database = try TestDatabase("queues")
        defer { database.drop() }
        let db = database.connection
        try Self.fill(db)
        let mine = try StageQueue.held(by: "specialist-042", limit: 200, in: db)
        #expect(mine.count == 200)
        #expect(mine.allSatisfy { $0.assignee == "specialist-042" })
        #expect(mine.map(\.dueAt) == mine.map(\.dueAt).sorted())
        // The same rows as a plain query says, in the same order.
        let expected = try db.query(
            """
            SELECT dossier_id FROM stages WHERE assignee = 'specialist-042' AND closed_at IS NULL
            ORDER BY due_at, dossier_id LIMIT 200
            """, []
        ).map { try $0.decode(String.self, "dossier_id") }
        #expect(mine.map(\.dossierId) == expected)
        let plan = try db.query(
            """
            EXPLAIN SELECT * FROM stages WHERE assignee = 'specialist-042' AND closed_at IS NULL
            ORDER BY due_at, dossier_id LIMIT 200
            """, []
        ).map { try $0.decode(String.self, at: 0) }.joined(separator: "\n")
        #expect(plan.contains("stages_by_assignee") && !plan.contains("Seq Scan"), "\(plan)")
        let divisionPlan = try db.query(
            """
            EXPLAIN SELECT * FROM stages WHERE department = 'labour' AND division = 'division-1' AND closed_at IS NULL
            ORDER BY due_at, dossier_id LIMIT 200
            """, []
        ).map { try $0.decode(String.self, at: 0) }.joined(separator: "\n")
        #expect(divisionPlan.contains("stages_by_division") && !divisionPlan.contains("Seq Scan"), "\(divisionPlan)")

        func median(_ read: () throws -> Void) rethrows -> Double {
            var times: [Double] = []
            for _ in 0..<21 {
                let start = ContinuousClock.now
                try read()
                let elapsed = ContinuousClock.now - start
                times.append(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
            }
            return times.sorted()[10]
        }
        let official = try median { _ = try StageQueue.held(by: "specialist-\(String(format: "%03d", Int.random(in: 0..<100)))", limit: 200, in: db) }
        let division = try median { _ = try StageQueue.division("division-\(Int.random(in: 0..<4))", of: "labour", limit: 200, in: db) }
        // The baseline of the same run: the same official's rows found by a scan (no index).
        try db.execute("SET enable_indexscan = off", [])
        try db.execute("SET enable_bitmapscan = off", [])
        let scan = try median { _ = try StageQueue.held(by: "specialist-042", limit: 200, in: db) }
        try db.execute("RESET enable_indexscan", [])
        try db.execute("RESET enable_bitmapscan", [])
        print("stage queue over 100,000 open stages (200 rows): official \(official) ms, division \(division) ms; sequential scan baseline \(scan) ms")
        #expect(official < 50, "official's queue: \(official) ms")
        #expect(division < 50, "division's queue: \(division) ms")
    }

    @Test("the queues bind their values: a hostile id finds nothing and drops nothing")
    func hostileValues() throws {
        let db = try PostgresConnection.connect(
            PostgresConfiguration(connectionString: try TestEnvironment.databaseURL()), logger: TestEnvironment.logger)
        let hostile = "x'); DROP TABLE stages; --"
        #expect(try StageQueue.held(by: hostile, limit: 5, in: db).isEmpty)
        #expect(try StageQueue.division(hostile, of: DepartmentID(hostile), limit: 5, in: db).isEmpty)
        #expect(try StageStore.slip(hostile, in: db).isEmpty)
        #expect(try db.query("SELECT to_regclass('stages') IS NOT NULL AS present", [])[0].decode(Bool.self, "present"))
    }
}
