import Authority
import Messages
import Foundation
import Postgres
@testable import Services
import Store
import TestSupport
import Testing

extension StagedBatchTests {
    @Test("decisions already awaiting a signature when the department's workflow comes enter its last stage (the director's) once, with their assign events; new ones enter the first")
    mutating func awaitingDecisionsEnterTheLastStage() throws {
        defer { database.drop() }
        let bundle = try AuthorityBundle.load(from: TestEnvironment.root.appendingPathComponent("deploy"))
        // Before the workflow: a worker of the same department without one decides a batch.
        let before = try DepartmentWorker(
            department: "culture", bundle: bundle.replacingWorkflows([:]), clock: SystemClock(),
            logger: TestEnvironment.logger)
        let earlier = try karaokeSteps(6)
        _ = try database.connection.transaction { tx in try before.write(earlier, staged: nil, into: tx) }
        let ids = try earlier.map { try #require(String(validating: $0.key ?? [], as: UTF8.self)) }
        let awaiting = try database.connection.query(
            """
            SELECT count(*) AS n FROM decisions WHERE dossier_id = ANY($1::text[]) AND review = 'official'
              AND outcome IN ('approve', 'refuse') AND signed_at IS NULL
            """, [ids])[0].decode(Int.self, "n")
        #expect(try database.connection.query("SELECT count(*) AS n FROM stages", [])[0].decode(Int.self, "n") == 0)
        // The worker with the workflow (re)connects, twice: each awaiting step enters the last stage once.
        try worker.prepare(database.connection)
        try worker.prepare(database.connection)
        let stages = try database.connection.query(
            "SELECT stage, position, stage_count FROM stages WHERE dossier_id = ANY($1::text[])", [ids]
        ).map { (try $0.decode(String.self, "stage"), try $0.decode(Int.self, "position"), try $0.decode(Int.self, "stage_count")) }
        #expect(stages.count == awaiting)
        #expect(stages.allSatisfy { $0.0 == "sign" && $0.1 == $0.2 - 1 }, "\(stages)")
        let events = try database.connection.query(
            """
            SELECT count(*) AS n FROM outbox WHERE key = ANY($1::text[])
              AND convert_from(payload, 'UTF8')::jsonb->>'type' = 'stage-moved'
              AND convert_from(payload, 'UTF8')::jsonb->'data'->>'stage' = 'sign'
            """, [ids])[0].decode(Int.self, "n")
        #expect(events == awaiting)
        // New decisions enter the first stage, in the batch that prepares them.
        let later = try karaokeSteps(6)
        _ = try database.connection.transaction { tx in try worker.write(later, staged: nil, into: tx) }
        let laterIds = try later.map { try #require(String(validating: $0.key ?? [], as: UTF8.self)) }
        let first = try database.connection.query(
            "SELECT DISTINCT stage FROM stages WHERE dossier_id = ANY($1::text[])", [laterIds]
        ).map { try $0.decode(String.self, "stage") }
        #expect(first == ["examine"] || first.isEmpty, "\(first)")
    }
}
