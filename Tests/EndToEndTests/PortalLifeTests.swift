import Authority
import Credentials
import Foundation
import Kafka
import Messages
import Postgres
import TestSupport
import Testing

/// Issue 21, "status codes of a dossier through its whole life on `portal.sync`, in order, once each": real
/// reception, worker, coordinator (projection, outbox relay) and devbroker; the records are read back from the
/// `portal.sync` topic itself, not from the outbox. One dossier goes received → processing → supplement requested →
/// resumed → fee requested → paid (online, through the gateway) → decided → result returned; one is withdrawn while
/// a supplement is requested (7); one is stopped by a stop notice (form 05) that the director approved (8).
///
/// The deploy directory is copied: the lucky-draw promotion (2.000131, approved by the rules without an official)
/// gets a fee, and a rule that asks for a supplement when the dossier does not declare the promotion's value, so a
/// supplement (setting that fact) lets the automatic approval go on to the fee.
@Suite("A dossier's whole life on portal.sync", .serialized)
struct PortalLifeTests {
    static let department: DepartmentID = "industry-trade"
    static let fee = 500_000

    /// `FeeCommandTests.deployWithFee()` plus the supplement rule, placed first (first hit wins).
    static func deploy() throws -> URL {
        let deploy = try FeeCommandTests.deployWithFee()
        let file = deploy.appendingPathComponent("rules/industry-trade.yaml")
        let text = try String(contentsOf: file, encoding: .utf8)
        let anchor = "rules:\n"
        try #require(text.components(separatedBy: anchor).count == 2)
        try text.replacingOccurrences(
            of: anchor,
            with: anchor + """
                  - id: test-promotion-value-undeclared
                    procedures: ["2.000131"]
                    when: { field: facts.promotionValuePct, exists: false }
                    outcome: supplement
                    review: official
                    legalBasis: "Nghị định 81/2018/NĐ-CP, Điều 19"
                    reason: "PortalLifeTests: declare the promotion's value as a share of the goods' value"

                """
        ).write(to: file, atomically: true, encoding: .utf8)
        return deploy
    }

    @Test("one dossier's national codes on portal.sync are 2, 4, 5, 4, 6, 4, 9, 10 (received, processing, supplement requested, resumed, fee requested, paid, decided, returned), a withdrawn one's 2, 4, 5, 7 and a stopped one's 2, 4, 8 — each record once, in order, with its dated fields")
    func wholeLife() async throws {
        let database = try TestDatabase("portallife")
        defer { database.drop() }
        let deploy = try Self.deploy()
        defer { try? FileManager.default.removeItem(at: deploy.deletingLastPathComponent()) }
        let pipeline = try Pipeline(databaseURL: database.url, seed: 2_102)
        let environment = pipeline.processEnvironment.merging(database.environment) { $1 }
        let registry = try await DevRegistry.register(
            department: Self.department.rawValue, rules: deploy.path,
            environment: environment)
        defer { registry.remove() }
        func key(_ id: String) -> String { registry.keyFile(id) }
        func motcua(_ arguments: [String], secret: String? = nil) async throws -> (status: Int32?, output: String) {
            var env = environment
            env["MOTCUA_RECEIPT_SECRET"] = secret
            let run = try await CommandRun.run("motcua", arguments, environment: env)
            return (run.status, run.stdout + run.stderr)
        }

        let workerGroup = pipeline.group(Self.department)
        try pipeline.startAtEnd(group: workerGroup, topic: pipeline.topics.department(Self.department))
        try pipeline.startCoordinator(rules: deploy.path, environment: environment)
        pipeline.processes["worker"] = try ServiceProcess(
            "\(Self.department)-worker", ["--rules", deploy.path, "--group", workerGroup, "--log-level", "warning"],
            environment: environment)

        // life, withdrawn: the promotion without its value (a supplement is requested); stopped: a retail licence
        // (2.000620, approved for an official to sign, no fee).
        var dossiers: [Dossier] = []
        var secrets: [String: String] = [:]
        for procedure in ["2.000131", "2.000131", "2.000620"] {
            var dossier = pipeline.generator.next(procedure: procedure, submittedAt: Date(), outsideShare: 0)
            dossier.channel = procedure == "2.000620" ? .counter : .online
            dossier.documents = try #require(pipeline.bundle.catalogue.procedure(procedure)).documents
            dossier.facts["promotionValuePct"] = nil
            let receipt = ReceiptSecret.generate()
            dossier.receiptSecretSha256 = receipt.sha256
            secrets[dossier.id] = receipt.secret
            dossiers.append(dossier)
        }
        try await pipeline.submit(dossiers)
        let (life, withdrawn, stopped) = (dossiers[0].id, dossiers[1].id, dossiers[2].id)
        func status(_ dossier: String) throws -> String? {
            try database.connection.query("SELECT status FROM dossier_status WHERE dossier_id = $1", [dossier])
                .first?.decode(String.self, "status")
        }
        func code(_ dossier: String) throws -> String {
            try #require(try pipeline.database.query("SELECT code FROM dossiers WHERE id = $1", [dossier]).first?
                .decode(String.self, "code"))
        }
        let ready = await eventually(timeout: .seconds(120)) {
            try status(life) == "supplement-requested" && status(withdrawn) == "supplement-requested"
                && status(stopped) == "prepared"
        }
        #expect(ready, "\(pipeline.logs())")

