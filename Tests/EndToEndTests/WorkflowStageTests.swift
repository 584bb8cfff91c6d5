import Authority
import Credentials
import Foundation
import Kafka
import Messages
import Postgres
import Store
import TestSupport
import Testing

/// Issue 20: stages inside a department, through a real worker and `motcua review`. A prepared decision enters the
/// first stage of the department's workflow (deploy/workflows/industry-trade.yaml: examine → check → sign), assigned
/// round-robin to a specialist of the division; officials' signed stage actions move it; every hand-over is on the
/// processing-control slip (`stage_handovers`); forged or unauthorised actions are refused with their reason and
/// change nothing.
@Suite("Workflow stages inside a department", .serialized)
struct WorkflowStageTests: SignedCommandSuite {
    typealias Official = RegisteredOfficial
    static let department: DepartmentID = "industry-trade"

    struct Stage: Equatable {
        var stage: String
        var assignee: String?
        var handovers: Int
        var closed: Bool
    }

    static func stage(_ dossier: String, in pipeline: Pipeline) throws -> Stage? {
        try pipeline.database.query(
            "SELECT stage, assignee, handovers, closed_at IS NOT NULL AS closed FROM stages WHERE dossier_id = $1", [dossier]
        ).first.map {
            Stage(stage: try $0.decode(String.self, "stage"), assignee: try $0.decodeIfPresent(String.self, "assignee"),
                  handovers: try $0.decode(Int.self, "handovers"), closed: try $0.decode(Bool.self, "closed"))
        }
    }

    /// The slip of a dossier: "action from→to (verdict) reason" per line.
    static func slip(_ dossier: String, in pipeline: Pipeline) throws -> [String] {
        try pipeline.database.query(
            """
            SELECT action, from_official, to_official, to_stage, verdict, reason, acted_as FROM stage_handovers
            WHERE dossier_id = $1 ORDER BY line
            """, [dossier]
        ).map { row in
            let action = try row.decode(String.self, "action")
            let from = try row.decodeIfPresent(String.self, "from_official") ?? "-"
            let to = try row.decodeIfPresent(String.self, "to_official") ?? "-"
            let stage = try row.decodeIfPresent(String.self, "to_stage") ?? "-"
            let verdict = try row.decodeIfPresent(String.self, "verdict") ?? "-"
            let reason = try row.decodeIfPresent(String.self, "reason").map { " [\($0)]" } ?? ""
            let actedAs = try row.decodeIfPresent(String.self, "acted_as").map { " as \($0)" } ?? ""
            return "\(action) \(from)→\(to)@\(stage) \(verdict)\(actedAs)\(reason)"
        }
    }

