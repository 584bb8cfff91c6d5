import Authority
import Credentials
import Foundation
import Kafka
import Messages
import Postgres
import Store
import TestSupport
import Testing

/// Issue 18: an apology slip is a signed command the department's worker consumes (`motcua.official.apology` on
/// `dossiers.<department>`), checks at its batch instant and records; the coordinator moves the deadline when it reads
/// the worker's `apology-issued`. Slips produced the way kcat would — unsigned, a specialist's, another department's
/// director's, one whose new date was changed after signing, one replayed — are refused with their reason as an
/// event and move nothing; `motcua apology --key --wait` goes the same way; the audit replay names an apology written
/// straight into PostgreSQL (`forged`, also one a department's role backdated to before the registry) and one altered
/// there (`signature-mismatch`).
@Suite("Apology slips through the department's worker", .serialized)
struct ApologyCommandTests: SignedCommandSuite {
    typealias Official = RegisteredOfficial
    static let department: DepartmentID = "industry-trade"

    static func due(_ dossier: String, step: Int, in pipeline: Pipeline) throws -> String? {
        try pipeline.database.query(
            "SELECT due_date::text AS due FROM deadlines WHERE dossier_id = $1 AND step = $2", [dossier, step]
        ).first?.decode(String.self, "due")
    }

