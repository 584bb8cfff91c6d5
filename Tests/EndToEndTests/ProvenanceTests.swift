import Authority
import EffectivelyOnce
import Foundation
import Kafka
import Messages
import Postgres
import TestSupport
import Testing

/// Issue 18's attacks 2, 3 and 6 (in part) through the real reception, labour worker and relay: forged step tasks,
/// forged supplements and a withdrawal of a dossier that was never received, produced as kcat would (raw bytes on
/// the department topic). Each is refused with its reason and nothing changes.
@Suite("Provenance: step tasks, supplements, withdrawals", .serialized)
struct ProvenanceTests: SignedCommandSuite {
    /// Produces `value` (MessageCoding's JSON) on `topic`, with a `ce_type` header unless `type` is nil.
    static func produce<T: Encodable>(
        _ value: T, type: String?, topic: String, key: String, pipeline: Pipeline
    ) async throws {
        try await pipeline.producer.send(KafkaOutgoingMessage(
            topic: topic, key: key, value: Array(try MessageCoding.encoder().encode(value)),
            headers: type.map { [KafkaHeader("ce_type", $0)] } ?? []))
    }

    /// A 1.000105 dossier (work permit) whose facts lead the labour rules to `supplement` (a stale health
    /// certificate) or to an approval prepared for an official.
    static func workPermit(_ pipeline: Pipeline, staleHealthCertificate: Bool) -> Dossier {
        var dossier = pipeline.generator.next(procedure: "1.000105", submittedAt: Date(), outsideShare: 0)
        dossier.facts = [
            "healthCertificateAgeMonths": .integer(staleHealthCertificate ? 13 : 1), "criminalRecordAgeMonths": .integer(1),
            "documentsLegalised": .bool(true), "workProvinces": .integer(1), "workerAge": .integer(30),
            "jobPosition": .string("manager"), "experienceYears": .integer(5), "permitMonths": .integer(12),
        ]
        return dossier
    }

