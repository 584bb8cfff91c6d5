import Audit
import Authority
import EffectivelyOnce
import Foundation
import Kafka
import Messages
import Pages
import Postgres
import ServiceCommands
import Services
import Simulation
import Store
import TestSupport
import Testing

/// Audit replay on a real run: reception and the industrial-zones worker decide dossiers into a database of the
/// test's own; the replay reads the topic range of exactly those decisions.
@Suite("Audit replay", .serialized)
struct AuditReplayTests {
    static let department: DepartmentID = "industrial-zones"

    /// Findings of one replay, parsed from its JSON report.
    struct Replay {
        var run: CommandRun
        var differences: Int
        var compared: Int
        var findings: [[String: Any]]

        func findings(_ kind: String) -> [[String: Any]] { findings.filter { $0["kind"] as? String == kind } }
        func dossiers(_ kind: String) -> Set<String> { Set(findings(kind).compactMap { $0["dossierId"] as? String }) }
    }

    static func replay(
        _ extra: [String], database: TestDatabase, topics: Topics, offsets: [String],
        environment: [String: String]? = nil
    ) async throws -> Replay {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(TestEnvironment.unique("audit") + ".json")
        defer { try? FileManager.default.removeItem(at: file) }
        let arguments = ["audit", "replay", "--department", department.rawValue, "--format", "json", "--output", file.path,
                         "--rules", TestEnvironment.root.appendingPathComponent("deploy").path]
            + offsets.flatMap { ["--offsets", $0] } + extra
        let run = try await CommandRun.run("motcua", arguments, environment: (environment ?? database.environment).merging(["MOTCUA_TOPIC_PREFIX": topics.prefix]) { $1 })
        let data = try Data(contentsOf: file)
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "\(run)")
        return Replay(
            run: run, differences: json["differences"] as? Int ?? -1, compared: json["compared"] as? Int ?? -1,
            findings: json["findings"] as? [[String: Any]] ?? [])
    }

    @Test("an untouched run re-derives; what-if, a revoked delegation and altered rows are each reported exactly; the HTML report renders")
    func replayARealRun() async throws {
        let database = try TestDatabase("audit")
        defer { database.drop() }
        let pipeline = try Pipeline(databaseURL: database.url, seed: 31)
        try pipeline.startReception()
        try pipeline.startWorker(Self.department)
        let topic = pipeline.topics.department(Self.department)
        let group = pipeline.group(Self.department.rawValue)
        let starts = Dictionary(uniqueKeysWithValues: try database.connection.query(
            "SELECT partition, next_offset FROM consumer_offsets WHERE consumer_group = $1 AND topic = $2", [group, topic]
        ).map { (try $0.decode(Int.self, "partition"), try $0.decode(Int64.self, "next_offset")) })
        #expect(!starts.isEmpty)

        let bundle = pipeline.bundle
        let procedures = bundle.catalogue.procedures(ownedBy: Self.department).filter {
            $0.steps.first?.department ?? $0.department == Self.department
        }
        var dossiers: [Dossier] = []
        for index in 0..<240 {
            dossiers.append(pipeline.generator.next(
                procedure: procedures[index % procedures.count].code, submittedAt: Date(), outsideShare: 0.2))
        }
        // Every reception receives these after this instant: the business-time split below relies on it. (Other
        // tests' receptions, on the shared intake topic, route the same dossiers too, with their own receipts.)
        let submittedAt = Date()
        try await pipeline.submit(dossiers)
        let ids = dossiers.map(\.id)
        let settled = await eventually(timeout: .seconds(120)) {
            // One statement, one snapshot: counted one by one, the reception could commit between the counts and
            // "none received, none decided" would pass for settled.
            let row = try pipeline.database.query(
                """
                SELECT (SELECT count(*) FROM dossiers WHERE id = ANY($1::text[])) AS recorded,
                       (SELECT count(*) FROM dossiers WHERE id = ANY($1::text[]) AND status = 'received') AS received,
                       (SELECT count(*) FROM decisions WHERE dossier_id = ANY($1::text[])) AS decided
                """, [ids])[0]
            let received = try row.decode(Int.self, "received")
            return try row.decode(Int.self, "recorded") == ids.count && received > 0
                && (try row.decode(Int.self, "decided")) == received
        }
        #expect(settled, "\(pipeline.logs())")
        // The range: from where the worker started to just past this test's last decided step, per partition.
        let ends = try database.connection.query(
            """
            SELECT source_partition, max(source_offset) + 1 AS end FROM decisions
            WHERE dossier_id = ANY($1::text[]) AND source_topic = $2 GROUP BY source_partition
            """, [ids, topic]
        ).map { (try $0.decode(Int.self, "source_partition"), try $0.decode(Int64.self, "end")) }
        let offsets = ends.map { "\($0.0)=\(starts[$0.0] ?? 0)-\($0.1)" }
        let mine = Set(try database.connection.query(
            "SELECT dossier_id FROM decisions WHERE dossier_id = ANY($1::text[]) AND source_topic = $2", [ids, topic]
        ).map { try $0.decode(String.self, "dossier_id") })
        #expect(mine.count > 150)

        // 1. Untouched: nothing differs, every decision in range compared.
        let clean = try await Self.replay([], database: database, topics: pipeline.topics, offsets: offsets)
        #expect(clean.run.status == 0, "\(clean.run)")
        #expect(clean.differences == 0, "\(clean.findings.prefix(5))")
        #expect(clean.compared >= mine.count)

        // 1a. Business time splits the same range by the steps' receipt instant: before this test submitted its
        // dossiers, and from then on. The two add up to the whole; every decision of this test is in the second.
        let split = ISO8601Instant.format(submittedAt.addingTimeInterval(-0.001))
        let before = try await Self.replay(["--to", split], database: database, topics: pipeline.topics, offsets: offsets)
        let after = try await Self.replay(["--from", split], database: database, topics: pipeline.topics, offsets: offsets)
        #expect(before.run.status == 0, "\(before.run)")
        #expect(after.run.status == 0, "\(after.run)")
        #expect(before.compared + after.compared == clean.compared)
        #expect(after.compared >= mine.count)

        // 1b. The same replay as a login that holds only the read-only auditor role gives the same answer.
        let auditor = TestEnvironment.unique("auditor_login")
        try database.connection.execute("CREATE ROLE \(auditor) LOGIN IN ROLE motcua_auditor", [])
        defer { _ = try? database.connection.execute("DROP ROLE IF EXISTS \(auditor)", []) }
        let auditorURL = database.url.replacingOccurrences(of: "://postgres@", with: "://\(auditor)@")
        #expect(auditorURL != database.url)
        let asAuditor = try await Self.replay(
            [], database: database, topics: pipeline.topics, offsets: offsets, environment: ["DATABASE_URL": auditorURL])
        #expect(asAuditor.run.status == 0, "\(asAuditor.run)")
        #expect(asAuditor.compared == clean.compared)

        // 2. What-if: the health-certificate age limit lowered from 12 to 6 months. The dossiers whose outcome
        // changes, evaluated here directly with the library, are exactly those the replay lists.
        let original = try String(
            contentsOf: TestEnvironment.root.appendingPathComponent("deploy/rules/\(Self.department).yaml"), encoding: .utf8)
        let lowered = original.replacingOccurrences(
            of: "field: facts.healthCertificateAgeMonths, gt: 12", with: "field: facts.healthCertificateAgeMonths, gt: 6")
        #expect(lowered != original)
        let whatIf = FileManager.default.temporaryDirectory.appendingPathComponent(TestEnvironment.unique("what-if"))
        try FileManager.default.createDirectory(at: whatIf, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: whatIf) }
        try lowered.write(to: whatIf.appendingPathComponent("\(Self.department).yaml"), atomically: true, encoding: .utf8)
        let oldRules = try #require(bundle.ruleSets[Self.department])
        let newRules = try RuleSet(yaml: lowered)
        let decidedAt = Dictionary(uniqueKeysWithValues: try database.connection.query(
            "SELECT dossier_id, decided_at FROM decisions WHERE dossier_id = ANY($1::text[]) AND source_topic = $2",
            [ids, topic]
        ).map { (try $0.decode(String.self, "dossier_id"), try $0.decode(Date.self, "decided_at")) })
        let checks = DepartmentChecks.builtIn(for: Self.department)
        var changes = Set<String>()
        for dossier in dossiers {
            guard let at = decidedAt[dossier.id] else { continue }
            let before = Decider.decide(dossier, department: Self.department, bundle: bundle, ruleSet: oldRules, checks: checks, at: at)
            let after = Decider.decide(dossier, department: Self.department, bundle: bundle, ruleSet: newRules, checks: checks, at: at)
            if before.outcome != after.outcome || before.evaluation.ruleId != after.evaluation.ruleId { changes.insert(dossier.id) }
        }
        #expect(!changes.isEmpty)
        let whatIfRun = try await Self.replay(["--what-if", whatIf.path], database: database, topics: pipeline.topics, offsets: offsets)
        #expect(whatIfRun.run.status == 1, "\(whatIfRun.run)")
        #expect(whatIfRun.dossiers("would-change").intersection(mine) == changes)
        #expect(whatIfRun.findings("differs").isEmpty)

        // 3. The HTML report opens in headless Chromium and shows the differences.
        let html = FileManager.default.temporaryDirectory.appendingPathComponent(TestEnvironment.unique("audit") + ".html")
        defer { try? FileManager.default.removeItem(at: html) }
        let htmlRun = try await CommandRun.run(
            "motcua",
            ["audit", "replay", "--department", Self.department.rawValue, "--what-if", whatIf.path, "--format", "html",
             "--output", html.path, "--rules", TestEnvironment.root.appendingPathComponent("deploy").path]
                + offsets.flatMap { ["--offsets", $0] },
            environment: pipeline.processEnvironment)
        #expect(htmlRun.status == 1, "\(htmlRun)")
        let dom = try await Chromium.dumpDOM(html.absoluteString)
        #expect(dom.contains("id=\"count-would-change\">\(whatIfRun.findings("would-change").count)<"))
        for id in changes { #expect(dom.contains(id)) }
        // Findings name dossiers by code; summaries per finding and per department come first; the partitions fold.
        let codes = try database.connection.query(
            "SELECT code FROM dossiers WHERE id = ANY($1::text[])", [Array(changes)]).map { try $0.decode(String.self, "code") }
        #expect(!codes.isEmpty)
        for code in codes { #expect(dom.contains(">\(code)</code>"), "\(code)") }
        #expect(dom.contains("<details id=\"partitions\">"))
        let summaryAt = try #require(dom.range(of: "id=\"summary\""))
        let departmentsAt = try #require(dom.range(of: "id=\"by-department\""))
        let findingsAt = try #require(dom.range(of: "id=\"findings\""))
        #expect(summaryAt.lowerBound < departmentsAt.lowerBound && departmentsAt.lowerBound < findingsAt.lowerBound)
        let png = FileManager.default.temporaryDirectory.appendingPathComponent(TestEnvironment.unique("audit") + ".png")
        defer { try? FileManager.default.removeItem(at: png) }
        let shot = try await Chromium.screenshot(html.absoluteString, to: png, width: 1280, height: 900)
        #expect(shot.width == 1280)
        #expect(try Data(contentsOf: png).count > 10_000)

        // 4. A delegation revoked (backdated) before some decisions: exactly those are reported.
        let used = try #require(try database.connection.query(
            """
            SELECT delegation_id, count(*) AS n FROM decisions
            WHERE dossier_id = ANY($1::text[]) AND delegation_id IS NOT NULL AND outcome <> 'escalate'
            GROUP BY delegation_id ORDER BY n DESC LIMIT 1
            """, [ids]
        ).first)
        let delegation = try used.decode(String.self, "delegation_id")
        let instants = try database.connection.query(
            """
            SELECT DISTINCT decided_at FROM decisions
            WHERE dossier_id = ANY($1::text[]) AND delegation_id = $2 AND outcome <> 'escalate' ORDER BY decided_at
            """, [ids, delegation]
        ).map { try $0.decode(Date.self, "decided_at") }
        // Just before the median decision instant, in the millisecond precision of the instants the CLI takes:
        // the expectation below uses the very instant the revocation records.
        let at = ISO8601Instant.format(instants[instants.count / 2].addingTimeInterval(-0.002))
        let revokedAt = try #require(ISO8601Instant.parse(at))
        // Dated before now: a dry run first, which names how many recorded decisions it would make invalid and
        // records nothing; then confirmed.
        let invalid = try database.connection.query(
            "SELECT count(*) FROM decisions WHERE delegation_id = $1 AND outcome <> 'escalate' AND decided_at >= $2",
            [delegation, revokedAt])[0].decode(Int.self, at: 0)
        let changeCount = "SELECT count(*) FROM delegation_changes"
        let changesBefore = try database.connection.query(changeCount, [])[0].decode(Int.self, at: 0)
        let dryRun = try await CommandRun.motcua(
            "delegations", "revoke", delegation, "--instrument", "No. 999/QĐ-UBND", "--at", at,
            "--rules", TestEnvironment.root.appendingPathComponent("deploy").path, environment: database.environment)
        #expect(dryRun.status == 1, "\(dryRun)")
        #expect(dryRun.stdout.contains("dry run, nothing recorded"), "\(dryRun)")
        #expect(dryRun.stdout.contains("would make \(invalid) recorded decision(s)"), "\(dryRun)")
        #expect(try database.connection.query(changeCount, [])[0].decode(Int.self, at: 0) == changesBefore)
        let revoke = try await CommandRun.motcua(
            "delegations", "revoke", delegation, "--instrument", "No. 999/QĐ-UBND", "--at", at, "--confirm",
            "--rules", TestEnvironment.root.appendingPathComponent("deploy").path, environment: database.environment)
        #expect(revoke.status == 0, "\(revoke)")
        let afterRevocation = Set(try database.connection.query(
            """
            SELECT dossier_id FROM decisions WHERE dossier_id = ANY($1::text[]) AND delegation_id = $2
                AND outcome <> 'escalate' AND decided_at >= $3
            """, [ids, delegation, revokedAt]
        ).map { try $0.decode(String.self, "dossier_id") })
        #expect(!afterRevocation.isEmpty)
        let revoked = try await Self.replay([], database: database, topics: pipeline.topics, offsets: offsets)
        #expect(revoked.run.status == 1)
        #expect(revoked.dossiers("delegation-not-valid").intersection(mine) == afterRevocation)
        #expect(revoked.findings("differs").isEmpty, "\(revoked.findings("differs").prefix(3))")

        // 5. Rows altered in PostgreSQL: an outcome, a rule id, a deletion — each named with its field.
        let victims = Array(mine.subtracting(afterRevocation).sorted().prefix(3))
        try #require(victims.count == 3)
        try database.connection.execute(
            "UPDATE decisions SET outcome = CASE WHEN outcome = 'refuse' THEN 'approve' ELSE 'refuse' END WHERE dossier_id = $1",
            [victims[0]])
        try database.connection.execute("UPDATE decisions SET rule_id = 'kcn-tampered' WHERE dossier_id = $1", [victims[1]])
        try database.connection.execute("DELETE FROM decisions WHERE dossier_id = $1", [victims[2]])
        let altered = try await Self.replay([], database: database, topics: pipeline.topics, offsets: offsets)
        #expect(altered.run.status == 1)
        let differs = altered.findings("differs").map { "\($0["dossierId"] as? String ?? "")/\($0["field"] as? String ?? "")" }
        #expect(Set(differs) == ["\(victims[0])/outcome", "\(victims[1])/rule"])
        #expect(altered.dossiers("missing-decision") == [victims[2]])
        #expect(altered.findings("missing-decision").first?["offset"] is Int)
        #expect(altered.findings("decision-without-message").isEmpty)
        #expect(altered.findings("duplicate").isEmpty)

        // 6. Supplements: an applicant's supplement on the department topic (a document and a fact: a health
        // certificate now 20 months old) makes the worker decide the step again as round 1, citing the supplement.
        // The replay rebuilds each dossier as the supplement left it and re-derives those decisions too: exactly one
        // more comparison each, no new difference.
        let asked = Array(try database.connection.query(
            """
            SELECT dossier_id, step FROM decisions
            WHERE dossier_id = ANY($1::text[]) AND round = 0 AND outcome = 'approve'
              AND procedure IN ('2.000192', '2.001955') ORDER BY dossier_id
            """, [Array(mine.subtracting(victims))]
        ).map { (try $0.decode(String.self, "dossier_id"), try $0.decode(Int.self, "step")) }.prefix(5))
        try #require(asked.count == 5)
        // A supplement answers an open request: an official's, recorded (work permits take a health certificate
        // and declare its age as a fact).
        for (id, step) in asked {
            try database.connection.execute(
                """
                INSERT INTO supplement_requests (dossier_id, step, round, department, documents, official, requested_at)
                VALUES ($1, $2, 0, $3, '{health-certificate}', 'official-kcn-1', now())
                """, [id, step, Self.department])
        }
        for (id, step) in asked {
            let supplement = ApplicantSupplement(
                commandId: UUID(), dossierId: id, step: step, documents: ["health-certificate"],
                facts: ["healthCertificateAgeMonths": .integer(20)], at: Date())
            try pipeline.producer.produce(KafkaOutgoingMessage(
                topic: topic, key: id, value: Array(try MessageCoding.encoder().encode(supplement)),
                headers: [KafkaHeader("ce_type", MessageType.supplement)]))
        }
        try pipeline.producer.flush(timeout: .seconds(30))
        let resumed = await eventually(timeout: .seconds(60)) {
            try pipeline.count(
                "SELECT count(*) FROM decisions WHERE dossier_id = ANY($1::text[]) AND round = 1", [asked.map(\.0)]
            ) == asked.count
        }
        #expect(resumed, "\(pipeline.logs())")
        // The first range, extended to the supplements' decisions. (Not recomputed from the decisions alone: the
        // step whose decision was deleted above may be the last of its partition, and must stay in the range.)
        var widenedEnds = Dictionary(uniqueKeysWithValues: ends)
        for row in try database.connection.query(
            """
            SELECT source_partition, max(source_offset) + 1 AS end FROM decisions
            WHERE dossier_id = ANY($1::text[]) AND source_topic = $2 GROUP BY source_partition
            """, [ids, topic])
        {
            let partition = try row.decode(Int.self, "source_partition")
            widenedEnds[partition] = max(widenedEnds[partition] ?? 0, try row.decode(Int64.self, "end"))
        }
        let widened = widenedEnds.map { "\($0.key)=\(starts[$0.key] ?? 0)-\($0.value)" }
        let supplemented = try await Self.replay([], database: database, topics: pipeline.topics, offsets: widened)
        #expect(supplemented.compared == altered.compared + asked.count, "\(supplemented.run)")
        #expect(Set(supplemented.findings("differs").compactMap { $0["dossierId"] as? String })
            == ["\(victims[0])", "\(victims[1])"])
        #expect(supplemented.dossiers("missing-decision") == [victims[2]])

        // 7. A second decision citing a message another already cites (here: a copy of one as round 9): reported
        // as a duplicate, and as a decision whose message is another dossier step's.
        let copied = try #require(mine.subtracting(victims).subtracting(asked.map(\.0)).subtracting(afterRevocation).sorted().first)
        try database.connection.execute(
            """
            INSERT INTO decisions (dossier_id, step, round, department, procedure, outcome, review, rule_id, rule_version,
                delegation_id, delegation_version, escalation_reason, forward_to, decided_at, source_topic,
                source_partition, source_offset, explanation_id)
            SELECT dossier_id, step, 9, department, procedure, outcome, review, rule_id, rule_version, delegation_id,
                delegation_version, escalation_reason, forward_to, decided_at, source_topic, source_partition,
                source_offset, explanation_id
            FROM decisions WHERE dossier_id = $1 AND round = 0
            """, [copied])
        let doubled = try await Self.replay([], database: database, topics: pipeline.topics, offsets: widened)
        #expect(doubled.run.status == 1)
        #expect(doubled.dossiers("duplicate") == [copied])
        #expect(doubled.findings("duplicate").first?["round"] as? Int == 9)
        #expect(doubled.dossiers("decision-without-message") == [copied])
        #expect(doubled.findings("decision-without-message").first?["round"] as? Int == 9)
        #expect(doubled.compared == supplemented.compared)
    }

    @Test("bad arguments exit 2 with what is wrong")
    func badArguments() async throws {
        let noDepartment = try await CommandRun.motcua("audit", "replay", "--offsets", "0=0-10")
        #expect(noDepartment.status == 2)
        #expect(noDepartment.stderr.contains("--offsets needs exactly one --department"), "\(noDepartment)")
        let badRange = try await CommandRun.motcua("audit", "replay", "--department", "labour", "--offsets", "0=10-5")
        #expect(badRange.status == 2)
        #expect(badRange.stderr.contains("PARTITION=START-END"), "\(badRange)")
        let unknown = try await CommandRun.motcua("audit", "replay", "--department", "finance")
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("is not a department"), "\(unknown)")
        let whatIf = try await CommandRun.motcua("audit", "replay", "--department", "labour", "--what-if", "/nonexistent")
        #expect(whatIf.status == 2)
        #expect(whatIf.stderr.contains("is not a directory of rule files"), "\(whatIf)")
    }
}
