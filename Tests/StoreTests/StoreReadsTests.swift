import Authority
import Foundation
import Postgres
import Store
import TestSupport
import Testing

/// The reads of Store/Reads against a real server: every value they take is bound, never pasted into the SQL text.
@Suite("Store reads")
struct StoreReadsTests {
    @Test("every read binds its values: a hostile id finds nothing, raises no syntax error and drops nothing")
    func hostileValues() throws {
        let db = try PostgresConnection.connect(
            PostgresConfiguration(connectionString: try TestEnvironment.databaseURL()), logger: TestEnvironment.logger)
        let hostile = "x'); DROP TABLE schema_migrations; --"
        #expect(try ReviewQueue.awaiting(departments: [DepartmentID(hostile)], limit: 5, in: db).isEmpty)
        #expect(try ReviewQueue.awaiting(departments: nil, dossierId: hostile, limit: 5, in: db).isEmpty)
        #expect(try DecisionRead.latest(dossierId: hostile, step: nil, in: db) == nil)
        #expect(try DecisionRead.latest(dossierId: hostile, step: 1, in: db) == nil)
        #expect(try DecisionRead.signature(dossierId: hostile, step: 0, round: 0, in: db) == nil)
        #expect(try DecisionRead.count(relyingOn: hostile, decidedSince: Date(), in: db) == 0)
        #expect(try TimelineRead.entries(of: hostile, in: db).isEmpty)
        #expect(try TimelineRead.entries(of: hostile, limit: 3, in: db).isEmpty)
        #expect(try TimelineRead.latest(of: hostile, types: [hostile, "withdrawn"], in: db) == nil)
        #expect(try TimelineRead.event(UUID(), in: db) == nil)
        #expect(try DossierStatusRead.find(.id(hostile), in: db) == nil)
        #expect(try DossierStatusRead.find(.code(hostile), in: db) == nil)
        #expect(try DossierDeadlinesRead.deadlines(of: hostile, in: db).isEmpty)
        #expect(try DossierDeadlinesRead.escalations(of: hostile, in: db).isEmpty)
        // `to` before `from`: no day lies between them.
        #expect(try DepartmentReport.submissions(from: LocalDate("2026-12-01"), to: LocalDate("2026-11-01"), in: db)
            .isEmpty)
        #expect(try DepartmentReport.statusFigures(consumerGroups: [hostile], in: db).offsets.isEmpty)
        #expect(try db.query("SELECT to_regclass('schema_migrations') IS NOT NULL AS present")[0]
            .decode(Bool.self, "present"))
    }
}
