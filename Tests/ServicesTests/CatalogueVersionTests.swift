import Audit
import Authority
import EffectivelyOnce
import Foundation
import Kafka
import Messages
import Postgres
import Services
import Simulation
import TestSupport
import Testing

/// Issue 23: the catalogue is versioned like rules. Reception records the version in force on each dossier it
/// receives and stores the version's terms once; a corrected time limit moves the due date of a dossier received
/// after the correction and not of one received before; the audit replay re-derives both with the version each
/// recorded. Through reception's real batch transaction, into a database of the test's own.
@Suite("Catalogue versions")
struct CatalogueVersionTests {
    /// The deploy directory's data files as `load(files:)` takes them.
    static func deployFiles() throws -> [String: String] {
        let deploy = TestEnvironment.root.appendingPathComponent("deploy")
        var files: [String: String] = [:]
        for sub in ["catalog", "catalog/procedures", "delegations", "calendar", "rules"] {
            let directory = deploy.appendingPathComponent(sub)
            for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) where name.hasSuffix(".yaml") {
                files["\(sub)/\(name)"] = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            }
        }
        return files
    }

    /// The shipped files with procedure `code`'s time limit value replaced by `value`.
    static func files(limitOf code: String, in file: String, value: Int) throws -> [String: String] {
        var files = try deployFiles()
        let text = files[file]!
        let entry = text.range(of: "code: '\(code)'")!
        let limit = text.range(of: "timeLimit: {value: ", range: entry.upperBound..<text.endIndex)!
        let end = text[limit.upperBound...].firstIndex(of: ",")!
        files[file] = text.replacingCharacters(in: limit.upperBound..<end, with: String(value))
        return files
    }

    static let receivedAt = ISO8601Instant.parse("2026-11-16T09:00:00+07:00")!

    func receive(
        _ dossier: Dossier, with bundle: AuthorityBundle, offset: Int64, into database: TestDatabase,
        expecting outcome: String = "received"
    ) throws {
        let reception = Reception(bundle: bundle, clock: ManualClock(Self.receivedAt), logger: TestEnvironment.logger)
        let message = KafkaMessage(
            topic: "dossiers.intake", partition: 0, offset: offset, key: Array(dossier.id.utf8),
            value: Array(try JSONEncoder().encode(dossier)))
        let report = try database.connection.transaction { tx in try reception.write([message], into: tx) }
        #expect(report.outcomes[outcome] == 1, "\(report.outcomes)")
    }

    func dueDate(_ id: String, _ database: TestDatabase) throws -> (due: String?, version: String?) {
        let row = try database.connection.query(
            "SELECT due_date::text AS due, catalogue_version FROM dossiers WHERE id = $1", [id])[0]
        return (try row.decodeIfPresent(String.self, "due"), try row.decodeIfPresent(String.self, "catalogue_version"))
    }

    @Test("a corrected time limit moves the due date of a dossier received after the correction, not of one received before; the replay re-derives both")
    func correctedLimit() throws {
        let database = try TestDatabase("catversion")
        defer { database.drop() }
        // 2.001240 (alcohol wholesale licence) was shipped at 15 working days; the source says 10 (the correction).
        let before = try AuthorityBundle.load(
            files: try Self.files(limitOf: "2.001240", in: "catalog/procedures/industry-trade.yaml", value: 15),
            schemas: nil)
        let after = try AuthorityBundle.load(files: try Self.deployFiles(), schemas: nil)
        #expect(before.catalogue.procedure("2.001240")?.timeLimit == TimeLimit(value: 15, unit: .workingDays))
        #expect(after.catalogue.procedure("2.001240")?.timeLimit == TimeLimit(value: 10, unit: .workingDays))
        #expect(before.catalogueVersion.version != after.catalogueVersion.version)
        // A name or note is not a term: the same version.
        var renamed = try Self.deployFiles()
        renamed["catalog/procedures/industry-trade.yaml"] = renamed["catalog/procedures/industry-trade.yaml"]!
            .replacingOccurrences(of: "Cấp Giấy phép bán buôn rượu", with: "Cấp Giấy phép bán buôn rượu (tên sửa)")
        #expect(try AuthorityBundle.load(files: renamed, schemas: nil).catalogueVersion.version == after.catalogueVersion.version)

        var generator = DossierGenerator(bundle: after, seed: 23)
        let first = generator.next(procedure: "2.001240", submittedAt: Self.receivedAt.addingTimeInterval(-600), outsideShare: 0)
        let second = generator.next(procedure: "2.001240", submittedAt: Self.receivedAt.addingTimeInterval(-600), outsideShare: 0)
        // The first is received before the correction, the second after it (the same instant: only the limit differs).
        try receive(first, with: before, offset: 0, into: database)
        try receive(second, with: after, offset: 1, into: database)

        let calendar = after.calendar
        let old = try calendar.dueDate(receivedAt: Self.receivedAt, limit: TimeLimit(value: 15, unit: .workingDays))
        let new = try calendar.dueDate(receivedAt: Self.receivedAt, limit: TimeLimit(value: 10, unit: .workingDays))
        #expect(old != new)
        let (firstDue, firstVersion) = try dueDate(first.id, database)
        let (secondDue, secondVersion) = try dueDate(second.id, database)
        #expect(firstDue == old.description, "received before the correction: the limit in force then")
        #expect(secondDue == new.description, "received after the correction: the corrected limit")
        #expect(firstVersion == before.catalogueVersion.version)
        #expect(secondVersion == after.catalogueVersion.version)
        // The step task carries the version too (a forward takes that version's next-step limit).
        let task = try database.connection.query(
            "SELECT payload FROM outbox WHERE topic = 'dossiers.industry-trade' AND key = $1", [first.id])[0]
            .decode(PostgresBytes.self, "payload")
        #expect(try MessageCoding.decodeStepTask(task.bytes, decoder: MessageCoding.decoder()).catalogueVersion
            == before.catalogueVersion.version)

        // Both versions were stored when first used, with their terms.
        let stored = try database.connection.query("SELECT version, canonical_text FROM catalogue_versions", [])
        #expect(stored.count == 2)
        for row in stored {
            let version = try CatalogueVersion(canonicalText: try row.decode(String.self, "canonical_text"))
            #expect(version.version == (try row.decode(String.self, "version")))
        }

        // The replay re-derives both, each with the version it recorded (the current catalogue gives 10 for both).
        let replay = try AuditReplay.rederiveDueDates(of: nil, calendar: calendar, on: database.connection)
        #expect(replay.rederived == 2)
        #expect(replay.findings.isEmpty, "\(replay.findings)")

        // A due date changed behind reception's back is found, with what the recorded version gives.
        try database.connection.execute("UPDATE dossiers SET due_date = $1::date WHERE id = $2", [new.description, first.id])
        let tampered = try AuditReplay.rederiveDueDates(of: nil, calendar: calendar, on: database.connection)
        #expect(tampered.findings.count == 1)
        #expect(tampered.findings.first?.kind == .dueDateDiffers)
        #expect(tampered.findings.first?.dossierId == first.id)
        #expect(tampered.findings.first?.stored == new.description)
        #expect(tampered.findings.first?.rederived == old.description)
        #expect(tampered.findings.first?.kind.isDifference == true)
    }

    @Test("catalogue_versions is append-only and a text cannot be stored under another version, as reception's role, the coordinator's or the owner")
    func appendOnly() throws {
        let database = try TestDatabase("catappend")
        defer { database.drop() }
        let bundle = try AuthorityBundle.load(files: try Self.deployFiles(), schemas: nil)
        let version = bundle.catalogueVersion
        try database.connection.execute(
            "INSERT INTO catalogue_versions (version, canonical_text) VALUES ($1, $2)", [version.version, version.canonicalText])
        func sqlState(_ statement: String, _ parameters: [String] = []) -> String? {
            do {
                try database.connection.execute(statement, parameters)
                return nil
            } catch {
                return error.sqlState
            }
        }
        // The owner cannot change or remove a stored version.
        #expect(sqlState("UPDATE catalogue_versions SET canonical_text = '{}'") == "42501")
        #expect(sqlState("DELETE FROM catalogue_versions") == "42501")
        #expect(sqlState("TRUNCATE catalogue_versions") == "42501")
        // Reception's role (it stores versions) cannot store a forged text under the real version, nor change it;
        // the coordinator's only reads them.
        try database.connection.execute("SET ROLE motcua_coordinator", [])
        #expect(sqlState("INSERT INTO catalogue_versions (version, canonical_text) VALUES ($1, $2)", ["f" + version.version.dropFirst(), version.canonicalText]) == "42501")
        #expect(try database.connection.query("SELECT version FROM catalogue_versions", []).count == 1)
        try database.connection.execute("RESET ROLE", [])
        try database.connection.execute("SET ROLE motcua_reception", [])
        defer { _ = try? database.connection.execute("RESET ROLE", []) }
        let forged = version.canonicalText.replacingOccurrences(of: "\"value\":10", with: "\"value\":30")
        #expect(forged != version.canonicalText)
        #expect(sqlState("INSERT INTO catalogue_versions (version, canonical_text) VALUES ($1, $2)", ["f" + version.version.dropFirst(), forged]) == "23514")
        #expect(sqlState("UPDATE catalogue_versions SET canonical_text = $1", [forged]) == "42501")
        try database.connection.execute("RESET ROLE", [])
        let texts = try database.connection.query("SELECT canonical_text FROM catalogue_versions", [])
        #expect(texts.count == 1)
        #expect(try texts.first?.decode(String.self, "canonical_text") == version.canonicalText)
    }

    @Test("a procedure that moved is refused at reception from its move date, with where it went; before that date it is routed; rules check names what still routes it")
    func movedProcedure() throws {
        let database = try TestDatabase("catmoved")
        defer { database.drop() }
        let bundle = try AuthorityBundle.load(files: try Self.deployFiles(), schemas: nil)
        let tobacco = try #require(bundle.catalogue.procedure("2.000633"))
        #expect(tobacco.moved?.on == "2025-07-01")
        var generator = DossierGenerator(bundle: bundle, seed: 29)
        let lateAt = Self.receivedAt
        let earlyAt = ISO8601Instant.parse("2025-06-30T09:00:00+07:00")!
        let late = generator.next(procedure: "2.000633", submittedAt: lateAt.addingTimeInterval(-600), outsideShare: 0)
        let early = generator.next(procedure: "2.000633", submittedAt: earlyAt.addingTimeInterval(-600), outsideShare: 0)
        for (index, (dossier, at)) in [(late, lateAt), (early, earlyAt)].enumerated() {
            let reception = Reception(bundle: bundle, clock: ManualClock(at), logger: TestEnvironment.logger)
            let message = KafkaMessage(
                topic: "dossiers.intake", partition: 0, offset: Int64(index), key: Array(dossier.id.utf8),
                value: Array(try JSONEncoder().encode(dossier)))
            _ = try database.connection.transaction { tx in try reception.write([message], into: tx) }
        }
        func status(_ id: String) throws -> String {
            try database.connection.query("SELECT status FROM dossiers WHERE id = $1", [id])[0].decode(String.self, "status")
        }
        func routed(_ id: String) throws -> Int {
            try database.connection.query(
                "SELECT count(*) AS n FROM outbox WHERE topic = 'dossiers.industry-trade' AND key = $1", [id]
            )[0].decode(Int.self, "n")
        }
        // Received on or after the move: refused, not routed, and the event says where the procedure went.
        #expect(try status(late.id) == "intake-refused")
        #expect(try routed(late.id) == 0)
        let event = try database.connection.query(
            "SELECT payload FROM outbox WHERE topic = 'dossier.events' AND key = $1", [late.id])
        #expect(event.count == 1)
        let decoded = try MessageCoding.decoder().decode(
            DossierEvent.self, from: Data(try event[0].decode(PostgresBytes.self, "payload").bytes))
        #expect(decoded.type == .intakeRefused)
        #expect(decoded.data.reason?.contains("moved on 2025-07-01 to Ủy ban nhân dân cấp xã") == true, "\(decoded.data.reason ?? "")")
        #expect(decoded.data.reason?.contains("no longer decided by industry-trade") == true)
        // Received the day before the move: the department's, routed.
        #expect(try status(early.id) == "received")
        #expect(try routed(early.id) == 1)

        // rules check: the delegations and rules that still route it.
        let messages = bundle.warnings.map(\.message)
        #expect(messages.contains {
            // uq-ct-2022-01 gave it until its successor started (2026-01-01); uq-ct-2019-01, superseded in 2022, not.
            $0.hasPrefix(
                "procedure 2.000633 moved on 2025-07-01 but delegation(s) uq-ct-2022-01 (to industry-trade), "
                    + "uq-ct-2025-01 (to industry-trade) still give it after that date")
        }, "\(messages)")
        #expect(messages.contains { $0.hasPrefix("procedure 2.000633 moved on 2025-07-01 but rule(s) industry-trade/") })
        // A generator drawing at random no longer draws it after the move.
        var drawing = DossierGenerator(bundle: bundle, seed: 31)
        let drawn = (0..<400).map { _ in drawing.next(department: "industry-trade", submittedAt: lateAt).procedure }
        #expect(!drawn.contains("2.000633"))
    }

    @Test("an unverified holiday is a working day unless the operator confirms it: 24/11/2026 moves a due date by one working day, and rules check says so")
    func unverifiedHoliday() throws {
        let shipped = try Self.deployFiles()
        let bundle = try AuthorityBundle.load(files: shipped, schemas: nil)
        // As shipped, Ngày Văn hóa Việt Nam (its resolution not found) is not confirmed: a working day.
        let culture = try #require(LocalDate("2026-11-24"))
        #expect(try bundle.calendar.isWorkingDay(culture))
        #expect(bundle.warnings.contains {
            $0.message.hasPrefix("day off \"Ngày Văn hóa Việt Nam\" (2026-11-24) is not verified against its instrument")
                && $0.message.contains("not confirmed: counted as a working day")
        }, "\(bundle.warnings.map(\.message).filter { $0.contains("2026-11-24") })")
        // A confirmed unverified entry (Tết 2026, statutory) is counted, with a warning naming the confirmation.
        #expect(try !bundle.calendar.isWorkingDay(LocalDate("2026-02-17")!))
        #expect(bundle.warnings.contains { $0.message.contains("Tết Nguyên đán Bính Ngọ") && $0.message.contains("on the operator's confirmation") })

        // The operator confirms 24/11: it becomes a day off, and a due date across it moves one working day later.
        var confirmed = shipped
        confirmed["calendar/vn-2026.yaml"] = shipped["calendar/vn-2026.yaml"]!.replacingOccurrences(
            of: "(as shipped; not found)\", issuer: \"Quốc hội\" }, verified: false,",
            with: "(as shipped; not found)\", issuer: \"Quốc hội\" }, verified: false, confirmed: { date: 2026-12-08, by: \"test\", basis: \"the City closed its offices\" },")
        #expect(confirmed != shipped)
        let withDay = try AuthorityBundle.load(files: confirmed, schemas: nil)
        #expect(try !withDay.calendar.isWorkingDay(culture))
        let limit = TimeLimit(value: 10, unit: .workingDays)
        let working = try bundle.calendar.dueDate(receivedAt: Self.receivedAt, limit: limit)
        let off = try withDay.calendar.dueDate(receivedAt: Self.receivedAt, limit: limit)
        #expect(working.description == "2026-11-30", "received Monday 16/11 09:00, 10 working days with 24/11 worked")
        #expect(off.description == "2026-12-01", "with 24/11 off: one working day later")
    }

    @Test("a worker forwarding a dossier gives the next step the limit of the version reception recorded on it (also one stored after the worker started), not the one a forged task names")
    func forwardKeepsTheRecordedStepLimit() throws {
        let database = try TestDatabase("catforward")
        defer { database.drop() }
        // 2.001283 (petrol-station certificate): environment 5 working days, then industry-trade 15. The correction
        // makes industry-trade's step 10.
        let shipped = try Self.deployFiles()
        var corrected = shipped
        let file = "catalog/procedures/industry-trade.yaml"
        let text = shipped[file]!
        let entry = text.range(of: "code: '2.001283'")!
        let step = text.range(
            of: "- {department: industry-trade, timeLimit: {value: 15,", range: entry.upperBound..<text.endIndex)!
        corrected[file] = text.replacingCharacters(in: step, with: "- {department: industry-trade, timeLimit: {value: 10,")
        let before = try AuthorityBundle.load(files: shipped, schemas: nil)
        let after = try AuthorityBundle.load(files: corrected, schemas: nil)
        #expect(after.catalogue.procedure("2.001283")?.steps.last?.timeLimit == TimeLimit(value: 10, unit: .workingDays))

        // The worker runs the corrected catalogue and started before any version was stored.
        let forwardedAt = ISO8601Instant.parse("2026-11-18T10:00:00+07:00")!
        let worker = try DepartmentWorker(
            department: "environment", bundle: after, clock: ManualClock(forwardedAt), logger: TestEnvironment.logger)
        try worker.prepare(database.connection)

        var generator = DossierGenerator(bundle: after, seed: 37)
        var dossiers: [Dossier] = []
        // The third is received before the correction, and its step task is forged (as kcat would produce it) to
        // name the corrected version: the worker takes the version reception recorded, not the task's.
        for (index, bundle) in [before, after, before].enumerated() {
            var dossier = generator.next(
                procedure: "2.001283", submittedAt: Self.receivedAt.addingTimeInterval(-600), outsideShare: 0)
            dossier.facts["hasWastewaterTreatment"] = .bool(true)
            dossiers.append(dossier)
            try receive(dossier, with: bundle, offset: Int64(index), into: database)
        }
        let tasks = try database.connection.query(
            "SELECT key, payload FROM outbox WHERE topic = 'dossiers.environment' ORDER BY id", [])
        #expect(tasks.count == 3)
        let messages = try tasks.enumerated().map { index, row in
            var value = try row.decode(PostgresBytes.self, "payload").bytes
            if index == 2 {
                let text = String(decoding: value, as: UTF8.self)
                #expect(text.contains("\"catalogueVersion\":\"\(before.catalogueVersion.version)\""))
                value = Array(text.replacingOccurrences(
                    of: before.catalogueVersion.version, with: after.catalogueVersion.version).utf8)
            }
            return KafkaMessage(
                topic: "dossiers.environment", partition: 0, offset: Int64(index),
                key: Array(try row.decode(String.self, "key").utf8), value: value)
        }
        let report = try database.connection.transaction { tx in try worker.write(messages, into: tx) }
        #expect(report.outcomes["forward"] == 3, "\(report.outcomes)")
        func forwardedDue(_ dossier: Dossier) throws -> String? {
            // The forwarded task names the version reception recorded, whatever the incoming task named.
            let payload = try database.connection.query(
                "SELECT payload FROM outbox WHERE topic = 'dossiers.industry-trade' AND key = $1", [dossier.id])
            guard let row = payload.first else { return nil }
            let task = try MessageCoding.decodeStepTask(
                try row.decode(PostgresBytes.self, "payload").bytes, decoder: MessageCoding.decoder())
            #expect(task.catalogueVersion == (try dueDate(dossier.id, database)).version)
            return task.dueDate
        }
        let fifteen = try after.calendar.dueDate(receivedAt: forwardedAt, limit: TimeLimit(value: 15, unit: .workingDays))
        let ten = try after.calendar.dueDate(receivedAt: forwardedAt, limit: TimeLimit(value: 10, unit: .workingDays))
        #expect(try forwardedDue(dossiers[0]) == fifteen.description, "received before the correction: its 15 days")
        #expect(try forwardedDue(dossiers[1]) == ten.description, "received after it: the corrected 10")
        #expect(try forwardedDue(dossiers[2]) == fifteen.description, "a forged task naming the corrected version: still 15")
    }

    /// The shipped catalogue, and the correction that adds a site plan to 2.001240's documents (alcohol wholesale
    /// licence, industry-trade only).
    static func sitePlanCorrection() throws -> (before: AuthorityBundle, after: AuthorityBundle) {
        let shipped = try Self.deployFiles()
        var corrected = shipped
        let file = "catalog/procedures/industry-trade.yaml"
        let original = "documents: [application-form, business-registration, premises-right, supply-contracts, distribution-system-list]"
        let text = shipped[file]!
        let entry = text.range(of: "code: '2.001240'")!
        let documents = try #require(text.range(of: original, range: entry.upperBound..<text.endIndex))
        corrected[file] = text.replacingCharacters(
            in: documents, with: original.replacingOccurrences(of: "]", with: ", site-plan]"))
        return (try AuthorityBundle.load(files: shipped, schemas: nil), try AuthorityBundle.load(files: corrected, schemas: nil))
    }

    @Test("a document a correction adds to a procedure is not requested from a dossier received before the correction (nor when its task is forged to name the corrected version), and is from one received after it or without a recorded version; a supplement may bring only the documents of the terms the dossier was received under")
    func addedDocumentKeepsTheRecordedTerms() throws {
        let database = try TestDatabase("catdocuments")
        defer { database.drop() }
        let (before, after) = try Self.sitePlanCorrection()
        #expect(after.catalogue.procedure("2.001240")?.documents.last == "site-plan")
        #expect(before.catalogue.procedure("2.001240")?.documents.contains("site-plan") == false)
        #expect(before.catalogueVersion.version != after.catalogueVersion.version)

        // The worker runs the corrected catalogue and started before any version was stored.
        let decidedAt = ISO8601Instant.parse("2026-11-17T10:00:00+07:00")!
        let worker = try DepartmentWorker(
            department: "industry-trade", bundle: after, clock: ManualClock(decidedAt), logger: TestEnvironment.logger)
        try worker.prepare(database.connection)

        // The five documents of the terms before the correction, not the site plan; an enterprise's code, well
        // formed unless `malformed` (then industry-trade's own check asks for a supplement: an open request).
        var generator = DossierGenerator(bundle: before, seed: 41)
        func next(malformed: Bool = false, sitePlan: Bool = false) -> Dossier {
            var dossier = generator.next(
                procedure: "2.001240", submittedAt: Self.receivedAt.addingTimeInterval(-600), outsideShare: 0)
            dossier.facts["retailerCount"] = .integer(3)
            dossier.applicant.kind = .enterprise
            dossier.applicant.id = malformed ? "12AB" : "0101234567"
            if sitePlan { dossier.documents.append("site-plan") }
            return dossier
        }
        let old = next()  // received before the correction
        let forged = next()  // received before it, its step task forged to name the corrected version
        let legacy = next()  // received with no version recorded (before migration 021)
        let incomplete = next()  // received after the correction, without the site plan
        let new = next(malformed: true, sitePlan: true)  // received after it, with the site plan
        let checked = next(malformed: true)  // received before it
        #expect(!old.documents.contains("site-plan"))
        for (index, (dossier, bundle)) in [(old, before), (forged, before), (legacy, before), (new, after), (checked, before)]
            .enumerated()
        {
            try receive(dossier, with: bundle, offset: Int64(index), into: database)
        }
        // Reception holds a dossier received after the correction to it: without the site plan, it is not received.
        try receive(incomplete, with: after, offset: 5, into: database, expecting: "intake-incomplete")
        // A dossier received before migration 021 has no version recorded.
        try database.connection.execute("UPDATE dossiers SET catalogue_version = NULL WHERE id = $1", [legacy.id])

        func task(_ dossier: Dossier, offset: Int64) throws -> KafkaMessage {
            var value = try database.connection.query(
                "SELECT payload FROM outbox WHERE topic = 'dossiers.industry-trade' AND key = $1", [dossier.id]
            )[0].decode(PostgresBytes.self, "payload").bytes
            if dossier.id == forged.id {
                let text = String(decoding: value, as: UTF8.self)
                #expect(text.contains("\"catalogueVersion\":\"\(before.catalogueVersion.version)\""))
                value = Array(text.replacingOccurrences(
                    of: before.catalogueVersion.version, with: after.catalogueVersion.version).utf8)
            }
            return KafkaMessage(
                topic: "dossiers.industry-trade", partition: 0, offset: offset, key: Array(dossier.id.utf8), value: value)
        }
        // The tasks as reception sent them (decided with the versions they name, as recorded), then the forged
        // one and the one without a recorded version (decided again with what is recorded).
        _ = try database.connection.transaction { tx in
            try worker.write([try task(old, offset: 0), try task(new, offset: 1), try task(checked, offset: 2)], into: tx)
        }
        _ = try database.connection.transaction { tx in
            try worker.write([try task(forged, offset: 3), try task(legacy, offset: 4)], into: tx)
        }

        func outcome(_ dossier: Dossier, round: Int = 0) throws -> String? {
            try database.connection.query(
                "SELECT outcome FROM decisions WHERE dossier_id = $1 AND round = $2::integer", [dossier.id, String(round)]
            ).first?.decode(String.self, "outcome")
        }
        func events(_ type: String, of dossier: Dossier, _ field: String) throws -> [String] {
            try database.connection.query(
                """
                SELECT convert_from(payload, 'UTF8')::jsonb->'data'->>'\(field)' AS value FROM outbox
                WHERE key = $1 AND topic = 'dossier.events' AND convert_from(payload, 'UTF8')::jsonb->>'type' = $2
                ORDER BY id
                """, [dossier.id, type]
            ).map { try $0.decodeIfPresent(String.self, "value") ?? "" }
        }
        for dossier in [old, forged] {
            let decided = try outcome(dossier)
            #expect(decided != nil && decided != "supplement" && decided != "escalate",
                    "received before the correction: the site plan is not requested (\(decided ?? "none"))")
            #expect(try events("supplement-requested", of: dossier, "documents").isEmpty)
        }
        #expect(try outcome(legacy) == "supplement", "no version recorded: the current catalogue's documents")
        #expect(try events("supplement-requested", of: legacy, "documents") == ["[\"site-plan\"]"])
        #expect(try events("intake-incomplete", of: incomplete, "documents") == ["[\"site-plan\"]"])
        // The department's check asks both malformed codes for a supplement (no document missing).
        for dossier in [new, checked] {
            #expect(try outcome(dossier) == "supplement")
            #expect(try events("supplement-requested", of: dossier, "documents") == [""])
        }

        // A supplement may bring the site plan to the dossier received after the correction, not to the one received
        // before it (not a document of its terms).
        func supplement(_ dossier: Dossier, _ documents: [String], offset: Int64) throws {
            let command = ApplicantSupplement(
                commandId: UUID(), dossierId: dossier.id, step: 0, documents: documents, at: decidedAt)
            let message = KafkaMessage(
                topic: "dossiers.industry-trade", partition: 0, offset: offset, key: Array(dossier.id.utf8),
                value: Array(try MessageCoding.encoder().encode(command)),
                headers: [KafkaHeader(CloudEvents.typeHeader, MessageType.supplement)])
            _ = try database.connection.transaction { tx in try worker.write([message], into: tx) }
        }
        try supplement(checked, ["site-plan"], offset: 10)
        #expect(try events("supplement-rejected", of: checked, "reason") == ["documents not of procedure 2.001240: site-plan"])
        #expect(try outcome(checked, round: 1) == nil)
        try supplement(new, ["site-plan"], offset: 11)
        #expect(try events("supplement-rejected", of: new, "reason").isEmpty)
        #expect(try outcome(new, round: 1) == "supplement", "resumed: the code is still malformed")
    }

    @Test("the audit replay re-derives a decision with the catalogue version recorded on its dossier: a dossier received before a correction adding a document, approved without it, does not differ; a decision altered in the database still does")
    func replayKeepsTheRecordedTerms() async throws {
        let database = try TestDatabase("catreplay")
        defer { database.drop() }
        let (before, after) = try Self.sitePlanCorrection()
        // A topic of the test's own for industry-trade: the replay reads the step tasks the worker decided from it.
        let topics = Topics(prefix: "t.catreplay.\(UUID().uuidString.prefix(8).lowercased()).")
        let topic = topics.department("industry-trade")
        try TestTopics.create(topic, partitions: 1)
        let decidedAt = ISO8601Instant.parse("2026-11-17T10:00:00+07:00")!
        let worker = try DepartmentWorker(
            department: "industry-trade", bundle: after, clock: ManualClock(decidedAt), logger: TestEnvironment.logger)
        try worker.prepare(database.connection)

        var generator = DossierGenerator(bundle: before, seed: 43)
        func next(sitePlan: Bool) -> Dossier {
            var dossier = generator.next(
                procedure: "2.001240", submittedAt: Self.receivedAt.addingTimeInterval(-600), outsideShare: 0)
            dossier.facts["retailerCount"] = .integer(3)
            dossier.applicant.kind = .enterprise
            dossier.applicant.id = "0101234567"
            if sitePlan { dossier.documents.append("site-plan") }
            return dossier
        }
        let old = next(sitePlan: false)  // received before the correction, without the site plan
        let new = next(sitePlan: true)  // received after it, with the site plan
        try receive(old, with: before, offset: 0, into: database)
        try receive(new, with: after, offset: 1, into: database)

        // Reception's step tasks go onto the topic as they are; the worker decides them at the offsets they got.
        let kafka = KafkaClientOptions(bootstrapServers: try TestEnvironment.kafkaBootstrap())
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(client: kafka), logger: TestEnvironment.logger)
        var messages: [KafkaMessage] = []
        for dossier in [old, new] {
            let value = try database.connection.query(
                "SELECT payload FROM outbox WHERE topic = 'dossiers.industry-trade' AND key = $1", [dossier.id]
            )[0].decode(PostgresBytes.self, "payload").bytes
            let delivered = try await producer.send(
                KafkaOutgoingMessage(topic: topic, partition: 0, key: Array(dossier.id.utf8), value: value))
            messages.append(KafkaMessage(
                topic: topic, partition: 0, offset: delivered.offset, key: Array(dossier.id.utf8), value: value))
        }
        try producer.close()
        let report = try database.connection.transaction { tx in try worker.write(messages, into: tx) }
        #expect(report.outcomes.values.reduce(0, +) == 2, "\(report.outcomes)")
        func outcome(_ dossier: Dossier) throws -> String? {
            try database.connection.query("SELECT outcome FROM decisions WHERE dossier_id = $1", [dossier.id]).first?
                .decode(String.self, "outcome")
        }
        let decided = try outcome(old)
        #expect(decided != nil && decided != "supplement" && decided != "escalate",
                "received before the correction: decided without the site plan (\(decided ?? "none"))")
        // The current catalogue would ask the old dossier for the site plan: the replay must not use it.
        #expect(Decider.decide(
            old, department: "industry-trade", bundle: after, ruleSet: after.ruleSets["industry-trade"]!,
            checks: .builtIn(for: "industry-trade"), at: decidedAt).outcome == .supplement)

        func replay() async throws -> AuditReport {
            var settings = AuditReplay.Settings()
            settings.departments = ["industry-trade"]
            settings.topics = topics
            let replay = AuditReplay(
                settings: settings, bundle: after, kafka: kafka, postgres: PostgresConfiguration(connectionString: database.url),
                logger: TestEnvironment.logger)
            return try await onThread("replay") { try replay.run() }
        }
        let clean = try await replay()
        #expect(clean.compared == 2)
        #expect(clean.differences == 0, "\(clean.findings)")

        // The old dossier's decision altered to what the current catalogue would give: reported.
        try database.connection.execute("UPDATE decisions SET outcome = 'supplement' WHERE dossier_id = $1", [old.id])
        let tampered = try await replay()
        #expect(tampered.compared == 2)
        let differs = tampered.findings.filter { $0.kind == .differs }
        #expect(differs.count == 1, "\(tampered.findings)")
        #expect(differs.first?.dossierId == old.id)
        #expect(differs.first?.field == "outcome")
        #expect(differs.first?.stored == "supplement")
        #expect(differs.first?.rederived == decided)
        #expect(tampered.differences == 1, "\(tampered.findings)")
    }
}
