import Authority
import Credentials
import Foundation
import Kafka
import Messages
import Postgres
import Store
import TestSupport
import Testing

/// Issue 20, part 3: drafts that need approval, through a real worker, the coordinator and `motcua review`. A
/// refusal, a supplement request, an apology (form 04) and a stop notice (form 05) are written by a specialist and
/// take effect only when the leader their kind requires approves them; approvals by officials without that role, and
/// one forged as kcat would produce it, are refused with their reasons and change nothing; a stop notice ends the
/// dossier as stopped, national status code 8, once.
@Suite("Drafts that need approval", .serialized)
struct DraftTests: SignedCommandSuite {
    typealias Official = RegisteredOfficial
    static let department: DepartmentID = "industry-trade"

    /// The dossier's deadlines as the coordinator keeps them: "step status due".
    static func deadlines(_ dossier: String, in pipeline: Pipeline) throws -> [String] {
        try pipeline.database.query(
            "SELECT step, status, due_date::text AS due FROM deadlines WHERE dossier_id = $1 ORDER BY step", [dossier]
        ).map { "\(try $0.decode(Int.self, "step")) \(try $0.decode(String.self, "status")) \(try $0.decode(String.self, "due"))" }
    }

    static func draftStates(_ dossier: String, in pipeline: Pipeline) throws -> [String] {
        try pipeline.database.query(
            "SELECT kind, state, decided_by FROM drafts WHERE dossier_id = $1 ORDER BY written_at", [dossier]
        ).map { "\(try $0.decode(String.self, "kind")) \(try $0.decode(String.self, "state")) \(try $0.decodeIfPresent(String.self, "decided_by") ?? "-")" }
    }

    @Test("a refusal, a supplement request, an apology and a stop notice take effect only when the leader their kind requires approves them; a head approving a refusal, a specialist approving, and a forged approval are refused with their reasons and change nothing; a stop notice gives national code 8 once")
    func draftsEndToEnd() async throws {
        let database = try TestDatabase("drafts")
        defer { database.drop() }
        let pipeline = try Pipeline(databaseURL: database.url, seed: 24)
        let deploy = TestEnvironment.root.appendingPathComponent("deploy").path
        let registry = try await DevRegistry.register(
            department: Self.department.rawValue, rules: deploy,
            environment: pipeline.processEnvironment.merging(database.environment) { $1 })
        defer { registry.remove() }
        func official(_ suffix: String) throws -> Official { try registry.official("\(Self.department)-\(suffix)") }
        let specialist = try official("specialist")
        let otherSpecialist = try official("specialist-2")
        let head = try official("head")
        let director = try official("director")

        // Reception, the status projection (deadlines, portal records) and the worker, from the topics' current end.
        try pipeline.startCoordinator(rules: deploy)
        try pipeline.startWorker(Self.department)
        let dossiers = try await pipeline.submitForOfficials(4)
        let ids = dossiers.map(\.id)
        let ready = await eventually(timeout: .seconds(120)) {
            try pipeline.count(
                "SELECT count(*) FROM stages WHERE dossier_id = ANY($1::text[])", [ids]) == ids.count
                && pipeline.count(
                    "SELECT count(DISTINCT dossier_id) FROM deadlines WHERE dossier_id = ANY($1::text[]) AND step = 0",
                    [ids]) == ids.count
        }
        #expect(ready, "\(pipeline.logs())")
        func code(_ dossier: String) throws -> String {
            try #require(try pipeline.database.query("SELECT code FROM dossiers WHERE id = $1", [dossier]).first?
                .decode(String.self, "code"))
        }
        func review(_ arguments: [String], _ dossier: String, by official: Official, wait: Bool = true) async throws
            -> CommandRun
        {
            try await Self.motcua(
                ["review"] + arguments + [try code(dossier), "--official", official.id, "--department",
                                          Self.department.rawValue, "--key", official.keyFile]
                    + (wait ? ["--wait", "--timeout", "120"] : []),
                pipeline: pipeline, database: database)
        }
        func signedAt(_ dossier: String) throws -> Int {
            try pipeline.count("SELECT count(*) FROM decisions WHERE dossier_id = $1 AND signed_at IS NOT NULL", [dossier])
        }

