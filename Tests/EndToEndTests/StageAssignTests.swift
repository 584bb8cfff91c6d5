import Authority
import Credentials
import Foundation
import Messages
import Postgres
import Store
import TestSupport
import Testing

/// Issue 20: `motcua review assign` through a real worker. A head of division assigns the current stage to another
/// official of its role (the slip names the assigner, acting as head of division; the stage's due instant stays);
/// a specialist's assignment and an assignment to an official of another role are refused with their reasons and
/// change nothing; the audit replay verifies the assignment against its signed command.
@Suite("Stage assignment by a leader", .serialized)
struct StageAssignTests {
    static let department = WorkflowStageTests.department

    @Test("a head of division re-assigns a stage (slip line, due instant kept); a specialist's assign and an assign to a director refused with their reasons, nothing changed; the replay finds nothing")
    func assign() async throws {
        let database = try TestDatabase("assign")
        defer { database.drop() }
        let pipeline = try Pipeline(databaseURL: database.url, seed: 29)
        let deploy = TestEnvironment.root.appendingPathComponent("deploy").path
        let registry = try await DevRegistry.register(
            department: Self.department.rawValue, rules: deploy,
            environment: pipeline.processEnvironment.merging(database.environment) { $1 })
        defer { registry.remove() }
        func keyFile(_ suffix: String) -> (id: String, key: String) {
            let id = "\(Self.department)-\(suffix)"
            return (id, registry.keyFile(id))
        }
        let specialists = [keyFile("specialist"), keyFile("specialist-2")]
        let head = keyFile("head")
        let director = keyFile("director")

        try pipeline.startReception()
        try pipeline.startWorker(Self.department)
        let dossier = try await pipeline.submitForOfficials(1)[0]
        let id = dossier.id
        let entered = await eventually(timeout: .seconds(120)) {
            try pipeline.count("SELECT count(*) FROM stages WHERE dossier_id = $1 AND stage = 'examine'", [id]) == 1
        }
        #expect(entered, "\(pipeline.logs())")
        let code = try #require(try pipeline.database.query("SELECT code FROM dossiers WHERE id = $1", [id]).first?
            .decode(String.self, "code"))
        let first = try #require(try WorkflowStageTests.stage(id, in: pipeline)?.assignee)
        let other = try #require(specialists.first { $0.id != first })
        let dueBefore = try pipeline.database.query("SELECT due_at FROM stages WHERE dossier_id = $1", [id])[0]
            .decode(Date.self, "due_at")
        func review(_ by: (id: String, key: String), _ extra: [String], wait: Bool) async throws -> CommandRun {
            try await WorkflowStageTests.motcua(
                ["review", "assign", code, "--official", by.id, "--department", Self.department.rawValue, "--key", by.key]
                    + (wait ? ["--wait", "--timeout", "120"] : []) + extra,
                pipeline: pipeline, database: database)
        }

        // The head of division re-assigns the specialist's stage to the other specialist.
        let assigned = try await review(head, ["--to", other.id, "--reason", "workload"], wait: true)
        #expect(assigned.status == 0 && assigned.stdout.contains("held by \(other.id)"), "\(assigned)\n\(pipeline.logs())")
        #expect(try WorkflowStageTests.stage(id, in: pipeline)
                == .init(stage: "examine", assignee: other.id, handovers: 2, closed: false))
        #expect(try WorkflowStageTests.slip(id, in: pipeline) == [
            "assign -→\(first)@examine -",
            "assign \(head.id)→\(other.id)@examine - as head-of-division [workload]",
        ])
        #expect(try pipeline.database.query("SELECT due_at FROM stages WHERE dossier_id = $1", [id])[0]
            .decode(Date.self, "due_at") == dueBefore)

        // Refused, each with its reason as a command-rejected event: a specialist assigning (even the stage's holder),
        // and the head assigning the specialist's stage to the director.
        #expect(try await review(other, ["--to", first], wait: false).status == 0)
        #expect(try await review(head, ["--to", director.id], wait: false).status == 0)
        let refused = await eventually(timeout: .seconds(120)) {
            try WorkflowStageTests.reasons("command-rejected", of: id, in: pipeline).count == 2
        }
        let reasons = try WorkflowStageTests.reasons("command-rejected", of: id, in: pipeline).sorted()
        #expect(refused, "\(reasons)\n\(pipeline.logs())")
        #expect(reasons.contains {
            $0.hasPrefix("role-not-allowed:") && $0.contains("heads of division and above assign")
        }, "\(reasons)")
        #expect(reasons.contains {
            $0.hasPrefix("role-not-allowed:") && $0.contains("receive stage 'examine' (specialist)")
        }, "\(reasons)")
        #expect(try WorkflowStageTests.stage(id, in: pipeline)
                == .init(stage: "examine", assignee: other.id, handovers: 2, closed: false))

        // The replay verifies the assignment against the head's signed command.
        let file = registry.directory.appendingPathComponent(TestEnvironment.unique("audit") + ".json")
        let replay = try await WorkflowStageTests.motcua(
            ["audit", "replay", "--department", Self.department.rawValue, "--format", "json", "--output", file.path,
             "--rules", deploy],
            pipeline: pipeline, database: database)
        let findings = (try JSONSerialization.jsonObject(with: try Data(contentsOf: file)) as? [String: Any])?["findings"]
        #expect(replay.status == 0, "\(replay) \(String(describing: findings))")
    }
}
