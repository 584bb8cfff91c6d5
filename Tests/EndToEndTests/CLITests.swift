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

@Suite("motcua CLI", .serialized)
struct CLITests {
    static let subcommands: [[String]] = [
        ["status"], ["review"], ["review", "list"], ["review", "sign"], ["review", "refuse"], ["review", "supplement"],
        ["delegations"], ["delegations", "list"], ["delegations", "grant"], ["delegations", "revoke"], ["report"],
        ["topics"], ["topics", "create"], ["simulate"], ["simulate", "dossiers"], ["simulate", "officials"], ["submit"], ["migrate"],
        ["supply"],
    ]

    @Test("--help of every subcommand exits 0 with an example")
    func help() async throws {
        for path in Self.subcommands {
            let run = try await CommandRun.run("motcua", path + ["--help"])
            #expect(run.status == 0, "\(path): \(run)")
            #expect(run.stdout.contains("Example"), "\(path) has no example: \(run.stdout)")
        }
    }

    @Test("supply: an unknown dossier or document is refused with what to check")
    func supplyErrors() async throws {
        let unknown = try await CommandRun.motcua("supply", "XX-000000-000000")
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("no dossier with id or code 'XX-000000-000000'"), "\(unknown)")
        let document = try await CommandRun.motcua("supply", "XX-000000-000000", "--documents", "no-such-paper")
        #expect(document.status != 0)
        #expect(document.stderr.contains("unknown document type(s) no-such-paper"), "\(document)")
    }

    @Test("errors name the problem and the fix, and exit non-zero")
    func errors() async throws {
        let noDatabase = try await CommandRun.motcua(
            "status", "XX-000000-000000", environment: ["DATABASE_URL": "", "PGHOST": "", "PGDATABASE": ""])
        #expect(noDatabase.status != 0)
        #expect(noDatabase.stderr.contains("DATABASE_URL is not set"), "\(noDatabase)")
        let unknown = try await CommandRun.motcua("status", "XX-000000-000000")
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("no dossier with id or code 'XX-000000-000000'"), "\(unknown)")
        let badDepartment = try await CommandRun.motcua("review", "list", "--department", "finance")
        #expect(badDepartment.status != 0)
        #expect(badDepartment.stderr.contains("unknown department 'finance'"), "\(badDepartment)")
        let refuseWithoutReason = try await CommandRun.motcua(
            "review", "refuse", "X", "--official", "a", "--department", "labour", "--reason", " ")
        #expect(refuseWithoutReason.status != 0)
        #expect(refuseWithoutReason.stderr.contains("--reason"), "\(refuseWithoutReason)")
        let badDocuments = try await CommandRun.motcua(
            "review", "supplement", "X", "--official", "a", "--department", "labour", "--documents", "no-such-doc",
            "--reason", "r")
        #expect(badDocuments.status != 0)
        #expect(badDocuments.stderr.contains("unknown document type(s) no-such-doc"), "\(badDocuments)")
        let badReport = try await CommandRun.motcua("report", "--from", "2026-12-01", "--to", "2026-11-01")
        #expect(badReport.status != 0)
        #expect(badReport.stderr.contains("before --from"), "\(badReport)")
        let badDelay = try await CommandRun.motcua("simulate", "officials", "--delay", "labour=9-1")
        #expect(badDelay.status != 0)
        #expect(badDelay.stderr.contains("DEPARTMENT=MIN-MAX"), "\(badDelay)")
        // Numbers out of range are named, with what to do (were "SQLSTATE 22003" and "Missing value for '--step'").
        for step in ["99999999999", "-5"] {
            let run = try await CommandRun.motcua(
                "review", "sign", "X", "--official", "a", "--department", "labour", "--step", step)
            #expect(run.status != 0)
            #expect(run.stderr.contains("--step \(step) is not a step of a procedure"), "\(run)")
            #expect(run.stderr.contains("leave --step out"), "\(run)")
            #expect(!run.stderr.contains("SQLSTATE") && !run.stderr.contains("Missing value"), "\(run)")
        }
        let hugeStep = try await CommandRun.motcua(
            "review", "sign", "X", "--official", "a", "--department", "labour", "--step=99999999999999999999")
        #expect(hugeStep.status != 0)
        #expect(hugeStep.stderr.contains("--step"), "\(hugeStep)")
        let negativeCount = try await CommandRun.motcua("simulate", "--count", "-1", "--print")
        #expect(negativeCount.status != 0)
        #expect(negativeCount.stderr.contains("--count must be a positive number of dossiers, got -1"), "\(negativeCount)")
        #expect(!negativeCount.stderr.contains("Missing value"), "\(negativeCount)")
        let badClock = try await CommandRun.motcua("report", environment: ["MOTCUA_CLOCK": "simulated:speed=2"])
        #expect(badClock.status != 0)
        #expect(badClock.stderr.contains("MOTCUA_CLOCK"), "\(badClock)")
    }

    @Test("simulate: procedures of every department, ~93% online, communes of the list, reproducible by seed")
    func simulate() async throws {
        let first = try await CommandRun.motcua("simulate", "--count", "2000", "--seed", "11", "--print")
        #expect(first.status == 0, "\(first)")
        let again = try await CommandRun.motcua("simulate", "--count", "2000", "--seed", "11", "--print")
        func ids(_ text: String) -> [String] {
            text.split(separator: "\n").compactMap { try? Dossier.decode(json: Data($0.utf8)) }.map { "\($0.id) \($0.procedure) \($0.commune)" }
        }
        #expect(ids(first.stdout) == ids(again.stdout), "the same seed must give the same dossiers")
        let bundle = try AuthorityBundle.load(from: TestEnvironment.root.appendingPathComponent("deploy"))
        let lines = first.stdout.split(separator: "\n")
        #expect(lines.count == 2000)
        var online = 0
        var communes = Set<String>()
        var departments: [String: Int] = [:]
        for line in lines {
            let dossier = try Dossier.decode(json: Data(line.utf8))
            if dossier.channel == .online { online += 1 }
            communes.insert(dossier.commune)
            departments[bundle.catalogue.procedure(dossier.procedure)!.department.rawValue, default: 0] += 1
        }
        #expect((0.90...0.96).contains(Double(online) / 2000), "online share \(online)/2000")
        // Only the communes of deploy/catalog/communes.yaml, spread over nearly all 126 of them.
        #expect(communes.allSatisfy(bundle.catalogue.communes.contains), "a commune not in the list")
        #expect(communes.count > 110 && communes.count <= 126, "\(communes.count) communes")
        #expect(Set(departments.keys) == Set(TestTopics.departments.map(\.rawValue)), "\(departments)")
        // In proportion to the procedures each department owns (9 each): none far from a fifth.
        for (department, count) in departments {
            #expect((300...500).contains(count), "\(department): \(count) of 2000")
        }
    }

    @Test("topics create: existing topics are fine; the devbroker cannot create one and says so")
    func topics() async throws {
        let existing = try await CommandRun.motcua(
            "topics", "create", "--file", TestEnvironment.root.appendingPathComponent("deploy/topics.yaml").path)
        #expect(existing.status == 0, "\(existing)")
        #expect(existing.stdout.contains("all 18 topics exist"), "\(existing)")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(TestEnvironment.unique("topics") + ".yaml")
        defer { try? FileManager.default.removeItem(at: file) }
        let topic = TestEnvironment.unique("cli.new").replacingOccurrences(of: "_", with: "-")
        try "topics:\n  - { name: \(topic), partitions: 3, retentionMs: -1, purpose: test }\n"
            .write(to: file, atomically: true, encoding: .utf8)
        let dry = try await CommandRun.motcua("topics", "create", "--file", file.path, "--dry-run")
        #expect(dry.status == 0 && dry.stdout.contains("would create\t\(topic)"), "\(dry)")
        let create = try await CommandRun.motcua(
            "topics", "create", "--file", file.path, "--replication-factor", "1", "--timeout", "3")
        #expect(create.status != 0, "\(create)")
        #expect(create.stderr.contains("devbroker"), "\(create)")
        let missingFile = try await CommandRun.motcua("topics", "create", "--file", "/nonexistent/topics.yaml")
        #expect(missingFile.status != 0 && missingFile.stderr.contains("cannot read"), "\(missingFile)")
    }

    @Test("delegations grant checks the record like the files; granting twice is an error")
    func grant() async throws {
        let db = try TestDatabase("cli")
        defer { db.drop() }
        let directory = FileManager.default.temporaryDirectory
        let good = directory.appendingPathComponent(TestEnvironment.unique("grant") + ".yaml")
        let bad = directory.appendingPathComponent(TestEnvironment.unique("bad") + ".yaml")
        defer {
            try? FileManager.default.removeItem(at: good)
            try? FileManager.default.removeItem(at: bad)
        }
        try """
            # a new delegation to the labour department
            id: uq-ld-test-01
            instrument: { number: "9001/QĐ-UBND", date: 2026-11-20, signer: "Chủ tịch UBND Thành phố" }
            mode: delegation
            delegator: city
            delegatee: labour
            scope:
              procedures: ["1.000105"]
              territory: ["*"]
            validFrom: 2027-07-15
            validTo: 2028-12-31
            """.write(to: good, atomically: true, encoding: .utf8)
        try """
            id: uq-ld-test-02
            instrument: { number: "9002/QĐ-UBND", date: 2026-11-20, signer: "Chủ tịch UBND Thành phố" }
            mode: delegation
            delegator: city
            delegatee: labour
            scope:
              procedures: ["9.999999"]
              territory: ["*"]
            validFrom: 2026-12-01
            """.write(to: bad, atomically: true, encoding: .utf8)
        let rejected = try await CommandRun.motcua("delegations", "grant", bad.path, environment: db.environment)
        #expect(rejected.status != 0, "\(rejected)")
        #expect(rejected.stderr.contains("nothing was recorded"), "\(rejected)")
        #expect(rejected.stderr.contains("\(bad.path):"), "problems point into the file: \(rejected)")
        #expect(rejected.stderr.contains("validTo"), "\(rejected)")
        let unreadable = try await CommandRun.motcua("delegations", "grant", "/nonexistent.yaml", environment: db.environment)
        #expect(unreadable.status != 0 && unreadable.stderr.contains("cannot read '/nonexistent.yaml'"), "\(unreadable)")
        let granted = try await CommandRun.motcua("delegations", "grant", good.path, environment: db.environment)
        #expect(granted.status == 0, "\(granted)")
        #expect(granted.stdout.contains("granted uq-ld-test-01 to labour"), "\(granted)")
        let twice = try await CommandRun.motcua("delegations", "grant", good.path, environment: db.environment)
        #expect(twice.status != 0 && twice.stderr.contains("already on record"), "\(twice)")
        let list = try await CommandRun.motcua("delegations", "list", "--department", "labour", "--json", environment: db.environment)
        #expect(list.status == 0, "\(list)")
        let items = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]] ?? []
        let item = items.first { $0["id"] as? String == "uq-ld-test-01" }
        #expect(item?["status"] as? String == "not-yet-valid", "\(list)")
        #expect((item?["source"] as? String)?.hasPrefix("grant #") == true, "\(list)")
        // The snapshot is stored for replay.
        #expect(try db.connection.query(
            "SELECT 1 FROM delegation_versions v JOIN delegation_changes c USING (version) WHERE c.delegation_id = $1",
            ["uq-ld-test-01"]).count == 1)
    }

    @Test("a revocation escalates later dossiers (reason revoked); earlier ones stay approved; review and status")
    func revocationReviewStatusReport() async throws {
        let db = try TestDatabase("cli")
        defer { db.drop() }
        let pipeline = try Pipeline(databaseURL: db.url, seed: 77)
        let env = pipeline.processEnvironment
        // Reception, the status projection and the timer of the test's own, from the current end of the topics.
        let receptionGroup = pipeline.group("reception")
        let projectionGroup = pipeline.group("projection")
        try pipeline.startAtEnd(group: receptionGroup, topic: pipeline.topics.intake)
        try pipeline.startAtEnd(group: projectionGroup, topic: pipeline.topics.events)
        pipeline.processes["coordinator"] = try ServiceProcess(
            "coordinator",
            ["--rules", TestEnvironment.root.appendingPathComponent("deploy").path, "--reception-group", receptionGroup,
             "--projection-group", projectionGroup, "--log-level", "warning"],
            environment: pipeline.processEnvironment.merging(env) { $1 })
        try pipeline.startWorker("culture")

        func decision(_ id: String) throws -> (outcome: String, reason: String?, delegation: String?, review: String)? {
            try db.connection.query(
                "SELECT outcome, escalation_reason, delegation_id, review FROM decisions WHERE dossier_id = $1 AND step = 0",
                [id]
            ).first.map {
                (try $0.decode(String.self, "outcome"), try $0.decodeIfPresent(String.self, "escalation_reason"),
                 try $0.decodeIfPresent(String.self, "delegation_id"), try $0.decode(String.self, "review"))
            }
        }
        // Karaoke licence (1.001064), delegated by uq-vh-2024-01; inside every rule's limits.
        var early = pipeline.generator.next(procedure: "1.001064", submittedAt: Date(), incompleteShare: 0, outsideShare: 0)
        early.applicant = Dossier.Applicant(kind: .enterprise, id: "0100000001", name: "Test Enterprise")
        try await pipeline.submit([early])
        let decided = await eventually(timeout: .seconds(90)) { try decision(early.id) != nil }
        #expect(decided, "\(pipeline.logs())")
        let first = try #require(try decision(early.id))
        #expect(first.outcome == "approve" && first.delegation == "uq-vh-2024-01", "\(first)")
        #expect(first.review == "official", "karaoke licences are signed by an official: \(first)")

        // Review before the revocation (after it, the worker refuses signatures relying on the revoked record).
        // The early dossier awaits a signature (official review) unless the rules auto-decided it.
        if first.review == "official" {
            let earlyCode = try db.connection.query("SELECT code FROM dossiers WHERE id = $1", [early.id])[0]
                .decode(String.self, "code")
            let listed = try await CommandRun.motcua("review", "list", "--department", "culture", "--json", environment: env)
            #expect(listed.stdout.contains(early.id), "\(listed)")
            // An official of another department: refused up front, and by the worker when sent anyway.
            let foreign = try await CommandRun.motcua(
                "review", "sign", earlyCode, "--official", "ld-0001", "--department", "labour", environment: env)
            #expect(foreign.status != 0 && foreign.stderr.contains("held by culture, not labour"), "\(foreign)")
            let command = SignCommand(
                commandId: UUID(), dossierId: early.id, step: 0, official: Official(id: "ld-0001", department: "labour"),
                decision: .approve, reason: nil, at: Date())
            try pipeline.producer.produce(KafkaOutgoingMessage(
                topic: pipeline.topics.department("culture"), key: early.id,
                value: Array(try MessageCoding.encoder().encode(command)), headers: [KafkaHeader("ce_type", MessageType.sign)]))
            try pipeline.producer.flush()
            let rejectedId = StableID.make("command-event", "signature-rejected", command.commandId.uuidString)
            let rejected = await eventually(timeout: .seconds(60)) {
                try db.connection.query("SELECT 1 FROM dossier_timeline WHERE event_id = $1", [rejectedId]).count == 1
            }
            #expect(rejected, "\(pipeline.logs())")
            let signed = try await CommandRun.motcua(
                "review", "sign", earlyCode, "--official", "vh-0001", "--department", "culture", "--wait", environment: env)
            #expect(signed.status == 0 && signed.stdout.contains("signed: approve"), "\(signed)")
            let twice = try await CommandRun.motcua(
                "review", "sign", earlyCode, "--official", "vh-0001", "--department", "culture", environment: env)
            #expect(twice.status != 0 && twice.stderr.contains("already signed"), "\(twice)")
        }
        // Revoke: once, then twice (error), and an unknown id (error).
        let revoke = try await CommandRun.motcua(
            "delegations", "revoke", "uq-vh-2024-01", "--instrument", "No. 9999/QĐ-UBND", environment: env)
        #expect(revoke.status == 0, "\(revoke)")
        #expect(revoke.stdout.contains("revoked uq-vh-2024-01"), "\(revoke)")
        let again = try await CommandRun.motcua(
            "delegations", "revoke", "uq-vh-2024-01", "--instrument", "No. 10000/QĐ-UBND", environment: env)
        #expect(again.status != 0 && again.stderr.contains("already revoked"), "\(again)")
        let unknown = try await CommandRun.motcua(
            "delegations", "revoke", "uq-nope-01", "--instrument", "No. 1", environment: env)
        #expect(unknown.status != 0 && unknown.stderr.contains("no delegation 'uq-nope-01'"), "\(unknown)")

        var late = pipeline.generator.next(procedure: "1.001064", submittedAt: Date(), incompleteShare: 0, outsideShare: 0)
        late.applicant = Dossier.Applicant(kind: .enterprise, id: "0100000002", name: "Test Enterprise Two")
        try await pipeline.submit([late])
        let escalated = await eventually(timeout: .seconds(60)) { try decision(late.id) != nil }
        #expect(escalated, "\(pipeline.logs())")
        let second = try #require(try decision(late.id))
        #expect(second.outcome == "escalate" && second.reason == "revoked", "\(second)")
        #expect(try decision(early.id)?.outcome == "approve")

        // The list shows the revocation.
        let list = try await CommandRun.motcua("delegations", "list", "--department", "culture", "--json", environment: env)
        let items = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]] ?? []
        #expect(items.first { $0["id"] as? String == "uq-vh-2024-01" }?["status"] as? String == "revoked", "\(list)")

        // Status by code: the projection has the escalation; no personal data.
        let projected = await eventually(timeout: .seconds(30)) {
            try db.connection.query("SELECT 1 FROM dossier_status WHERE dossier_id = $1 AND status = 'escalated-authority'",
                                    [late.id]).count == 1
        }
        #expect(projected, "\(pipeline.logs())")
        let code = try db.connection.query("SELECT code FROM dossiers WHERE id = $1", [late.id])[0].decode(String.self, "code")
        let status = try await CommandRun.motcua("status", code, environment: env)
        #expect(status.status == 0, "\(status)")
        #expect(status.stdout.contains(code) && status.stdout.contains("escalated-authority"), "\(status)")
        #expect(!status.stdout.contains("Test Enterprise") && !status.stdout.contains("0100000002"), "personal data")
        // 1.001064 (karaoke licence) is not verified against its source: the terminal says so beside the procedure.
        #expect(status.stdout.contains("procedure 1.001064 (time limit unverified: "), "\(status)")
        let statusJSON = try await CommandRun.motcua("status", late.id, "--json", environment: env)
        let object = try JSONSerialization.jsonObject(with: Data(statusJSON.stdout.utf8)) as? [String: Any]
        #expect(object?["code"] as? String == code, "\(statusJSON)")
        #expect((object?["timeLimitUnverified"] as? String)?.isEmpty == false, "\(statusJSON)")
        #expect(!statusJSON.stdout.contains("Test Enterprise"))

        // The escalated dossier does not await a signature.
        let notAwaiting = try await CommandRun.motcua(
            "review", "sign", code, "--official", "vh-0001", "--department", "culture", environment: env)
        #expect(notAwaiting.status != 0, "\(notAwaiting)")

        // The report: totals add up.
        let decidedProjected = await eventually(timeout: .seconds(30)) {
            try db.connection.query("SELECT count(*) FROM dossier_status WHERE outcome IS NOT NULL OR status = 'escalated-authority'")[0]
                .decode(Int.self, at: 0) >= (first.review == "official" ? 2 : 2)
        }
        #expect(decidedProjected)
        // One open step past its due date, as the coordinator marks it: the on-time rate counts it as late (as the
        // status page and Decision 766's progress rule do); "closed on time" does not.
        let markedOverdue = try db.connection.execute(
            """
            UPDATE deadlines SET fired = fired | 2
            WHERE ctid = (SELECT x.ctid FROM deadlines x JOIN dossier_status s ON s.dossier_id = x.dossier_id
                          WHERE x.status <> 'closed' AND s.outcome IS NULL AND s.status <> 'withdrawn' LIMIT 1)
            """, [])
        #expect(markedOverdue == 1)
        let report = try await CommandRun.motcua("report", "--json", environment: env)
        #expect(report.status == 0, "\(report)")
        let figures = try #require(try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any])
        let total = try #require(figures["total"] as? [String: Any])
        func n(_ object: [String: Any], _ key: String) -> Int { object[key] as? Int ?? -1 }
        #expect(n(total, "received") >= 2, "\(report.stdout)")
        #expect(n(total, "received") == n(total, "decidedOnTime") + n(total, "decidedLate") + n(total, "openOnTime")
                + n(total, "openOverdue") + n(total, "withdrawn"))
        #expect(n(total, "received") == n(total, "online") + n(total, "desk") + n(total, "post"))
        #expect(n(total, "escalationsAuthority") >= 1, "\(report.stdout)")
        #expect(n(total, "openOverdue") >= 1, "\(report.stdout)")
        let decidedCount = Double(n(total, "decidedOnTime") + n(total, "decidedLate"))
        let onTimeRate = total["onTimeRate"] as? Double
        let closedOnTimeRate = total["closedOnTimeRate"] as? Double
        #expect(onTimeRate == Double(n(total, "decidedOnTime")) / (decidedCount + Double(n(total, "openOverdue"))),
                "\(report.stdout)")
        #expect(closedOnTimeRate == Double(n(total, "decidedOnTime")) / decidedCount, "\(report.stdout)")
        let departments = try #require(figures["departments"] as? [[String: Any]])
        #expect(departments.reduce(0) { $0 + n($1, "received") } == n(total, "received"))
        let text = try await CommandRun.motcua("report", environment: env)
        #expect(text.status == 0 && text.stdout.contains("culture"), "\(text)")
    }
}