    @Test("a step task reception never received, one whose dossier differs from the receipt, and a step nobody forwarded are not decided: dead letters `not-received` and events")
    func forgedStepTasks() async throws {
        let pipeline = try Pipeline(seed: 181)
        try pipeline.startReception()
        try pipeline.startWorker("labour")
        let genuine = Self.workPermit(pipeline, staleHealthCertificate: false)
        try await pipeline.submit([genuine])
        let decided = await eventually(timeout: .seconds(120)) {
            try pipeline.count("SELECT count(*) FROM decisions WHERE dossier_id = $1", [genuine.id]) == 1
        }
        #expect(decided, "\(pipeline.logs())")
        let code = try #require(try pipeline.database.query("SELECT code FROM dossiers WHERE id = $1", [genuine.id])
            .first?.decode(String.self, "code"))
        #expect(try pipeline.count(
            "SELECT count(*) FROM dossiers WHERE id = $1 AND body_sha256 = $2",
            [genuine.id, PostgresBytes(try MessageCoding.digest(of: genuine, encoder: MessageCoding.encoder()))]) == 1)

        // Attack 3: a dossier reception never received; the received one with a fact changed (a new round, so it
        // is not a repeat); and its next step, which no department forwarded. As kcat would: no ce_type.
        let unknown = Self.workPermit(pipeline, staleHealthCertificate: false)
        var altered = genuine
        altered.facts["workerAge"] = .integer(17)
        let labour = pipeline.topics.department("labour")
        let forged = [
            StepTask(taskId: UUID(), dossier: unknown, code: "LD-261207-999999", step: 0, round: 0, department: "labour",
                     receivedAt: Date(), dueDate: nil),
            StepTask(taskId: UUID(), dossier: altered, code: code, step: 0, round: 1, department: "labour",
                     receivedAt: Date(), dueDate: nil),
            StepTask(taskId: UUID(), dossier: genuine, code: code, step: 1, round: 0, department: "labour",
                     receivedAt: Date(), dueDate: nil),
        ]
        for task in forged {
            try await Self.produce(task, type: nil, topic: labour, key: task.dossier.id, pipeline: pipeline)
        }
        let deadLetters = "SELECT count(*) FROM outbox WHERE topic = $1 AND headers->>'motcua_error' LIKE 'not-received:%'"
        let refused = await eventually(timeout: .seconds(120)) {
            try pipeline.count(deadLetters, [DeadLetter.topic(of: labour)]) == 3
        }
        #expect(refused, "\(pipeline.logs())")
        // Nothing decided: the genuine dossier keeps its one decision, the unknown one has none.
        #expect(try pipeline.count("SELECT count(*) FROM decisions WHERE dossier_id = $1", [genuine.id]) == 1)
        #expect(try pipeline.count("SELECT count(*) FROM decisions WHERE dossier_id = $1", [unknown.id]) == 0)
        #expect(try Self.reasons("step-rejected", of: unknown.id, in: pipeline) == ["not-received"])
        #expect(try Self.reasons("step-rejected", of: genuine.id, in: pipeline) == ["not-received", "not-received"])
        // The genuine task delivered again is a repeat (skipped), not a refusal.
        let again = StepTask(taskId: StableID.make("step", genuine.id, "0", "0"), dossier: genuine, code: code, step: 0,
                             round: 0, department: "labour", receivedAt: Date(), dueDate: nil)
        try await Self.produce(again, type: MessageType.step, topic: labour, key: genuine.id, pipeline: pipeline)
        let marker = Self.workPermit(pipeline, staleHealthCertificate: false)
        try await pipeline.submit([marker])
        let markerDecided = await eventually(timeout: .seconds(120)) {
            try pipeline.count("SELECT count(*) FROM decisions WHERE dossier_id = $1", [marker.id]) == 1
        }
        #expect(markerDecided, "\(pipeline.logs())")
        #expect(try pipeline.count(deadLetters, [DeadLetter.topic(of: labour)]) == 3)
        #expect(try pipeline.count("SELECT count(*) FROM decisions WHERE dossier_id = $1", [genuine.id]) == 1)
    }

    @Test("supplements: only for an open request on an open step, with the procedure's documents and declared facts; a withdrawal of a dossier never received is refused and not recorded")
    func applicantsCommands() async throws {
        let pipeline = try Pipeline(seed: 182)
        try pipeline.startReception()
        try pipeline.startWorker("labour")
        let requested = Self.workPermit(pipeline, staleHealthCertificate: true)  // supplement
        let prepared = Self.workPermit(pipeline, staleHealthCertificate: false)  // approve, for an official
        var reissue = pipeline.generator.next(procedure: "1.000459", submittedAt: Date(), outsideShare: 0)
        reissue.facts = ["reissueReason": .string("lost")]  // approved automatically: decided for good
        try await pipeline.submit([requested, prepared, reissue])
        let decided = await eventually(timeout: .seconds(120)) {
            try pipeline.count("SELECT count(*) FROM decisions WHERE dossier_id = ANY($1::text[])",
                               [[requested.id, prepared.id, reissue.id]]) == 3
        }
        #expect(decided, "\(pipeline.logs())")
        #expect(try pipeline.count(
            "SELECT count(*) FROM decisions WHERE dossier_id = $1 AND outcome = 'supplement'", [requested.id]) == 1)
        let labour = pipeline.topics.department("labour")
        func supplement(_ dossier: Dossier, documents: [String] = [], facts: [String: FactValue]?) async throws {
            let command = ApplicantSupplement(
                commandId: UUID(), dossierId: dossier.id, step: 0, documents: documents, facts: facts, at: Date())
            try await Self.produce(command, type: MessageType.supplement, topic: labour, key: dossier.id, pipeline: pipeline)
        }
        // Attack 2: facts that would turn the decision, sent for dossiers that asked for nothing.
        try await supplement(prepared, facts: ["workerAge": .integer(30)])
        try await supplement(reissue, facts: ["reissueReason": .string("damaged")])
        // For the open request: a document of another procedure, a fact the procedure does not declare.
        try await supplement(requested, documents: ["fire-safety-certificate"], facts: ["healthCertificateAgeMonths": .integer(1)])
        try await supplement(requested, facts: ["capitalVnd": .integer(1), "healthCertificateAgeMonths": .integer(1)])
        // Attack 6: a withdrawal of a dossier that was never received.
        let nowhere = UUID().uuidString.lowercased()
        try await Self.produce(
            Withdrawal(commandId: UUID(), dossierId: nowhere, reason: "forged", at: Date()), type: MessageType.withdraw,
            topic: labour, key: nowhere, pipeline: pipeline)
        let refused = await eventually(timeout: .seconds(120)) {
            try Self.reasons("supplement-rejected", of: requested.id, in: pipeline).count == 2
                && (try Self.reasons("supplement-rejected", of: prepared.id, in: pipeline).count == 1)
                && (try Self.reasons("supplement-rejected", of: reissue.id, in: pipeline).count == 1)
                && (try Self.reasons("withdrawal-rejected", of: nowhere, in: pipeline).count == 1)
        }
        #expect(refused, "\(pipeline.logs())")
        #expect(try Self.reasons("supplement-rejected", of: prepared.id, in: pipeline)
            == ["no supplement was requested for round 0 of step 0"])
        #expect(try Self.reasons("supplement-rejected", of: reissue.id, in: pipeline)
            == ["the step is closed: it was decided (approve)"])
        #expect(try Self.reasons("supplement-rejected", of: requested.id, in: pipeline) == [
            "documents not of procedure 1.000105: fire-safety-certificate",
            "facts procedure 1.000105 does not declare: capitalVnd",
        ])
        #expect(try Self.reasons("withdrawal-rejected", of: nowhere, in: pipeline)
            == ["no dossier with this id was received by labour"])
        // Nothing changed: one decision each, bodies as received, no withdrawal recorded.
        #expect(try pipeline.count("SELECT count(*) FROM decisions WHERE dossier_id = ANY($1::text[])",
                                   [[requested.id, prepared.id, reissue.id]]) == 3)
        #expect(try pipeline.count("SELECT count(*) FROM withdrawals WHERE dossier_id = $1", [nowhere]) == 0)
        #expect(try pipeline.count(
            "SELECT count(*) FROM dossiers WHERE id = $1 AND body->'facts'->>'workerAge' = '30'", [prepared.id]) == 1)

        // The open request answered as the procedure allows: a new round, decided; then no request is open.
        try await supplement(requested, documents: ["health-certificate"], facts: ["healthCertificateAgeMonths": .integer(1)])
        let resumed = await eventually(timeout: .seconds(120)) {
            try pipeline.count("SELECT count(*) FROM decisions WHERE dossier_id = $1 AND round = 1", [requested.id]) == 1
        }
        #expect(resumed, "\(pipeline.logs())")
        #expect(try pipeline.count(
            "SELECT count(*) FROM dossiers WHERE id = $1 AND body_sha256 = $2",
            [requested.id, PostgresBytes(try MessageCoding.digest(of: {
                var d = requested
                d.facts["healthCertificateAgeMonths"] = .integer(1)
                return d
            }(), encoder: MessageCoding.encoder()))]) == 1)
        try await supplement(requested, facts: ["healthCertificateAgeMonths": .integer(2)])
        let answered = await eventually(timeout: .seconds(120)) {
            try Self.reasons("supplement-rejected", of: requested.id, in: pipeline).count == 3
        }
        #expect(answered, "\(pipeline.logs())")
        #expect(try Self.reasons("supplement-rejected", of: requested.id, in: pipeline).last
            == "no supplement was requested for round 1 of step 0")
        #expect(try pipeline.count("SELECT count(*) FROM decisions WHERE dossier_id = $1", [requested.id]) == 2)
    }

    @Test("audit replay names a decision written straight into PostgreSQL for a step task reception never received (not-received, exit 1)")
    func auditNamesNotReceived() async throws {
        let department = AuditReplayTests.department
        let database = try TestDatabase("provaudit")
        defer { database.drop() }
        let pipeline = try Pipeline(databaseURL: database.url, seed: 183)
        try pipeline.startReception()
        try pipeline.startWorker(department)
        let topic = pipeline.topics.department(department)
        let group = pipeline.group(department)
        let starts = Dictionary(uniqueKeysWithValues: try database.connection.query(
            "SELECT partition, next_offset FROM consumer_offsets WHERE consumer_group = $1 AND topic = $2", [group, topic]
        ).map { (try $0.decode(Int.self, "partition"), try $0.decode(Int64.self, "next_offset")) })
        let procedure = try #require(pipeline.bundle.catalogue.procedures(ownedBy: department).first {
            $0.steps.first?.department ?? $0.department == department
        })
        var dossiers: [Dossier] = []
        for _ in 0..<6 {
            dossiers.append(pipeline.generator.next(procedure: procedure.code, submittedAt: Date(), outsideShare: 0))
        }
        try await pipeline.submit(dossiers)
        let ids = dossiers.map(\.id)
        let decided = await eventually(timeout: .seconds(120)) {
            try pipeline.count("SELECT count(*) FROM decisions WHERE dossier_id = ANY($1::text[])", [ids]) == ids.count
        }
        try #require(decided, "\(pipeline.logs())")

        // The forgery: a step task for a dossier reception never received (a copy of a decided one under a new id,
        // so that re-deriving it agrees), refused by the worker, then its decision written straight into
        // PostgreSQL as the schema owner, citing that message.
        let genuine = dossiers[0]
        var copy = genuine
        copy.id = UUID().uuidString.lowercased()
        let forged = StepTask(taskId: UUID(), dossier: copy, code: "XX-261207-000001", step: 0, round: 0,
                              department: department, receivedAt: Date(), dueDate: nil)
        let delivered = try await pipeline.producer.send(KafkaOutgoingMessage(
            topic: topic, key: copy.id, value: Array(try MessageCoding.encoder().encode(forged)), headers: []))
        let refused = await eventually(timeout: .seconds(120)) {
            try pipeline.count(
                "SELECT count(*) FROM outbox WHERE topic = $1 AND key = $2 AND headers->>'motcua_error' LIKE 'not-received:%'",
                [DeadLetter.topic(of: topic), copy.id]) == 1
        }
        try #require(refused, "\(pipeline.logs())")
        try database.connection.execute(
            """
            INSERT INTO decisions (dossier_id, step, round, department, procedure, outcome, review, rule_id, rule_version,
                                   delegation_id, delegation_version, escalation_reason, forward_to, decided_at,
                                   source_topic, source_partition, source_offset, explanation_id)
            SELECT $1, 0, 0, department, procedure, outcome, review, rule_id, rule_version, delegation_id,
                   delegation_version, escalation_reason, forward_to, decided_at, $2, $3, $4, explanation_id
            FROM decisions WHERE dossier_id = $5 AND step = 0 AND round = 0
            """, [copy.id, topic, Int(delivered.partition), delivered.offset, genuine.id])

        let ends = try database.connection.query(
            """
            SELECT source_partition, max(source_offset) + 1 AS end FROM decisions
            WHERE dossier_id = ANY($1::text[]) AND source_topic = $2 GROUP BY source_partition
            """, [ids + [copy.id], topic]
        ).map { (try $0.decode(Int.self, "source_partition"), try $0.decode(Int64.self, "end")) }
        let offsets = ends.map { "\($0.0)=\(starts[$0.0] ?? 0)-\($0.1)" }
        let replay = try await AuditReplayTests.replay([], database: database, topics: pipeline.topics, offsets: offsets)
        #expect(replay.run.status == 1, "\(replay.run)")
        #expect(replay.dossiers("not-received") == [copy.id], "\(replay.findings.prefix(5))")
        #expect(replay.findings("not-received").first?["detail"] as? String == "reception has no receipt of this dossier")
        #expect(replay.differences == 1, "\(replay.findings.prefix(5))")
    }

    /// Every message on `topics` up to their high watermarks, read from the start.
    static func everything(on topics: [String], pipeline: Pipeline) throws -> [KafkaMessage] {
        let consumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(
                client: KafkaClientOptions(bootstrapServers: try TestEnvironment.kafkaBootstrap()), groupID: nil),
            logger: TestEnvironment.logger)
        defer { consumer.close() }
        var ends: [TopicPartition: Int64] = [:]
        for topic in topics {
            for partition in try pipeline.admin.metadata(topic: topic).first?.partitions ?? [] {
                let marks = try pipeline.admin.watermarks(TopicPartition(topic, partition.id))
                if marks.high > marks.low { ends[TopicPartition(topic, partition.id)] = marks.high }
            }
        }
        try consumer.assign(Dictionary(uniqueKeysWithValues: ends.keys.map { ($0, KafkaOffset(0)) }))
        var messages: [KafkaMessage] = []
        var done = Set<TopicPartition>()
        let deadline = ContinuousClock.now + .seconds(60)
        while done.count < ends.count, ContinuousClock.now < deadline {
            for message in try consumer.pollBatch(maxMessages: 500, timeout: .milliseconds(200)) {
                let partition = TopicPartition(message.topic, message.partition)
                messages.append(message)
                if message.offset + 1 >= ends[partition] ?? 0 { done.insert(partition) }
            }
        }
        #expect(done.count == ends.count, "read \(done.count) of \(ends.count) partitions")
        return messages
    }

    @Test("the receipt secret `motcua submit` prints is on no topic, in no log, in no table; its hash withdraws the dossier")
    func receiptSecretNowhere() async throws {
        let pipeline = try Pipeline(seed: 184)
        try pipeline.startReception()
        try pipeline.startWorker("labour")
        var dossier = Self.workPermit(pipeline, staleHealthCertificate: false)
        dossier.channel = .counter
        let line = String(decoding: try MessageCoding.encoder().encode(dossier), as: UTF8.self)
        var environment = pipeline.processEnvironment
        environment["MOTCUA_TOPIC_PREFIX"] = pipeline.topics.prefix
        let submitted = try await CommandRun.run("motcua", ["submit", "-"], environment: environment, stdin: line + "\n")
        #expect(submitted.status == 0, "\(submitted)")
        let secret = try #require(submitted.stdout.components(separatedBy: "receipt secret ").last?
            .trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(secret.count == 43, "\(submitted.stdout)")
        let decided = await eventually(timeout: .seconds(120)) {
            try pipeline.count("SELECT count(*) FROM decisions WHERE dossier_id = $1", [dossier.id]) == 1
        }
        #expect(decided, "\(pipeline.logs())")
        #expect(try pipeline.count(
            "SELECT count(*) FROM dossiers WHERE id = $1 AND encode(receipt_secret_sha256, 'hex') = $2",
            [dossier.id, ReceiptSecret.sha256(of: secret)]) == 1)
        let withdrawn = try await CommandRun.run(
            "motcua", ["withdraw", dossier.id, "--secret-file", "-"], environment: environment, stdin: secret + "\n")
        #expect(withdrawn.status == 0, "\(withdrawn)")
        let recorded = await eventually(timeout: .seconds(120)) {
            try pipeline.count("SELECT count(*) FROM withdrawals WHERE dossier_id = $1", [dossier.id]) == 1
        }
        #expect(recorded, "\(pipeline.logs())")

        let topics = [pipeline.topics.intake, pipeline.topics.department("labour"), pipeline.topics.events]
        let messages = try Self.everything(on: topics + topics.map { DeadLetter.topic(of: $0) }, pipeline: pipeline)
        #expect(messages.contains { String(decoding: $0.key ?? [], as: UTF8.self) == dossier.id })
        let needle = Array(secret.utf8)
        func holds(_ bytes: [UInt8]) -> Bool { bytes.count >= needle.count && String(decoding: bytes, as: UTF8.self).contains(secret) }
        for message in messages {
            #expect(!holds(message.value) && !holds(message.key ?? []), "\(message.topic)@\(message.offset) holds the secret")
            for header in message.headers { #expect(!holds(header.value ?? []), "header \(header.name) holds the secret") }
        }
        for (name, log) in [("services", pipeline.logs()), ("submit stderr", submitted.stderr), ("withdraw", withdrawn.stdout + withdrawn.stderr)] {
            #expect(!log.contains(secret), "the \(name) log holds the secret")
        }
        #expect(try pipeline.count(
            """
            SELECT (SELECT count(*) FROM outbox WHERE position(convert_to($1, 'UTF8') IN payload) > 0
                        OR headers::text LIKE '%' || $1 || '%')
                 + (SELECT count(*) FROM dossiers WHERE body::text LIKE '%' || $1 || '%')
            """, [secret]) == 0)
    }
}