    @Test("assign round-robin → specialist proposes → head approves → director signs; a return with its reason; a transfer and its recall; a specialist's signature and a forged stage action refused with their reasons, nothing changed")
    func stagesEndToEnd() async throws {
        let database = try TestDatabase("stages")
        defer { database.drop() }
        let pipeline = try Pipeline(databaseURL: database.url, seed: 20)
        let deploy = TestEnvironment.root.appendingPathComponent("deploy").path
        let registry = try await DevRegistry.register(
            department: Self.department.rawValue, rules: deploy,
            environment: pipeline.processEnvironment.merging(database.environment) { $1 })
        defer { registry.remove() }
        func official(_ suffix: String) throws -> Official { try registry.official("\(Self.department)-\(suffix)") }
        let specialists = [try official("specialist"), try official("specialist-2")]
        let head = try official("head")
        let director = try official("director")

        try pipeline.startReception()
        try pipeline.startWorker(Self.department)
        let dossiers = try await pipeline.submitForOfficials(4)
        let ids = dossiers.map(\.id)
        let entered = await eventually(timeout: .seconds(120)) {
            try pipeline.count(
                "SELECT count(*) FROM stages WHERE dossier_id = ANY($1::text[]) AND stage = 'examine' AND position = 0",
                [ids]) == ids.count
        }
        #expect(entered, "\(pipeline.logs())")
        // Round-robin within the division: both specialists of trade-management hold two each.
        let holders = try ids.map { try #require(try Self.stage($0, in: pipeline)?.assignee) }
        #expect(Set(holders) == Set(specialists.map(\.id)), "\(holders)")
        #expect(Dictionary(grouping: holders, by: { $0 }).values.map(\.count).sorted() == [2, 2], "\(holders)")
        // Every entry is an event the replay reads (action assign) and the slip's first line.
        #expect(try pipeline.count(
            """
            SELECT count(*) FROM outbox WHERE key = ANY($1::text[]) AND convert_from(payload, 'UTF8')::jsonb->>'type' = 'stage-moved'
              AND convert_from(payload, 'UTF8')::jsonb->'data'->>'action' = 'assign'
            """, [ids]) == ids.count)
        func holder(_ dossier: String) throws -> Official {
            let id = try #require(try Self.stage(dossier, in: pipeline)?.assignee)
            return try #require(([head, director] + specialists).first { $0.id == id })
        }
        func code(_ dossier: String) throws -> String {
            try #require(try pipeline.database.query("SELECT code FROM dossiers WHERE id = $1", [dossier]).first?
                .decode(String.self, "code"))
        }
        func review(
            _ action: String, _ dossier: String, by official: Official, _ extra: [String] = [], wait: Bool = true
        ) async throws -> CommandRun {
            try await Self.motcua(
                ["review", action, try code(dossier), "--official", official.id, "--department", Self.department.rawValue,
                 "--key", official.keyFile] + (wait ? ["--wait", "--timeout", "120"] : []) + extra,
                pipeline: pipeline, database: database)
        }

        // 1. The chain: the specialist proposes, the head approves, the director signs.
        let a = ids[0]
        let aSpecialist = try holder(a)
        let propose = try await review("propose", a, by: aSpecialist)
        #expect(propose.status == 0 && propose.stdout.contains("now at stage 'check'"), "\(propose)\n\(pipeline.logs())")
        #expect(try Self.stage(a, in: pipeline)?.assignee == head.id)
        let approve = try await review("approve", a, by: head)
        #expect(approve.status == 0 && approve.stdout.contains("now at stage 'sign'"), "\(approve)")
        #expect(try Self.stage(a, in: pipeline)?.assignee == director.id)
        let sign = try await review("sign", a, by: director)
        #expect(sign.status == 0 && sign.stdout.contains("signed: approve"), "\(sign)")
        let signedStage = await eventually(timeout: .seconds(60)) { try Self.stage(a, in: pipeline)?.closed == true }
        #expect(signedStage)
        let slipA = try Self.slip(a, in: pipeline)
        #expect(slipA == [
            "assign -→\(aSpecialist.id)@examine -",
            "propose \(aSpecialist.id)→\(head.id)@check early",
            "approve \(head.id)→\(director.id)@sign early",
            "sign \(director.id)→-@- early",
        ], "\(slipA)")

        // 2. A return to the previous stage, with its reason: back to the specialist who proposed.
        let b = ids[1]
        let bSpecialist = try holder(b)
        #expect(try await review("propose", b, by: bSpecialist).status == 0)
        let back = try await review("return", b, by: head, ["--reason", "the distance to the school is not measured"])
        #expect(back.status == 0 && back.stdout.contains("now at stage 'examine'"), "\(back)")
        #expect(try Self.stage(b, in: pipeline)?.assignee == bSpecialist.id)
        #expect(try Self.slip(b, in: pipeline).last
            == "return \(head.id)→\(bSpecialist.id)@examine early [the distance to the school is not measured]")

        // 3. A transfer to the other specialist, then the sender recalls it before the receiver acted.
        let c = ids[2]
        let cSpecialist = try holder(c)
        let other = try #require(specialists.first { $0.id != cSpecialist.id })
        let transfer = try await review("transfer", c, by: cSpecialist, ["--to", other.id])
        #expect(transfer.status == 0, "\(transfer)")
        #expect(try Self.stage(c, in: pipeline)?.assignee == other.id)
        let recall = try await review("recall", c, by: cSpecialist)
        #expect(recall.status == 0, "\(recall)")
        #expect(try Self.stage(c, in: pipeline) == Stage(stage: "examine", assignee: cSpecialist.id, handovers: 3, closed: false))
        // The receiver can no longer recall what was never theirs to send.
        let notTheSender = try await review("recall", c, by: other, wait: false)
        #expect(notTheSender.status == 0, "\(notTheSender)")
        let recallRefused = await eventually(timeout: .seconds(120)) {
            try Self.reasons("command-rejected", of: c, in: pipeline).contains { $0.hasPrefix("not-the-delegate:") }
        }
        let recallReasons = try Self.reasons("command-rejected", of: c, in: pipeline)
        #expect(recallRefused, "\(recallReasons)")
        #expect(try Self.stage(c, in: pipeline) == Stage(stage: "examine", assignee: cSpecialist.id, handovers: 3, closed: false))

        // 4. Attacks, produced as kcat would: a specialist's signature of the decision, a stage action forged under
        //    the director's name with the specialist's key, and the other specialist approving at the specialist stage.
        let d = ids[3]
        let dHolder = try holder(d)
        let ruleVersion = try #require(try pipeline.database.query(
            "SELECT rule_version FROM decisions WHERE dossier_id = $1", [d]).first?.decode(String.self, "rule_version"))
        func signed(_ json: String, type: String, by official: Official, as claimed: Official? = nil) throws -> [UInt8] {
            try CommandSignature.sign(
                Array(json.utf8), type: type, topic: SignedCommands.topic(department: Self.department),
                principal: (claimed ?? official).id, certificate: (claimed ?? official).certificate.sha256,
                key: official.key)
        }
        let now = ISO8601Instant.format(Date())
        let signBySpecialist = try signed(
            """
            {"at":"\(now)","commandId":"\(UUID().uuidString)","decision":"approve","dossierId":"\(d)",\
            "official":{"department":"\(Self.department)","id":"\(dHolder.id)"},"preparedOutcome":"approve","round":0,\
            "ruleVersion":"\(ruleVersion)","step":0}
            """, type: MessageType.sign, by: dHolder)
        let forged = try signed(
            """
            {"action":"propose","at":"\(now)","commandId":"\(UUID().uuidString)","dossierId":"\(d)",\
            "official":{"department":"\(Self.department)","id":"\(director.id)"},"round":0,"stage":"examine","step":0}
            """, type: MessageType.stage, by: dHolder, as: director)
        let wrongStage = try signed(
            """
            {"action":"approve","at":"\(now)","commandId":"\(UUID().uuidString)","dossierId":"\(d)",\
            "official":{"department":"\(Self.department)","id":"\(head.id)"},"round":0,"stage":"examine","step":0}
            """, type: MessageType.stage, by: head)
        for (value, type) in [(signBySpecialist, MessageType.sign), (forged, MessageType.stage), (wrongStage, MessageType.stage)] {
            try await pipeline.producer.send(KafkaOutgoingMessage(
                topic: pipeline.topics.department(Self.department), key: d, value: value,
                headers: [KafkaHeader("ce_type", type)]))
        }
        let refused = await eventually(timeout: .seconds(120)) {
            try Self.reasons("command-rejected", of: d, in: pipeline).count == 3
        }
        let reasons = try Self.reasons("command-rejected", of: d, in: pipeline).sorted()
        #expect(refused, "\(reasons)\n\(pipeline.logs())")
        #expect(reasons.contains { $0.hasPrefix("role-not-allowed: a specialist cannot sign a final decision") }, "\(reasons)")
        // The specialist's P-256 key under the director's (RSA) certificate: refused before any role is considered.
        #expect(reasons.contains { $0.hasPrefix("unknown-certificate:") || $0.hasPrefix("bad-signature:") }, "\(reasons)")
        #expect(reasons.contains { $0.hasPrefix("stale: approve is taken at a head-of-division stage") }, "\(reasons)")
        // Nothing changed: unsigned, still at the first stage with its holder, one line on the slip.
        #expect(try pipeline.count("SELECT count(*) FROM decisions WHERE dossier_id = $1 AND signed_at IS NOT NULL", [d]) == 0)
        #expect(try Self.stage(d, in: pipeline) == Stage(stage: "examine", assignee: dHolder.id, handovers: 1, closed: false))

        // The queues: each specialist's, soonest due first, and the division's.
        let queue = try await Self.motcua(
            ["review", "list", "--official", cSpecialist.id, "--json", "--rules", deploy], pipeline: pipeline,
            database: database)
        #expect(queue.status == 0, "\(queue)")
        let listed = (try JSONSerialization.jsonObject(with: Data(queue.stdout.utf8)) as? [[String: Any]] ?? [])
            .compactMap { $0["dossierId"] as? String }
        let expected = try pipeline.database.query(
            "SELECT dossier_id FROM stages WHERE assignee = $1 AND closed_at IS NULL ORDER BY due_at, dossier_id",
            [cSpecialist.id]).map { try $0.decode(String.self, "dossier_id") }
        #expect(listed == expected && listed.contains(c), "\(listed) vs \(expected)")
        let division = try await Self.motcua(
            ["review", "list", "--department", Self.department.rawValue, "--division", "trade-management", "--json",
             "--rules", deploy], pipeline: pipeline, database: database)
        let divisionIds = (try JSONSerialization.jsonObject(with: Data(division.stdout.utf8)) as? [[String: Any]] ?? [])
            .compactMap { $0["dossierId"] as? String }
        #expect(Set(divisionIds) == Set([b, c, d]), "\(division)")

        // The slip as officials read it.
        let slip = try await Self.motcua(["slip", try code(a), "--rules", deploy], pipeline: pipeline, database: database)
        #expect(slip.status == 0, "\(slip)")
        for line in ["propose", "approve", "sign", aSpecialist.id, head.id, director.id, "early", "Phòng Quản lý thương mại"] {
            #expect(slip.stdout.contains(line), "\(line) in \(slip.stdout)")
        }

        // The audit replay: every officials' hand-over verifies against its signed command; one written into
        // PostgreSQL behind the system's back (as the schema owner) is named `forged`.
        func replay() async throws -> (status: Int32?, findings: [[String: Any]], run: CommandRun) {
            let file = registry.directory.appendingPathComponent(TestEnvironment.unique("audit") + ".json")
            let run = try await Self.motcua(
                ["audit", "replay", "--department", Self.department.rawValue, "--format", "json", "--output", file.path,
                 "--rules", deploy],
                pipeline: pipeline, database: database)
            let json = try JSONSerialization.jsonObject(with: try Data(contentsOf: file)) as? [String: Any]
            return (run.status, json?["findings"] as? [[String: Any]] ?? [], run)
        }
        let clean = try await replay()
        #expect(clean.status == 0, "\(clean.run) \(clean.findings)")
        try database.connection.execute(
            """
            INSERT INTO stage_handovers (dossier_id, step, round, line, department, division, action, from_stage,
                                         from_official, to_stage, to_official, at)
            VALUES ($1, 0, 0, 2, 'industry-trade', 'trade-management', 'propose', 'examine', $2, 'check', $3, now())
            """, [d, dHolder.id, head.id])
        let forgedRun = try await replay()
        #expect(forgedRun.status == 1, "\(forgedRun.run)")
        let forgedIds = forgedRun.findings.filter { $0["kind"] as? String == "forged" }.compactMap { $0["dossierId"] as? String }
        #expect(forgedIds == [d], "\(forgedRun.findings)")
    }
}
