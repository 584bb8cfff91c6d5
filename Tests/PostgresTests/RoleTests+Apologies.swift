import Foundation
import Postgres
import TestSupport
import Testing

/// Migration 028 as real logins meet it: an apology is recorded by the department whose deadline it moves (its
/// worker, after checking the signed slip), once, never rewritten; the coordinator, which used to insert them
/// straight from `motcua apology`, no longer can.
extension RoleTests {
    static let apologyColumns = "dossier_id, step, reason, previous_date, new_date, issued_by, issued_at, department"

    @Test("apologies: a department's login records one for its own deadline and reads of them only dossier, step and department (032); one for another department's step, one naming another department, a rewrite and the coordinator's insert are refused (42501); nothing else is written")
    func apologiesAreTheDepartmentsOwn() throws {
        // The coordinator's deadlines: labour's step 0 and the appointment of d-labour, culture's step 0 of d-culture.
        try db.executeScript(
            """
            INSERT INTO deadlines (dossier_id, step, kind, department, procedure, opened_at, due_date, due_at)
            VALUES ('d-labour', 0, 'step', 'labour', 'p1', now(), '2026-12-04', now()),
                   ('d-labour', -1, 'overall', 'labour', 'p1', now(), '2026-12-10', now()),
                   ('d-culture', 0, 'step', 'culture', 'p2', now(), '2026-12-04', now());
            """)
        func refused(_ connection: PostgresConnection, _ what: String, _ sql: String) {
            do {
                _ = try connection.execute(sql, [])
                Issue.record("\(what): expected a refusal")
            } catch {
                #expect(error.sqlState == "42501", "\(what): \(error)")
            }
        }
        do {
            let (labour, drop) = try login(as: Self.role("labour"))
            defer { drop() }
            // The worker's read of the deadline (dates and states only) and its own apology.
            #expect(try labour.query(
                "SELECT status, due_date::text AS d, department FROM deadlines WHERE dossier_id = 'd-labour' AND step = 0",
                []).count == 1)
            #expect(try labour.execute(
                """
                INSERT INTO apologies (\(Self.apologyColumns), command_id, command)
                VALUES ('d-labour', 0, 'site visit', '2026-12-04', '2026-12-09', 'ld-head', now(), 'labour',
                        gen_random_uuid(), '\\x7b7d')
                """, []) == 1)
            // Of the apologies, only whether a step has one and whose (032): not the reasons, issuers or slips.
            #expect(try labour.query("SELECT dossier_id, step, department FROM apologies", []).count == 1)
            refused(labour, "labour reads the apologies' reasons", "SELECT reason FROM apologies")
            refused(labour, "labour reads the apologies' signed slips", "SELECT command, issued_by FROM apologies")
            refused(labour, "labour records an apology for culture's step",
                    "INSERT INTO apologies (\(Self.apologyColumns)) VALUES ('d-culture', 0, 'x', '2026-12-04', '2026-12-09', 'ld-head', now(), 'labour')")
            refused(labour, "labour records an apology in culture's name",
                    "INSERT INTO apologies (\(Self.apologyColumns)) VALUES ('d-culture', 0, 'x', '2026-12-04', '2026-12-09', 'ld-head', now(), 'culture')")
            refused(labour, "labour records an apology naming no department",
                    "INSERT INTO apologies (dossier_id, step, reason, previous_date, new_date, issued_at) VALUES ('d-labour', -1, 'x', '2026-12-10', '2026-12-12', now())")
            refused(labour, "labour passes its apology off as one from before 028 (which the audit only notes)",
                    "INSERT INTO apologies (\(Self.apologyColumns), before_028) VALUES ('d-labour', -1, 'x', '2026-12-10', '2026-12-12', 'ld-head', now(), 'labour', true)")
            refused(labour, "labour rewrites its apology's date",
                    "UPDATE apologies SET new_date = '2026-12-31' WHERE dossier_id = 'd-labour'")
            refused(labour, "labour rewrites the signed bytes",
                    "UPDATE apologies SET command = '\\x00' WHERE dossier_id = 'd-labour'")
            refused(labour, "labour moves the coordinator's deadline",
                    "UPDATE deadlines SET due_date = '2026-12-31' WHERE dossier_id = 'd-labour'")
        }
        do {
            let (coordinator, drop) = try login(as: "motcua_coordinator")
            defer { drop() }
            #expect(try coordinator.query("SELECT new_date FROM apologies", []).count == 1)
            refused(coordinator, "the coordinator records an apology",
                    "INSERT INTO apologies (dossier_id, step, reason, previous_date, new_date, issued_at) VALUES ('d-labour', -1, 'x', '2026-12-10', '2026-12-12', now())")
            refused(coordinator, "the coordinator records one in labour's name",
                    "INSERT INTO apologies (\(Self.apologyColumns)) VALUES ('d-labour', -1, 'x', '2026-12-10', '2026-12-12', 'ld-head', now(), 'labour')")
        }
        #expect(try db.query("SELECT dossier_id, step, new_date::text AS d FROM apologies", []).map {
            "\(try $0.decode(String.self, "dossier_id")) \(try $0.decode(Int.self, "step")) \(try $0.decode(String.self, "d"))"
        } == ["d-labour 0 2026-12-09"])
    }
}
