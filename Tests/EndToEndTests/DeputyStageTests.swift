import Authority
import Credentials
import Foundation
import Kafka
import Messages
import Postgres
import Store
import TestSupport
import Testing

/// Issue 20: a deputy director's stage action needs a work authorisation from the director it acts for, as a
/// signature does. Through a real worker: a deputy's `return` produced as kcat would, without an authorisation, is
/// refused (`not-the-delegate`) and changes nothing; a hand-over written for it behind the system's back is
/// `unauthorised` in the audit replay; with an authorisation covering the procedure, the same action is taken.
@Suite("A deputy's stage action needs a work authorisation", .serialized)
struct DeputyStageTests {
    static let department: DepartmentID = "industry-trade"

    @Test("a deputy without a work authorisation is refused with not-the-delegate and nothing changes; the audit names a hand-over written for it unauthorised; with one, the action is taken")
    func deputyNeedsAuthorisation() async throws {
        let database = try TestDatabase("deputystage")
        defer { database.drop() }
        let pipeline = try Pipeline(databaseURL: database.url, seed: 24)
        let deploy = TestEnvironment.root.appendingPathComponent("deploy").path
        let environment = pipeline.processEnvironment.merging(database.environment) { $1 }
        func motcua(_ arguments: [String]) async throws -> CommandRun {
            try await CommandRun.run("motcua", arguments, environment: environment)
        }
        let registry = try await DevRegistry.register(
            department: Self.department.rawValue, rules: deploy,
            environment: environment)
        defer { registry.remove() }
        func keyFile(_ id: String) -> String { registry.keyFile(id) }
        let deputyId = "\(Self.department)-deputy"
        let deputy = try registry.official(deputyId)

        try pipeline.startReception()
        try pipeline.startWorker(Self.department)
        let dossiers = try await pipeline.submitForOfficials(2)
        let ids = dossiers.map(\.id)
        let entered = await eventually(timeout: .seconds(120)) {
            try pipeline.count("SELECT count(*) FROM stages WHERE dossier_id = ANY($1::text[])", [ids]) == ids.count
        }
        #expect(entered, "\(pipeline.logs())")
        func code(_ dossier: String) throws -> String {
            try #require(try pipeline.database.query("SELECT code FROM dossiers WHERE id = $1", [dossier]).first?
                .decode(String.self, "code"))
        }
        func stage(_ dossier: String) throws -> (stage: String, assignee: String?, handovers: Int) {
            let row = try #require(try pipeline.database.query(
                "SELECT stage, assignee, handovers FROM stages WHERE dossier_id = $1", [dossier]).first)
            return (try row.decode(String.self, "stage"), try row.decodeIfPresent(String.self, "assignee"),
                    try row.decode(Int.self, "handovers"))
        }
        // Both dossiers at the head of division's stage (the specialist proposed): a deputy director acts there as a
        // leader above the stage's role, with the director's authority.
        for id in ids {
            let specialist = try #require(try stage(id).assignee)
            let run = try await motcua(
                ["review", "propose", try code(id), "--official", specialist, "--department", Self.department.rawValue,
                 "--key", keyFile(specialist), "--wait", "--timeout", "120"])
            #expect(run.status == 0, "\(run)\n\(pipeline.logs())")
            #expect(try stage(id).stage == "check")
        }

        func deputyReturn(_ dossier: String) async throws {
            let json = """
                {"action":"return","at":"\(ISO8601Instant.format(Date()))","commandId":"\(UUID().uuidString)",\
                "dossierId":"\(dossier)","official":{"department":"\(Self.department)","id":"\(deputyId)"},\
                "reason":"the site plan is not signed","round":0,"stage":"check","step":0}
                """
            let value = try CommandSignature.sign(
                Array(json.utf8), type: MessageType.stage, topic: SignedCommands.topic(department: Self.department),
                principal: deputyId, certificate: deputy.certificate.sha256, key: deputy.key)
            try await pipeline.producer.send(KafkaOutgoingMessage(
                topic: pipeline.topics.department(Self.department), key: dossier, value: value,
                headers: [KafkaHeader("ce_type", MessageType.stage)]))
        }
        func rejections(_ dossier: String) throws -> [String] {
            try pipeline.database.query(
                """
                SELECT convert_from(payload, 'UTF8')::jsonb->'data'->>'reason' AS reason FROM outbox
                WHERE key = $1 AND topic = $2 AND convert_from(payload, 'UTF8')::jsonb->>'type' = 'command-rejected'
                """, [dossier, pipeline.topics.events]
            ).map { try $0.decodeIfPresent(String.self, "reason") ?? "" }
        }

        // 1. Without a work authorisation: refused with its reason, nothing changed.
        let a = ids[0]
        let before = try stage(a)
        try await deputyReturn(a)
        let refused = await eventually(timeout: .seconds(120)) { try !rejections(a).isEmpty }
        let reasons = try rejections(a)
        #expect(refused, "\(pipeline.logs())")
        #expect(reasons.count == 1 && reasons[0].hasPrefix("not-the-delegate: a deputy director acts at a stage only with a work authorisation"), "\(reasons)")
        let after = try stage(a)
        #expect(after.stage == before.stage && after.assignee == before.assignee && after.handovers == before.handovers)
        #expect(try pipeline.count("SELECT count(*) FROM stage_handovers WHERE dossier_id = $1 AND from_official = $2", [a, deputyId]) == 0)

        // 2. The same hand-over written into PostgreSQL behind the system's back: the replay finds the deputy's signed
        //    command on the topic, and names the hand-over unauthorised.
        try database.connection.execute(
            """
            INSERT INTO stage_handovers (dossier_id, step, round, line, department, division, action, from_stage,
                                         from_official, to_stage, to_official, reason, at)
            SELECT dossier_id, 0, 0, handovers + 1, department, division, 'return', 'check', $2, 'examine',
                   sender, 'the site plan is not signed', now()
            FROM stages WHERE dossier_id = $1
            """, [a, deputyId])
        let file = registry.directory.appendingPathComponent(TestEnvironment.unique("audit") + ".json")
        let replay = try await motcua(
            ["audit", "replay", "--department", Self.department.rawValue, "--format", "json", "--output", file.path,
             "--rules", deploy])
        let findings = (try JSONSerialization.jsonObject(with: try Data(contentsOf: file)) as? [String: Any])?["findings"]
            as? [[String: Any]] ?? []
        #expect(replay.status == 1, "\(replay)")
        let unauthorised = findings.filter { $0["kind"] as? String == "unauthorised" }
        #expect(unauthorised.compactMap { $0["dossierId"] as? String } == [a], "\(findings)")
        #expect(unauthorised.allSatisfy { ($0["detail"] as? String ?? "").contains("not-the-delegate") }, "\(findings)")
        #expect(!findings.contains { $0["kind"] as? String == "forged" }, "\(findings)")

        // 3. With the director's work authorisation covering the procedure: the deputy's return is taken.
        let today = LocalDate(instant: Date())
        let authorise = try await motcua(
            ["officials", "authorise", "--deputy", deputyId, "--for", "\(Self.department)-director", "--procedures",
             "2.000620", "--from", today.adding(days: -1).description, "--to", today.adding(days: 1).description,
             "--instrument", "QD-TEST-20"])
        #expect(authorise.status == 0, "\(authorise)")
        let b = ids[1]
        try await deputyReturn(b)
        let taken = await eventually(timeout: .seconds(120)) { try stage(b).stage == "examine" }
        let rejectedB = try rejections(b)
        #expect(taken, "\(rejectedB)\n\(pipeline.logs())")
        #expect(rejectedB.isEmpty)
        #expect(try pipeline.count(
            "SELECT count(*) FROM stage_handovers WHERE dossier_id = $1 AND from_official = $2 AND action = 'return' AND acted_as = 'director'",
            [b, deputyId]) == 1)
    }
}