        // The portal supplements the promotion's value (a fact the procedure declares), signed with its service key
        // as the portal would send it: evaluated again, approved by the rules, and the fee is requested.
        let portalPrincipal = try registry.official("portal")
        let portal = portalPrincipal.key, portalCertificate = portalPrincipal.certificate
        let supplement = ApplicantSupplement(
            commandId: UUID(), dossierId: life, step: 0, documents: [],
            facts: ["promotionValuePct": .integer(20)], at: Date())
        try await pipeline.producer.send(KafkaOutgoingMessage(
            topic: pipeline.topics.department(Self.department), key: life,
            value: try SignedCommands.encode(
                supplement, type: MessageType.supplement, department: Self.department, principal: "portal",
                certificate: portalCertificate.sha256, key: portal),
            headers: [KafkaHeader("ce_type", MessageType.supplement)]))
        let feeRequested = await eventually(timeout: .seconds(120)) { try status(life) == "fee-requested" }
        #expect(feeRequested, "\(pipeline.logs())")

        // Paid online through the national portal (the gateway signs): the approval that waited takes effect.
        let pay = try await motcua(
            ["pay", life, "--amount", String(Self.fee), "--receipt", "VNPAY-2026-LIFE-1", "--channel", "national-portal",
             "--gateway", "payment-gateway", "--gateway-key", key("payment-gateway"), "--wait", "--timeout", "90"])
        #expect(pay.status == 0 && pay.output.contains("paid: \(Self.fee)"), "\(pay.output)")
        let decided = await eventually(timeout: .seconds(120)) { try status(life) == "decided" }
        #expect(decided, "\(pipeline.logs())")
        let returned = try await motcua(["return-result", try code(life)])
        #expect(returned.status == 0, "\(returned.output)")

        // The applicant withdraws the other promotion while its supplement is requested.
        let withdraw = try await motcua(
            ["withdraw", withdrawn, "--reason", "no longer needed", "--channel", "desk-1", "--key", key("desk-1"), "--wait"],
            secret: secrets[withdrawn])
        #expect(withdraw.status == 0, "\(withdraw.output)")

        // The specialist drafts a stop notice for the retail licence; the director approves it.
        let director = "\(Self.department)-director", specialist = "\(Self.department)-specialist"
        let draft = try await motcua(
            ["review", "draft", "stop", try code(stopped), "--reason", "the applicant asked in writing to stop",
             "--official", specialist, "--department", Self.department.rawValue, "--key", key(specialist), "--wait",
             "--timeout", "120"])
        #expect(draft.status == 0, "\(draft.output)")
        let approve = try await motcua(
            ["review", "approve-draft", try code(stopped), "--official", director, "--department",
             Self.department.rawValue, "--key", key(director), "--wait", "--timeout", "120"])
        #expect(approve.status == 0 && approve.output.contains("approved and sent"), "\(approve.output)")

        let settled = await eventually(timeout: .seconds(120)) {
            try status(life) == "result-returned" && status(withdrawn) == "withdrawn" && status(stopped) == "stopped"
        }
        #expect(settled, "\(pipeline.logs())")

