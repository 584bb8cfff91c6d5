import Authority
import Foundation
import Messages
import Postgres
import Store
import TestSupport
import Testing

/// Issue 20: a supplement inside a department with stages, through a real worker, `motcua review supplement` and
/// `motcua supply`. The head of division asks for a document while the dossier is at the specialist's stage; the
/// desk's signed supplement opens round 1, which the rules decide afresh for an official: round 1 enters the first
/// stage (assigned, on the slip, an event) and round 0's stage is closed — not left open in the queues.
@Suite("Stages across a supplement", .serialized)
struct StageRoundTests {
    static let department = WorkflowStageTests.department

    @Test("a supplemented round enters the first stage afresh and closes the previous round's stage; the queues count the dossier once")
    func supplementedRoundEntersStages() async throws {
        let database = try TestDatabase("stageround")
        defer { database.drop() }
        let pipeline = try Pipeline(databaseURL: database.url, seed: 31)
        let deploy = TestEnvironment.root.appendingPathComponent("deploy").path
        let registry = try await DevRegistry.register(
            department: Self.department.rawValue, rules: deploy,
            environment: pipeline.processEnvironment.merging(database.environment) { $1 })
        defer { registry.remove() }
        let head = "\(Self.department)-head"
        let headKey = registry.keyFile("\(head)")
        let deskKey = registry.keyFile("desk-1")

        try pipeline.startReception()
        try pipeline.startWorker(Self.department)
        let dossier = try await pipeline.submitForOfficials(1)[0]
        let id = dossier.id
        let entered = await eventually(timeout: .seconds(120)) {
            try pipeline.count("SELECT count(*) FROM stages WHERE dossier_id = $1 AND round = 0", [id]) == 1
        }
        #expect(entered, "\(pipeline.logs())")
        let code = try #require(try pipeline.database.query("SELECT code FROM dossiers WHERE id = $1", [id]).first?
            .decode(String.self, "code"))
        let document = try #require(pipeline.bundle.catalogue.procedure("2.000620")?.documents.first)

        let request = try await WorkflowStageTests.motcua(
            ["review", "supplement", code, "--documents", document, "--reason", "the copy is illegible", "--official",
             head, "--department", Self.department.rawValue, "--key", headKey],
            pipeline: pipeline, database: database)
        #expect(request.status == 0, "\(request)")
        let requested = await eventually(timeout: .seconds(120)) {
            try pipeline.count("SELECT count(*) FROM supplement_requests WHERE dossier_id = $1", [id]) == 1
        }
        #expect(requested, "\(pipeline.logs())")
        let supplied = try await WorkflowStageTests.motcua(
            ["supply", code, "--documents", document, "--channel", "desk-1", "--key", deskKey, "--wait"],
            pipeline: pipeline, database: database)
        #expect(supplied.status == 0 && supplied.stdout.contains("round 1"), "\(supplied)\n\(pipeline.logs())")

        let moved = await eventually(timeout: .seconds(120)) {
            try pipeline.count(
                "SELECT count(*) FROM stages WHERE dossier_id = $1 AND round = 1 AND closed_at IS NULL", [id]) == 1
        }
        #expect(moved, "\(pipeline.logs())")
        // Round 1 at the first stage, assigned to a specialist of the division, its slip's first line and its event.
        let round1 = try pipeline.database.query(
            "SELECT stage, role, assignee, handovers FROM stages WHERE dossier_id = $1 AND round = 1", [id])[0]
        #expect(try round1.decode(String.self, "stage") == "examine")
        #expect(try round1.decode(String.self, "role") == "specialist")
        #expect(try round1.decodeIfPresent(String.self, "assignee")?.hasPrefix("\(Self.department)-specialist") == true)
        #expect(try pipeline.count(
            "SELECT count(*) FROM stage_handovers WHERE dossier_id = $1 AND round = 1 AND line = 1 AND action = 'assign'",
            [id]) == 1)
        #expect(try pipeline.count(
            """
            SELECT count(*) FROM outbox WHERE key = $1 AND convert_from(payload, 'UTF8')::jsonb->>'type' = 'stage-moved'
              AND (convert_from(payload, 'UTF8')::jsonb->>'round')::int = 1
            """, [id]) == 1)
        // Round 0's stage is closed; the dossier is in the queues once.
        #expect(try pipeline.count(
            "SELECT count(*) FROM stages WHERE dossier_id = $1 AND round = 0 AND closed_at IS NOT NULL", [id]) == 1)
        let queues = try DepartmentFigures.queues(department: Self.department, now: Date(), in: pipeline.database)
        #expect(queues.filter(\.whole).map(\.open).reduce(0, +) == 1, "\(queues)")
    }
}