    @Test("unsigned, a specialist's, another department's director's, a tampered date and a replayed slip are refused with their reason as events and move nothing; a head of division's moves the deadline once, also through `motcua apology --key --wait`; a copy of the worker's event under another id moves nothing again; the audit names an apology forged into PostgreSQL (also backdated by the department's role) and one altered there")
    func apologiesEndToEnd() async throws {
        let database = try TestDatabase("apologies")
        defer { database.drop() }
        let pipeline = try Pipeline(databaseURL: database.url, seed: 28)
        let deploy = TestEnvironment.root.appendingPathComponent("deploy").path
        let registry = try await DevRegistry.register(
            department: Self.department.rawValue, rules: deploy,
            environment: pipeline.processEnvironment.merging(database.environment) { $1 })
        defer { registry.remove() }
        func official(_ id: String) throws -> Official { try registry.official(id) }
        let specialist = try official("\(Self.department)-specialist")
        let head = try official("\(Self.department)-head")
        // Labour's director, registered against the same CA: a director, but of another department.
        let ca = try registry.certificateAuthority()
        let (labourKey, labourCertificate) = try ca.issue(
            commonName: "Labour director", kind: .p256, notBefore: Date().addingTimeInterval(-86_400),
            notAfter: Date().addingTimeInterval(86_400))
        let certificateFile = registry.directory.appendingPathComponent("labour-director.cert.pem")
        try labourCertificate.pem.write(to: certificateFile, atomically: true, encoding: .utf8)
        let add = try await Self.motcua(
            ["officials", "add", "--certificate", certificateFile.path, "--id", "labour-director", "--name", "Labour",
             "--department", "labour", "--role", "director", "--trust", registry.directory.path],
            pipeline: pipeline, database: database)
        #expect(add.status == 0, "\(add)")
        let labourDirector = Official(id: "labour-director", key: labourKey, certificate: labourCertificate, keyFile: "")

        // Reception, the status projection (the deadlines) and the worker, from the topics' current end.
        try pipeline.startCoordinator(rules: deploy)
        try pipeline.startWorker(Self.department)
        let dossiers = try await pipeline.submitForOfficials(7)
        let ids = dossiers.map(\.id)
        let ready = await eventually(timeout: .seconds(120)) {
            try pipeline.count(
                "SELECT count(DISTINCT dossier_id) FROM deadlines WHERE dossier_id = ANY($1::text[]) AND step = 0",
                [ids]) == ids.count
        }
        #expect(ready, "\(pipeline.logs())")
        var before: [String: String] = [:]
        for id in ids { before[id] = try Self.due(id, step: 0, in: pipeline) }
        #expect(before.count == ids.count)
        func later(_ id: String, by days: Int = 3) throws -> String {
            try #require(LocalDate(before[id] ?? "")).adding(days: days).description
        }

        // Slips as kcat would produce them: JSON bytes and a ce_type header on the department topic.
        func slip(_ dossier: String, as official: String, newDate: String) throws -> [UInt8] {
            Array(try MessageCoding.encoder().encode(ApologyRequest(
                commandId: UUID(), dossierId: dossier, step: 0,
                official: Messages.Official(id: official, department: Self.department), reason: "a second site visit",
                newDate: newDate, at: Date())))
        }
        func signed(_ bytes: [UInt8], by official: Official) throws -> [UInt8] {
            try CommandSignature.sign(
                bytes, type: MessageType.apology, topic: SignedCommands.topic(department: Self.department),
                principal: official.id, certificate: official.certificate.sha256, key: official.key)
        }
        let tampered = String(decoding: try signed(slip(ids[3], as: head.id, newDate: later(ids[3])), by: head), as: UTF8.self)
            .replacingOccurrences(of: "\"\(try later(ids[3]))\"", with: "\"\(try later(ids[3], by: 30))\"")
        let valid = try signed(slip(ids[4], as: head.id, newDate: later(ids[4])), by: head)
        let attacks: [(dossier: String, value: [UInt8], event: String, code: String)] = [
            (ids[0], try slip(ids[0], as: head.id, newDate: later(ids[0])), "command-rejected", "unsigned"),
            (ids[1], try signed(slip(ids[1], as: specialist.id, newDate: later(ids[1])), by: specialist),
             "command-rejected", "role-not-allowed"),
            (ids[2], try signed(slip(ids[2], as: labourDirector.id, newDate: later(ids[2])), by: labourDirector),
             "command-rejected", "wrong-department"),
            (ids[3], Array(tampered.utf8), "command-rejected", "bad-signature"),
            // Content refused at the worker's batch instant: a date not after the current one.
            (ids[6], try signed(slip(ids[6], as: head.id, newDate: before[ids[6]] ?? ""), by: head), "apology-rejected",
             "not-later"),
        ]
        func produce(_ dossier: String, _ value: [UInt8]) async throws {
            try await pipeline.producer.send(KafkaOutgoingMessage(
                topic: pipeline.topics.department(Self.department), key: dossier, value: value,
                headers: [KafkaHeader("ce_type", MessageType.apology)]))
        }
        for attack in attacks { try await produce(attack.dossier, attack.value) }
        // The valid slip, then the very same bytes replayed.
        try await produce(ids[4], valid)
        let issued = await eventually(timeout: .seconds(120)) {
            try Self.due(ids[4], step: 0, in: pipeline) == later(ids[4])
        }
        #expect(issued, "\(pipeline.logs())")
        try await produce(ids[4], valid)
        let refused = await eventually(timeout: .seconds(120)) {
            try attacks.allSatisfy { try !Self.reasons($0.event, of: $0.dossier, in: pipeline).isEmpty }
                && !Self.reasons("apology-rejected", of: ids[4], in: pipeline).isEmpty
        }
        #expect(refused, "\(pipeline.logs())")
        for attack in attacks {
            let reasons = try Self.reasons(attack.event, of: attack.dossier, in: pipeline)
            #expect(reasons.count == 1 && reasons[0].hasPrefix(attack.code + ":"), "\(attack.code): \(reasons)")
            // Nothing moved, nothing recorded.
            #expect(try Self.due(attack.dossier, step: 0, in: pipeline) == before[attack.dossier], "\(attack.code)")
            #expect(try Self.reasons("apology-issued", of: attack.dossier, in: pipeline).isEmpty, "\(attack.code)")
        }
        #expect(try pipeline.count(
            "SELECT count(*) FROM apologies WHERE dossier_id = ANY($1::text[])", [attacks.map(\.dossier)]) == 0)
        // The valid slip: recorded once with its signed bytes, the deadline moved once; the replay refused.
        let replayed = try Self.reasons("apology-rejected", of: ids[4], in: pipeline)
        #expect(replayed.count == 1 && replayed[0].hasPrefix("already-issued:"), "\(replayed)")
        #expect(try Self.reasons("apology-issued", of: ids[4], in: pipeline).count == 1)
        #expect(try pipeline.database.query(
            "SELECT issued_by, department, previous_date::text AS p, new_date::text AS n, command FROM apologies WHERE dossier_id = $1",
            [ids[4]]
        ).map {
            "\(try $0.decode(String.self, "issued_by")) \(try $0.decode(String.self, "department")) "
                + "\(try $0.decode(String.self, "p")) \(try $0.decode(String.self, "n")) "
                + "\(try $0.decode(PostgresBytes.self, "command").bytes == valid)"
        } == ["\(head.id) \(Self.department) \(before[ids[4]] ?? "") \(try later(ids[4])) true"])
        #expect(try Self.due(ids[4], step: 0, in: pipeline) == later(ids[4]))
        // The coordinator said so once on escalations.
        #expect(try pipeline.count(
            "SELECT count(*) FROM outbox WHERE key = $1 AND ce_type = $2", [ids[4], CoordinatorEvent.messageType(.apologyIssued)]) == 1)
        // The worker's event again under another id, produced straight on dossier.events as kcat would, with a later
        // date too: the step had its one apology, nothing moves again.
        let published = try #require(try pipeline.database.query(
            """
            SELECT payload FROM outbox WHERE key = $1 AND topic = $2
              AND convert_from(payload, 'UTF8')::jsonb->>'type' = 'apology-issued'
            """, [ids[4], pipeline.topics.events]).first?.decode(PostgresBytes.self, "payload").bytes)
        var copies: [DossierEvent] = []
        for newDate in [try later(ids[4]), try later(ids[4], by: 20)] {
            var copy = try MessageCoding.decoder().decode(DossierEvent.self, from: Data(published))
            copy.eventId = UUID()
            copy.data.dueDate = newDate
            copies.append(copy)
            try await pipeline.producer.send(KafkaOutgoingMessage(
                topic: pipeline.topics.events, key: ids[4], value: Array(try MessageCoding.encoder().encode(copy)),
                headers: [KafkaHeader("ce_type", MessageType.event)]))
        }
        let read = await eventually(timeout: .seconds(60)) {
            try pipeline.count("SELECT count(*) FROM processed_events WHERE event_id = ANY($1::uuid[])",
                               [copies.map(\.eventId.uuidString)]) == 2
        }
        #expect(read, "\(pipeline.logs())")
        #expect(try Self.due(ids[4], step: 0, in: pipeline) == later(ids[4]))
        #expect(try pipeline.count(
            "SELECT count(*) FROM outbox WHERE key = $1 AND ce_type = $2", [ids[4], CoordinatorEvent.messageType(.apologyIssued)]) == 1)

        // `motcua apology --key --wait`: the same way, through the worker; a second slip for the step is refused.
        let code = try #require(try pipeline.database.query("SELECT code FROM dossiers WHERE id = $1", [ids[5]])
            .first?.decode(String.self, "code"))
        func apology(_ newDate: String) async throws -> CommandRun {
            try await Self.motcua(
                ["apology", code, "--reason", "site inspection moved", "--new-date", newDate, "--official", head.id,
                 "--key", head.keyFile, "--wait"],
                pipeline: pipeline, database: database)
        }
        let first = try await apology(try later(ids[5]))
        #expect(first.status == 0 && first.stdout.contains("apology recorded"), "\(first)\n\(pipeline.logs())")
        let moved = await eventually(timeout: .seconds(60)) { try Self.due(ids[5], step: 0, in: pipeline) == later(ids[5]) }
        #expect(moved)
        let second = try await apology(try later(ids[5], by: 10))
        #expect(second.status != 0 && second.stderr.contains("already-issued"), "\(second)")
        #expect(try Self.due(ids[5], step: 0, in: pipeline) == later(ids[5]))

        // The audit replay of the whole topics: every recorded apology matches a verified slip.
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
        let apologyFindings = clean.findings.filter { $0["field"] as? String == "apology" }
        #expect(apologyFindings.isEmpty, "\(apologyFindings)")
        #expect(clean.status == 0, "\(clean.run) \(clean.findings)")

        // Behind the system's back, as the schema owner: an apology written straight into PostgreSQL, one whose
        // date was changed, and one whose stored bytes were.
        try database.connection.execute(
            """
            INSERT INTO apologies (dossier_id, step, reason, previous_date, new_date, issued_by, issued_at, department)
            VALUES ($1, 0, 'forged', $2::date, $2::date + 5, $3, now(), $4)
            """, [ids[0], before[ids[0]] ?? "", head.id, Self.department.rawValue])
        try database.connection.execute(
            "UPDATE apologies SET new_date = new_date + 7 WHERE dossier_id = $1", [ids[4]])
        try database.connection.execute(
            "UPDATE apologies SET command = convert_to(replace(convert_from(command, 'UTF8'), 'site inspection moved', 'moved'), 'UTF8') WHERE dossier_id = $1",
            [ids[5]])
        // As the department's own role (its guard lets it: its deadline, its name), rows backdated to before the
        // registry was in force: one with a slip's bytes no slip on the topic carries, one as from an approved draft.
        try database.connection.execute("SELECT set_config('role', motcua_department_role($1), false)", [Self.department.rawValue])
        try database.connection.execute(
            """
            INSERT INTO apologies (dossier_id, step, reason, previous_date, new_date, issued_by, issued_at, department,
                                   command_id, command)
            VALUES ($1, 0, 'a second site visit', $2::date, $2::date + 40, $3, '2020-01-01T09:00:00+07', $4,
                    gen_random_uuid(), $5),
                   ($6, 0, 'a second site visit', $7::date, $7::date + 40, $3, '2020-01-01T09:00:00+07', $4, NULL, NULL)
            """, [ids[1], before[ids[1]] ?? "", head.id, Self.department.rawValue,
                  PostgresBytes(try slip(ids[1], as: head.id, newDate: later(ids[1], by: 40))), ids[2], before[ids[2]] ?? ""])
        try database.connection.execute("RESET ROLE", [])
        let altered = try await replay()
        #expect(altered.status == 1, "\(altered.run)")
        let named = Dictionary(grouping: altered.findings.filter { $0["field"] as? String == "apology" }, by: { $0["kind"] as? String ?? "" })
            .mapValues { Set($0.compactMap { $0["dossierId"] as? String }) }
        #expect(named["forged"] == [ids[0], ids[1], ids[2]], "\(altered.findings)")
        #expect(named["unsigned-before-registry"] == nil, "\(altered.findings)")
        #expect(named["signature-mismatch"] == [ids[4], ids[5]], "\(altered.findings)")
    }

    @Test("the labour worker, as its own database login (migration 028), records an apology for its own deadline and publishes apology-issued; a slip for a deadline of culture's is refused (no-open-deadline) and nothing is recorded")
    func asTheDepartmentsLogin() async throws {
        let database = try TestDatabase("apologyrole")
        defer { database.drop() }
        // The production topic names (the role's policies name them), a database of the test's own (no registry in
        // force: slips are taken unsigned, as every command before its first record).
        let pipeline = try Pipeline(databaseURL: database.url, seed: 30, ownTopics: false)
        let rules = TestEnvironment.root.appendingPathComponent("deploy").path
        let workerGroup = "motcua.labour.\(pipeline.suffix)"
        try pipeline.startAtEnd(group: workerGroup, topic: pipeline.topics.department("labour"))
        let login = try RoleEndToEndTests.login(as: "motcua_worker_labour", base: pipeline.databaseURL, admin: pipeline.database)
        defer {
            for process in pipeline.processes.values where process.isRunning { process.signal(SIGKILL) }
            _ = try? pipeline.database.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", [login.name])
            _ = try? pipeline.database.execute("DROP ROLE IF EXISTS \(login.name)", [])
        }
        // The coordinator's deadlines (written here as the owner): one of labour's, one of culture's.
        let today = LocalDate(instant: Date())
        let own = UUID().uuidString.lowercased()
        let other = UUID().uuidString.lowercased()
        for (dossier, department) in [(own, "labour"), (other, "culture")] {
            try pipeline.database.execute(
                """
                INSERT INTO deadlines (dossier_id, step, kind, department, procedure, opened_at, due_date, due_at)
                VALUES ($1, 0, 'step', $2, 'p', now(), $3::date, now() + interval '5 days')
                """, [dossier, department, today.adding(days: 5).description])
        }
        // The coordinator (as the owner), from the events topic's current end: it moves the deadlines.
        let receptionGroup = "motcua.reception.\(pipeline.suffix)"
        let projectionGroup = "motcua.coordinator.\(pipeline.suffix)"
        try pipeline.startAtEnd(group: receptionGroup, topic: pipeline.topics.intake)
        try pipeline.startAtEnd(group: projectionGroup, topic: pipeline.topics.events)
        pipeline.processes["coordinator"] = try ServiceProcess(
            "coordinator",
            ["--rules", rules, "--reception-group", receptionGroup, "--projection-group", projectionGroup,
             "--log-level", "warning"],
            environment: pipeline.processEnvironment)
        pipeline.processes["labour-as-role"] = try ServiceProcess(
            "labour-worker", ["--rules", rules, "--group", workerGroup, "--log-level", "warning"],
            environment: pipeline.processEnvironment.merging(["DATABASE_URL": login.url]) { $1 })
        for dossier in [own, other] {
            let slip = ApologyRequest(
                commandId: UUID(), dossierId: dossier, step: 0, official: Messages.Official(id: "ld-head", department: "labour"),
                reason: "inspection", newDate: today.adding(days: 8).description, at: Date())
            try await pipeline.producer.send(KafkaOutgoingMessage(
                topic: pipeline.topics.department("labour"), key: dossier, value: Array(try MessageCoding.encoder().encode(slip)),
                headers: [KafkaHeader("ce_type", MessageType.apology)]))
        }
        let answered = await eventually(timeout: .seconds(90)) {
            try !Self.reasons("apology-issued", of: own, in: pipeline).isEmpty
                && !Self.reasons("apology-rejected", of: other, in: pipeline).isEmpty
        }
        #expect(answered, "\(pipeline.logs())")
        #expect(try pipeline.database.query(
            "SELECT dossier_id, department, new_date::text AS n FROM apologies", []
        ).map { "\(try $0.decode(String.self, "dossier_id")) \(try $0.decode(String.self, "department")) \(try $0.decode(String.self, "n"))" }
            == ["\(own) labour \(today.adding(days: 8).description)"])
        #expect(try Self.reasons("apology-rejected", of: other, in: pipeline).allSatisfy { $0.hasPrefix("no-open-deadline:") })
        // Published by the worker's own relay, as its login.
        let relayed = await eventually(timeout: .seconds(30)) {
            try pipeline.count("SELECT count(*) FROM outbox WHERE key = ANY($1::text[]) AND sent_at IS NULL", [[own, other]]) == 0
        }
        #expect(relayed)
        // The coordinator moved labour's deadline: the worker's event matches labour's row.
        let moved = await eventually(timeout: .seconds(90)) {
            try Self.due(own, step: 0, in: pipeline) == today.adding(days: 8).description
        }
        #expect(moved, "\(pipeline.logs())")

        // The attack of the review: labour's login writes `apology-issued` for culture's deadline in its outbox
        // (its own source, on dossier.events: the outbox guard lets it), and its relay publishes it.
        let forged = DossierEvent(
            eventId: UUID(), dossierId: other, code: nil, type: .apologyIssued, department: "culture", step: 0, round: nil,
            at: Date(), data: DossierEvent.Data(reason: "forged", dueDate: today.adding(days: 60).description,
                                                official: "vh-director", previousDueDate: today.adding(days: 5).description))
        do {
            let asLabour = try PostgresConnection.connect(
                PostgresConfiguration(connectionString: login.url), logger: TestEnvironment.logger)
            _ = try asLabour.execute(
                """
                INSERT INTO outbox (source, event_id, topic, key, ce_type, payload) VALUES ('labour', $1, $2, $3, $4, $5)
                """, [forged.eventId, pipeline.topics.events, other, MessageType.event,
                      PostgresBytes(Array(try MessageCoding.encoder().encode(forged)))])
        }
        let applied = await eventually(timeout: .seconds(90)) {
            try pipeline.count(
                "SELECT count(*) FROM processed_events WHERE consumer = 'motcua.coordinator' AND event_id = $1",
                [forged.eventId]) == 1
        }
        #expect(applied, "\(pipeline.logs())")
        // Read, and refused: culture's deadline, its timers and escalations as they were; nothing sent for it.
        #expect(try Self.due(other, step: 0, in: pipeline) == today.adding(days: 5).description)
        #expect(try pipeline.count(
            "SELECT count(*) FROM deadlines WHERE dossier_id = $1 AND fired = 0 AND status = 'open'", [other]) == 1)
        #expect(try pipeline.count(
            "SELECT count(*) FROM outbox WHERE key = $1 AND source LIKE 'coordinator%'", [other]) == 0)
        #expect(try pipeline.count("SELECT count(*) FROM apologies WHERE dossier_id = $1", [other]) == 0)
        // Nor does the applicant's timeline show an apology that was never issued.
        #expect(try pipeline.count(
            "SELECT count(*) FROM dossier_timeline WHERE dossier_id = $1 AND type = 'apology-issued'", [other]) == 0)
        #expect(try pipeline.count(
            "SELECT count(*) FROM dossier_timeline WHERE dossier_id = $1 AND type = 'apology-issued'", [own]) == 1)
        for process in pipeline.processes.values { #expect(process.isRunning, "\(process.log.suffix(2_000))") }
    }
}