        // Every portal record the coordinator produced is relayed; then the topic is read to its end.
        let relayed = await eventually(timeout: .seconds(120)) {
            try pipeline.count("SELECT count(*) FROM outbox WHERE topic = $1 AND sent_at IS NULL", [pipeline.topics.portalSync]) == 0
        }
        #expect(relayed)
        let records = try Self.readToEnd(pipeline.topics.portalSync, pipeline: pipeline)
        let ids = Set([life, withdrawn, stopped])
        let ours = records.filter { ids.contains($0.dossierId) }
        #expect(Set(ours.map(\.recordId)).count == ours.count, "a record appears twice: \(ours.map(\.recordId))")
        #expect(try pipeline.count(
            "SELECT count(*) FROM portal_sync_records WHERE dossier_id = ANY($1::text[])", [Array(ids)]) == ours.count)
        func codes(_ dossier: String) -> [Int] { ours.filter { $0.dossierId == dossier }.map(\.statusCode.rawValue) }
        #expect(codes(life) == [2, 4, 5, 4, 6, 4, 9, 10], "\(codes(life))")
        #expect(codes(withdrawn) == [2, 4, 5, 7], "\(codes(withdrawn))")
        #expect(codes(stopped) == [2, 4, 8], "\(codes(stopped))")

        // The dated fields, as the portal reads them.
        let received = try #require(try pipeline.database.query(
            "SELECT received_at, due_date::text AS due FROM dossiers WHERE id = $1", [life]).first)
        let receivedAt = try received.decode(Date.self, "received_at")
        let firstDue = try received.decode(String.self, "due")
        let lifeRecords = ours.filter { $0.dossierId == life }
        for record in ours {
            #expect(record.code != nil && record.procedure != nil && record.agency != nil, "\(record)")
            #expect(record.receivedAt != nil && record.appointmentDate != nil, "\(record)")
            #expect(record.channel == (record.dossierId == stopped ? .desk : .online), "\(record)")
        }
        // In order of their instants, each after the receipt.
        #expect(lifeRecords.map(\.statusAt) == lifeRecords.map(\.statusAt).sorted())
        #expect(lifeRecords.allSatisfy { abs($0.receivedAt?.timeIntervalSince(receivedAt) ?? 99) < 0.001 })
        #expect(lifeRecords.allSatisfy { $0.statusAt >= receivedAt.addingTimeInterval(-0.001) })
        // The national procedure code of the catalogue (2.000131 is national 2.000004).
        #expect(lifeRecords.allSatisfy { $0.procedure == "2.000004" }, "\(lifeRecords.map(\.procedure))")
        // The appointment date: reception's, moved (never earlier) by the pauses.
        #expect(lifeRecords.first?.appointmentDate == firstDue)
        #expect(lifeRecords.allSatisfy { ($0.appointmentDate ?? "") >= firstDue })
        // The fee on its request and every record after it; paid online through the national portal (1) once paid.
        let feeIndex = try #require(lifeRecords.firstIndex { $0.statusCode == .financialObligation })
        #expect(lifeRecords[..<feeIndex].allSatisfy { $0.fee == nil && $0.paidOnline == nil })
        #expect(lifeRecords[feeIndex...].allSatisfy { $0.fee == Self.fee }, "\(lifeRecords.map(\.fee))")
        #expect(lifeRecords[feeIndex].paidOnline == nil)
        #expect(lifeRecords[(feeIndex + 1)...].allSatisfy { $0.paidOnline == 1 }, "\(lifeRecords.map(\.paidOnline))")
        // End of processing and outcome on 9 and 10 (the decision's instant), returnedAt on 10 only.
        let decision = try #require(lifeRecords.first { $0.statusCode == .decided })
        let returnedRecord = try #require(lifeRecords.first { $0.statusCode == .resultReturned })
        func same(_ a: Date?, _ b: Date?) -> Bool { a.flatMap { a in b.map { abs(a.timeIntervalSince($0)) < 0.002 } } ?? false }
        #expect(same(decision.finishedAt, decision.statusAt) && decision.outcome == "approve", "\(decision)")
        #expect(returnedRecord.finishedAt == decision.finishedAt && returnedRecord.outcome == "approve")
        #expect(same(returnedRecord.returnedAt, returnedRecord.statusAt) && decision.returnedAt == nil)
        #expect(lifeRecords.filter { $0.finishedAt != nil }.map(\.statusCode) == [.decided, .resultReturned])
        // A stop notice ends processing (the 766 progress rule ends a stopped dossier at it): finishedAt on code 8,
        // no outcome; a withdrawal request does not.
        let stop = try #require(ours.first { $0.dossierId == stopped && $0.statusCode == .stopped })
        #expect(same(stop.finishedAt, stop.statusAt) && stop.outcome == nil, "\(stop)")
        #expect(ours.filter { $0.dossierId == withdrawn }.allSatisfy { $0.finishedAt == nil })
    }

    /// Every portal record on `topic`, read from the beginning of each partition to its high watermark, in
    /// partition order (records of one dossier share a partition, in order).
    static func readToEnd(_ topic: String, pipeline: Pipeline) throws -> [PortalRecord] {
        let partitions = try pipeline.admin.metadata(topic: topic).first?.partitions.map(\.id) ?? []
        var ends: [Int32: Int64] = [:]
        for partition in partitions { ends[partition] = try pipeline.admin.watermarks(TopicPartition(topic, partition)).high }
        var config = KafkaConsumerConfiguration(
            client: KafkaClientOptions(bootstrapServers: try TestEnvironment.kafkaBootstrap()), groupID: nil)
        config.offsetReset = .earliest
        let consumer = try KafkaConsumer(configuration: config, logger: TestEnvironment.logger)
        defer { consumer.close() }
        try consumer.assign(Dictionary(uniqueKeysWithValues: partitions.map { (TopicPartition(topic, $0), KafkaOffset.beginning) }))
        var read: [Int32: [KafkaMessage]] = [:]
        let decoder = MessageCoding.decoder()
        let deadline = Date().addingTimeInterval(60)
        while partitions.contains(where: { (read[$0]?.last?.offset ?? -1) + 1 < ends[$0] ?? 0 }), Date() < deadline {
            for message in try consumer.pollBatch(maxMessages: 500, timeout: .milliseconds(200)) {
                read[message.partition, default: []].append(message)
            }
        }
        return try partitions.flatMap { read[$0] ?? [] }.map {
            try decoder.decode(PortalRecord.self, from: Data($0.value))
        }
    }
}
