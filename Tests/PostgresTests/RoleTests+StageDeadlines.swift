import Authority
import Foundation
import Postgres
import Store
import TestSupport
import Testing

/// Migration 023 as the roles meet it: the coordinator keeps the stage deadlines and opens the in-department
/// escalations with the statements its projection and timer run; a department's worker can neither.
extension RoleTests {
    @Test("the coordinator's login keeps stage deadlines and opens in-department escalations; a department's login is refused both, and nothing is written")
    func stageDeadlinesAreTheCoordinators() throws {
        let due = Date().addingTimeInterval(-3 * 86_400)
        let deadline = StageDeadline(
            dueAt: due, headAt: due.addingTimeInterval(-86_400), directorAt: due.addingTimeInterval(86_400))
        try asRole("motcua_coordinator") { () throws in
            try StageDeadlineStore.move(
                "d-labour", step: 0, round: 0, department: "labour", stage: "examine", deadline: deadline,
                at: due.addingTimeInterval(-5 * 86_400), in: db)
            try db.transaction { tx in
                let claimed = try StageDeadlineStore.claimDue(now: Date(), limit: 10, in: tx)
                #expect(claimed.map(\.dossierId) == ["d-labour"])
                let escalations = StageEscalationLevel.allCases.map {
                    StageDeadlineStore.Escalation(due: claimed[0], level: $0, reason: "overdue", recipient: $0.recipient.rawValue)
                }
                try StageDeadlineStore.record(claimed, fired: [3], next: [nil], escalations: escalations, at: Date(), in: tx)
            }
            try StageDeadlineStore.close("d-labour", step: nil, at: Date(), in: db)
        }
        #expect(try db.query("SELECT count(*) AS n FROM stage_escalations", [])[0].decode(Int.self, "n") == 2)
        try asRole(Self.role("labour")) { () throws in
            expectDenied("a worker writing a stage deadline") {
                try StageDeadlineStore.move(
                    "d-culture", step: 0, round: 0, department: "labour", stage: "examine", deadline: deadline,
                    at: Date(), in: db)
            }
            expectDenied("a worker opening an in-department escalation") {
                try db.execute(
                    """
                    INSERT INTO stage_escalations (dossier_id, step, round, stage, entered_at, level, reason, department,
                                                   recipient, due_at, opened_at)
                    VALUES ('d-culture', 0, 0, 'examine', now(), 'head', 'overdue', 'culture', 'head-of-division', now(), now())
                    """, [])
            }
        }
        #expect(try db.query("SELECT count(*) AS n FROM stage_deadlines WHERE dossier_id = 'd-culture'", [])[0].decode(Int.self, "n") == 0)
        #expect(try db.query("SELECT count(*) AS n FROM stage_escalations WHERE dossier_id = 'd-culture'", [])[0].decode(Int.self, "n") == 0)
    }
}