        // 1. A refusal: drafted by the specialist, nothing sent and the clock unchanged until the director approves.
        let a = ids[0]
        let before = try Self.deadlines(a, in: pipeline)
        let drafted = try await review(["draft", "refuse", "--reason", "the premises are not in a trade zone"], a, by: specialist)
        #expect(drafted.status == 0 && drafted.stdout.contains("refuse drafted"), "\(drafted)\n\(pipeline.logs())")
        let listed = try await Self.motcua(
            ["review", "list", "--department", Self.department.rawValue, "--drafts", "--json"], pipeline: pipeline,
            database: database)
        #expect(listed.status == 0 && listed.stdout.contains(a) && listed.stdout.contains("\"refuse\""), "\(listed)")
        let draftedEvent = await eventually(timeout: .seconds(60)) {
            try pipeline.count("SELECT count(*) FROM dossier_timeline WHERE dossier_id = $1 AND type = 'drafted'", [a]) == 1
        }
        #expect(draftedEvent)
        #expect(try signedAt(a) == 0)
        #expect(try Self.reasons("decided", of: a, in: pipeline).isEmpty)
        #expect(try Self.deadlines(a, in: pipeline) == before)

        // Approvals without the role, and one forged as kcat would produce it: refused with their reasons.
        let byHead = try await review(["approve-draft"], a, by: head, wait: false)
        #expect(byHead.status == 0, "\(byHead)")
        let bySpecialist = try await review(["approve-draft"], a, by: otherSpecialist, wait: false)
        #expect(bySpecialist.status == 0, "\(bySpecialist)")
        let draftId = try #require(try pipeline.database.query("SELECT draft_id FROM drafts WHERE dossier_id = $1", [a])
            .first?.decode(UUID.self, "draft_id"))
        let forged = try CommandSignature.sign(
            Array("""
                {"action":"approve","at":"\(ISO8601Instant.format(Date()))","commandId":"\(UUID().uuidString)",\
                "dossierId":"\(a)","draftId":"\(draftId.uuidString)",\
                "official":{"department":"\(Self.department)","id":"\(director.id)"},"step":0}
                """.utf8),
            type: MessageType.draft, topic: SignedCommands.topic(department: Self.department), principal: director.id,
            certificate: director.certificate.sha256, key: specialist.key)
        try await pipeline.producer.send(KafkaOutgoingMessage(
            topic: pipeline.topics.department(Self.department), key: a, value: forged,
            headers: [KafkaHeader("ce_type", MessageType.draft)]))
        let refused = await eventually(timeout: .seconds(120)) {
            try Self.reasons("command-rejected", of: a, in: pipeline).count == 3
        }
        let reasons = try Self.reasons("command-rejected", of: a, in: pipeline).sorted()
        #expect(refused, "\(reasons)\n\(pipeline.logs())")
        #expect(reasons.contains { $0.hasPrefix("not-the-delegate: the delegation's delegate is the director") }, "\(reasons)")
        #expect(reasons.contains { $0.hasPrefix("role-not-allowed: a specialist cannot sign a final decision") }, "\(reasons)")
        #expect(reasons.contains { $0.hasPrefix("unknown-certificate:") || $0.hasPrefix("bad-signature:") }, "\(reasons)")
        #expect(try Self.draftStates(a, in: pipeline) == ["refuse written -"])
        #expect(try signedAt(a) == 0)
        #expect(try Self.reasons("decided", of: a, in: pipeline).isEmpty)

        // The director approves: sent, the step refused with the draft's reason, its deadlines closed.
        let approved = try await review(["approve-draft"], a, by: director)
        #expect(approved.status == 0 && approved.stdout.contains("approved and sent"), "\(approved)\n\(pipeline.logs())")
        #expect(try Self.draftStates(a, in: pipeline) == ["refuse sent \(director.id)"])
        #expect(try pipeline.database.query(
            "SELECT signed_outcome, signed_by FROM decisions WHERE dossier_id = $1 AND signed_at IS NOT NULL", [a]
        ).map { "\(try $0.decode(String.self, "signed_outcome")) \(try $0.decode(String.self, "signed_by"))" }
            == ["refuse \(director.id)"])
        #expect(try Self.reasons("decided", of: a, in: pipeline) == ["the premises are not in a trade zone"])
        let closedA = await eventually(timeout: .seconds(60)) {
            try Self.deadlines(a, in: pipeline).allSatisfy { $0.contains(" closed ") }
        }
        let deadlinesA = try Self.deadlines(a, in: pipeline)
        #expect(closedA, "\(deadlinesA)")

        // 2. A supplement request pauses the clock only when sent (approved by the head of division).
        let b = ids[1]
        let document = try #require(pipeline.bundle.catalogue.procedure("2.000620")?.documents.first)
        // No way around the approval: the specialist's supplement request sent directly is refused.
        let direct = try await review(
            ["supplement", "--documents", document, "--reason", "the copy is illegible"], b, by: specialist)
        #expect(direct.status != 0, "\(direct)")
        let directReasons = try Self.reasons("command-rejected", of: b, in: pipeline)
        #expect(directReasons.count == 1 && directReasons[0].hasPrefix(
            "role-not-allowed: a specialist cannot request a supplement directly"), "\(directReasons)")
        #expect(try pipeline.count("SELECT count(*) FROM supplement_requests WHERE dossier_id = $1", [b]) == 0)
        let supplement = try await review(
            ["draft", "supplement", "--documents", document, "--reason", "the copy is illegible"], b, by: specialist)
        #expect(supplement.status == 0, "\(supplement)")
        let draftedB = await eventually(timeout: .seconds(60)) {
            try pipeline.count("SELECT count(*) FROM dossier_timeline WHERE dossier_id = $1 AND type = 'drafted'", [b]) == 1
        }
        #expect(draftedB)
        let openB = try Self.deadlines(b, in: pipeline)
        #expect(openB.allSatisfy { $0.contains(" open ") }, "\(openB)")
        #expect(try pipeline.count("SELECT count(*) FROM supplement_requests WHERE dossier_id = $1", [b]) == 0)
        let sentB = try await review(["approve-draft"], b, by: head)
        #expect(sentB.status == 0 && sentB.stdout.contains("approved and sent"), "\(sentB)")
        let paused = await eventually(timeout: .seconds(60)) {
            try Self.deadlines(b, in: pipeline).allSatisfy { $0.contains(" paused ") }
        }
        let pausedB = try Self.deadlines(b, in: pipeline)
        #expect(paused, "\(pausedB)")
        #expect(try pipeline.count("SELECT count(*) FROM supplement_requests WHERE dossier_id = $1 AND official = $2", [b, head.id]) == 1)

        // 3. An apology (form 04): the appointment moves to the new date when the head approves it.
        let c = ids[2]
        let appointment = try #require(try pipeline.database.query(
            "SELECT due_date::text AS due FROM deadlines WHERE dossier_id = $1 AND step = -1", [c]).first?
            .decode(String.self, "due"))
        let newDate = try #require(LocalDate(appointment)).adding(days: 7).description
        let stepDue = try #require(try pipeline.database.query(
            "SELECT due_date::text AS due FROM deadlines WHERE dossier_id = $1 AND step = 0", [c]).first?
            .decode(String.self, "due"))
        let apology = try await review(
            ["draft", "apology", "--new-date", newDate, "--reason", "a site inspection is needed"], c, by: specialist)
        #expect(apology.status == 0, "\(apology)")
        #expect(try pipeline.database.query("SELECT due_date::text AS due FROM dossier_status WHERE dossier_id = $1", [c])
            .first?.decode(String.self, "due") == appointment)
        let sentC = try await review(["approve-draft"], c, by: head)
        #expect(sentC.status == 0, "\(sentC)")
        let moved = await eventually(timeout: .seconds(60)) {
            try pipeline.database.query("SELECT due_date::text AS due FROM dossier_status WHERE dossier_id = $1", [c])
                .first?.decode(String.self, "due") == newDate
        }
        let movedC = try Self.deadlines(c, in: pipeline)
        #expect(moved, "\(movedC)")
        // Issue 20: the current step's deadline moves too, not only the appointment (each its one apology).
        let stepMoved = await eventually(timeout: .seconds(60)) {
            try Self.deadlines(c, in: pipeline).contains("0 open \(newDate)")
        }
        let stepDeadlines = try Self.deadlines(c, in: pipeline)
        #expect(stepMoved, "\(stepDeadlines)")
        #expect(try Self.deadlines(c, in: pipeline).contains("-1 open \(newDate)"))
        // Recorded by the worker as the appointment's and the step's one apology, with the date each replaced
        // (which the 766 progress rule keeps) and the department that recorded it.
        #expect(try pipeline.database.query(
            "SELECT step, previous_date::text AS p, new_date::text AS n, issued_by, department FROM apologies WHERE dossier_id = $1 ORDER BY step", [c]
        ).map { "\(try $0.decode(Int.self, "step")) \(try $0.decode(String.self, "p")) \(try $0.decode(String.self, "n")) \(try $0.decode(String.self, "issued_by")) \(try $0.decode(String.self, "department"))" }
            == ["-1 \(appointment) \(newDate) \(head.id) \(Self.department)",
                "0 \(stepDue) \(newDate) \(head.id) \(Self.department)"])
        #expect(try Self.reasons("apology-issued", of: c, in: pipeline).count == 2)
        // The applicant is told once (an `apology` notification intent with both dates, no contact data).
        #expect(try pipeline.database.query(
            """
            SELECT convert_from(payload, 'UTF8')::jsonb->'values'->>'newDate' AS n FROM outbox
            WHERE key = $1 AND topic = $2 AND convert_from(payload, 'UTF8')::jsonb->>'intent' = 'apology'
            """, [c, pipeline.topics.notifications]).map { try $0.decode(String.self, "n") } == [newDate])

        // 4. A stop notice (form 05): returned once with its reason, then approved by the director; the dossier ends
        //    as stopped, national code 8 on portal.sync once, and is signed no further.
        let d = ids[3]
        let stop = try await review(["draft", "stop", "--reason", "the applicant asked to stop"], d, by: specialist)
        #expect(stop.status == 0, "\(stop)")
        let back = try await Self.motcua(
            ["review", "return-draft", try code(d), "--official", director.id, "--department", Self.department.rawValue,
             "--key", director.keyFile, "--reason", "attach the applicant's written request", "--wait", "--timeout", "120"],
            pipeline: pipeline, database: database)
        #expect(back.status == 0 && back.stdout.contains("returned to \(specialist.id)"), "\(back)")
        #expect(try Self.reasons("draft-returned", of: d, in: pipeline) == ["attach the applicant's written request"])
        let again = try await review(
            ["draft", "stop", "--reason", "the applicant asked in writing to stop"], d, by: specialist)
        #expect(again.status == 0, "\(again)")
        let stopped = try await review(["approve-draft"], d, by: director)
        #expect(stopped.status == 0 && stopped.stdout.contains("approved and sent"), "\(stopped)")
        #expect(try Self.draftStates(d, in: pipeline) == ["stop returned \(director.id)", "stop sent \(director.id)"])
        let ended = await eventually(timeout: .seconds(60)) {
            try pipeline.database.query("SELECT status FROM dossier_status WHERE dossier_id = $1", [d]).first?
                .decode(String.self, "status") == "stopped"
                && pipeline.count("SELECT count(*) FROM portal_sync_records WHERE dossier_id = $1 AND status_code = 8", [d]) == 1
        }
        #expect(ended, "\(pipeline.logs())")
        #expect(try pipeline.count(
            """
            SELECT count(*) FROM outbox WHERE key = $1 AND topic = $2
              AND (convert_from(payload, 'UTF8')::jsonb->>'statusCode')::int = 8
            """, [d, pipeline.topics.portalSync]) == 1)
        #expect(try Self.deadlines(d, in: pipeline).allSatisfy { $0.contains(" closed ") })
        #expect(try pipeline.count("SELECT count(*) FROM stages WHERE dossier_id = $1 AND closed_at IS NULL", [d]) == 0)
        // The open stage closed with its own slip line (form 06): stopped by the approver, its verdict against the
        // stage's quota as computed here (late after the due instant, early before its local day, else on time).
        let stopLine = try #require(try pipeline.database.query(
            """
            SELECT action || ' ' || coalesce(from_stage, '-') || ' ' || coalesce(from_official, '-') || ' '
                   || coalesce(to_official, '-') || ' ' || coalesce(reason, '-') AS line, verdict,
                   CASE WHEN at > stage_due_at THEN 'late'
                        WHEN (at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date < (stage_due_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date
                        THEN 'early' ELSE 'on-time' END AS expected
            FROM stage_handovers WHERE dossier_id = $1 ORDER BY line DESC LIMIT 1
            """, [d]).first)
        #expect(try stopLine.decode(String.self, "line")
                == "stopped examine \(director.id) - the applicant asked in writing to stop")
        #expect(try stopLine.decodeIfPresent(String.self, "verdict") == (try stopLine.decode(String.self, "expected")))
        let stageDeadlineClosed = await eventually(timeout: .seconds(60)) {
            try pipeline.count(
                "SELECT count(*) FROM stage_deadlines WHERE dossier_id = $1 AND status = 'closed'", [d]) == 1
        }
        #expect(stageDeadlineClosed, "the coordinator closes the stopped dossier's stage deadline")
        let slip = try await Self.motcua(["slip", try code(d), "--rules", deploy], pipeline: pipeline, database: database)
        #expect(slip.status == 0 && slip.stdout.contains("stopped") && slip.stdout.contains(director.id), "\(slip)")
        let signAfter = try await review(["sign"], d, by: director, wait: false)
        #expect(signAfter.status == 0, "\(signAfter)")
        let signRefused = await eventually(timeout: .seconds(60)) {
            try Self.reasons("signature-rejected", of: d, in: pipeline).contains { $0.contains("stopped") }
        }
        #expect(signRefused)
        #expect(try signedAt(d) == 0)
        let status = try await Self.motcua(["status", try code(d)], pipeline: pipeline, database: database)
        #expect(status.status == 0 && status.stdout.contains("stopped"), "\(status)")

        // The audit replay: every sent draft verifies against a signed approval on the topic by an official with the
        // authority; one marked sent in PostgreSQL behind the system's back (as the schema owner) is `forged`.
        func replay() async throws -> (findings: [[String: Any]], run: CommandRun) {
            let file = registry.directory.appendingPathComponent(TestEnvironment.unique("audit") + ".json")
            let run = try await Self.motcua(
                ["audit", "replay", "--department", Self.department.rawValue, "--format", "json", "--output", file.path,
                 "--rules", deploy],
                pipeline: pipeline, database: database)
            let json = try JSONSerialization.jsonObject(with: try Data(contentsOf: file)) as? [String: Any]
            return (json?["findings"] as? [[String: Any]] ?? [], run)
        }
        let serious: Set<String> = ["forged", "unauthorised", "signature-mismatch"]
        let clean = try await replay()
        #expect(clean.findings.filter { serious.contains($0["kind"] as? String ?? "") }.isEmpty, "\(clean.run) \(clean.findings)")
        try database.connection.execute(
            """
            INSERT INTO drafts (draft_id, dossier_id, step, round, department, kind, reason, written_by, written_at,
                                state, decided_by, decided_at)
            VALUES (gen_random_uuid(), $1, 0, 0, 'industry-trade', 'stop', 'slipped in', $2, now(), 'sent', $3, now())
            """, [b, specialist.id, director.id])
        let tampered = try await replay()
        #expect(tampered.run.status == 1, "\(tampered.run)")
        let forgedDrafts = tampered.findings.filter { $0["kind"] as? String == "forged" && $0["field"] as? String == "draft" }
            .compactMap { $0["dossierId"] as? String }
        #expect(forgedDrafts == [b], "\(tampered.findings)")
    }
}
