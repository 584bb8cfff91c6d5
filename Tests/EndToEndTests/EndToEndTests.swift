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

/// The whole pipeline as real processes: devbroker → reception → department workers → PostgreSQL.
@Suite("End to end", .serialized)
struct EndToEndTests {
    @Test("dossiers of every department go through reception to a decision row, interconnected ones in order")
    func everyDepartment() async throws {
        let pipeline = try Pipeline(seed: 11)
        try pipeline.startReception()
        for department in TestTopics.departments { try pipeline.startWorker(department) }
        var dossiers: [Dossier] = []
        for department in TestTopics.departments {
            for _ in 0..<4 { dossiers.append(pipeline.generator.next(department: department, submittedAt: Date())) }
        }
        // An interconnected procedure: an environmental step, then the industry-trade licence.
        var interconnected = pipeline.generator.next(procedure: "2.000581", submittedAt: Date(), outsideShare: 0)
        interconnected.facts["hasWastewaterTreatment"] = .bool(true)
        dossiers.append(interconnected)
        try await pipeline.submit(dossiers)
        let ids = dossiers.map(\.id)
        let done = await eventually(timeout: .seconds(90)) { try pipeline.completed(ids) == ids.count }
        #expect(done, "completed \((try? pipeline.completed(ids)) ?? -1) of \(ids.count)\n\(pipeline.logs())")

        // Each decision was made by the department of its step.
        for dossier in dossiers {
            let procedure = try #require(pipeline.bundle.catalogue.procedure(dossier.procedure))
            for row in try pipeline.database.query(
                "SELECT step, department FROM decisions WHERE dossier_id = $1 ORDER BY step", [dossier.id])
            {
                let step = try row.decode(Int.self, "step")
                #expect(try row.decode(String.self, "department") == procedure.steps[step].department.rawValue)
            }
        }
        let steps = try pipeline.database.query(
            "SELECT step, department, outcome, decided_at FROM decisions WHERE dossier_id = $1 ORDER BY step",
            [interconnected.id])
        #expect(steps.count == 2)
        #expect(try steps[0].decode(String.self, "department") == "environment")
        #expect(try steps[0].decode(String.self, "outcome") == "forward")
        #expect(try steps[1].decode(String.self, "department") == "industry-trade")
        #expect(try steps[0].decode(Date.self, "decided_at") <= steps[1].decode(Date.self, "decided_at"))

        // Every dossier was received with a code and a due date, and its events were published.
        #expect(try pipeline.count(
            "SELECT count(*) FROM dossiers WHERE id = ANY($1::text[]) AND status = 'received' AND code ~ '^[A-Z0-9]+-[0-9]{6}-[0-9]{6}$' AND due_date IS NOT NULL",
            [ids]) == ids.count)
        let published = await eventually(timeout: .seconds(30)) {
            try pipeline.count("SELECT count(*) FROM outbox WHERE key = ANY($1::text[]) AND sent_at IS NULL", [ids]) == 0
        }
        #expect(published)
    }

    @Test("the same dossier submitted twice is received once and decided once")
    func duplicateSubmission() async throws {
        let pipeline = try Pipeline(seed: 12)
        try pipeline.startReception()
        try pipeline.startWorker("labour")
        let dossier = pipeline.generator.next(department: "labour", submittedAt: Date())
        try await pipeline.submit([dossier])
        try await pipeline.submit([dossier, dossier])
        let decided = await eventually(timeout: .seconds(60)) { try pipeline.completed([dossier.id]) == 1 }
        #expect(decided, "\(pipeline.logs())")
        try await Task.sleep(for: .seconds(2))
        #expect(try pipeline.count("SELECT count(*) FROM dossiers WHERE id = $1", [dossier.id]) == 1)
        #expect(try pipeline.decisionCounts([dossier.id]) == ["\(dossier.id)/0": 1])
        #expect(try pipeline.count(
            "SELECT count(*) FROM outbox WHERE key = $1 AND topic = $2", [dossier.id, pipeline.topics.department("labour")]) == 1)
    }

    @Test("poison messages land in the dead-letter topic with their reason while the good ones are decided")
    func poisonMessages() async throws {
        let pipeline = try Pipeline(seed: 13)
        try pipeline.startReception()
        try pipeline.startWorker("culture")
        let good = (0..<6).map { _ in pipeline.generator.next(department: "culture", submittedAt: Date()) }
        let encoder = JSONEncoder()
        var wrongChannel = try JSONSerialization.jsonObject(with: encoder.encode(good[0])) as! [String: Any]
        wrongChannel["id"] = UUID().uuidString.lowercased()
        wrongChannel["channel"] = "fax"
        let poison: [[UInt8]] = [
            Array("not json at all {".utf8),
            Array(try JSONSerialization.data(withJSONObject: wrongChannel)),
            Array(#"{"id": 42}"#.utf8),
        ]
        for (index, dossier) in good.enumerated() {
            try pipeline.producer.produce(KafkaOutgoingMessage(
                topic: pipeline.topics.intake, key: dossier.id, value: Array(try encoder.encode(dossier))))
            if index < poison.count {
                try pipeline.producer.produce(KafkaOutgoingMessage(topic: pipeline.topics.intake, key: "poison-\(index)", value: poison[index]))
            }
        }
        try pipeline.producer.flush()
        let ids = good.map(\.id)
        let decided = await eventually(timeout: .seconds(60)) { try pipeline.completed(ids) == ids.count }
        #expect(decided, "\(pipeline.logs())")
        let rows = try pipeline.database.query(
            """
            SELECT key, headers->>'motcua_error' AS error, headers->>'motcua_source_offset' AS offset FROM outbox
            WHERE topic = $1 AND key LIKE 'poison-%' AND created_at > now() - interval '5 minutes'
            ORDER BY key
            """, [Topics.deadLetter(of: pipeline.topics.intake)])
        let keys = try rows.map { try $0.decode(String.self, "key") }
        #expect(Set(keys).isSuperset(of: ["poison-0", "poison-1", "poison-2"]))
        for row in rows {
            let error = try row.decode(String.self, "error")
            #expect(error.contains("invalid intake dossier"))
            #expect(try row.decodeIfPresent(String.self, "offset") != nil)
        }
        let channelError = try rows.first { try $0.decode(String.self, "key") == "poison-1" }?.decode(String.self, "error")
        #expect(channelError?.contains("channel") == true, "\(channelError ?? "")")
        // The relay published them to the dead-letter topic.
        let published = await eventually(timeout: .seconds(30)) {
            try pipeline.count(
                "SELECT count(*) FROM outbox WHERE topic = $1 AND key LIKE 'poison-%' AND sent_at IS NULL",
                [Topics.deadLetter(of: pipeline.topics.intake)]) == 0
        }
        #expect(published)
    }

    @Test("an official signs a prepared decision; an official of another department cannot")
    func officialsSign() async throws {
        let pipeline = try Pipeline(seed: 14)
        try pipeline.startReception()
        try pipeline.startWorker("industry-trade")
        // Approved by the default rule, prepared for an official (review: official). (Not the tobacco retail licence
        // any more: it moved to the communes on 2025-07-01, and reception refuses it.)
        let dossier = try await pipeline.submitForOfficials(1)[0]
        let prepared = await eventually(timeout: .seconds(60)) {
            try pipeline.count("SELECT count(*) FROM decisions WHERE dossier_id = $1 AND review = 'official' AND outcome IN ('approve', 'refuse')", [dossier.id]) == 1
        }
        #expect(prepared, "\(pipeline.logs())")
        let encoder = MessageCoding.encoder()
        let intruder = SignCommand(
            commandId: UUID(), dossierId: dossier.id, step: 0, official: Official(id: "official-lb-7", department: "labour"),
            decision: .approve, reason: nil, at: Date())
        let official = SignCommand(
            commandId: UUID(), dossierId: dossier.id, step: 0, official: Official(id: "official-ct-1", department: "industry-trade"),
            decision: .approve, reason: "Đủ điều kiện", at: Date())
        for command in [intruder, official] {
            try await pipeline.producer.send(KafkaOutgoingMessage(
                topic: pipeline.topics.department("industry-trade"), key: dossier.id, value: Array(try encoder.encode(command)),
                headers: [KafkaHeader("ce_type", MessageType.sign)]))
        }
        let signed = await eventually(timeout: .seconds(60)) {
            try pipeline.count("SELECT count(*) FROM decisions WHERE dossier_id = $1 AND signed_by = 'official-ct-1'", [dossier.id]) == 1
        }
        #expect(signed, "\(pipeline.logs())")
        let rejection = try pipeline.database.query(
            "SELECT convert_from(payload, 'UTF8')::jsonb->'data'->>'reason' AS reason FROM outbox WHERE key = $1 AND convert_from(payload, 'UTF8')::jsonb->>'type' = 'signature-rejected'",
            [dossier.id])
        #expect(rejection.count == 1)
        #expect(try rejection.first?.decode(String.self, "reason").contains("labour") == true)
    }

    @Test("SIGTERM drains and exits cleanly within the drain time")
    func gracefulShutdown() async throws {
        let pipeline = try Pipeline(seed: 15)
        let worker = try pipeline.startWorker("environment", extra: ["--metrics-port", "0", "--metrics-port-file", "/tmp/\(pipeline.suffix).port"])
        let written = await eventually(timeout: .seconds(30)) {
            FileManager.default.fileExists(atPath: "/tmp/\(pipeline.suffix).port")
        }
        #expect(written)
        let portText = try String(contentsOfFile: "/tmp/\(pipeline.suffix).port", encoding: .utf8)
        let port = try #require(Int(portText.trimmingCharacters(in: .whitespacesAndNewlines)))
        let healthy = await eventually(timeout: .seconds(30)) {
            let response = try httpGet(port: port, path: "/health")
            return response.status == 200 && response.body.contains("\"status\":\"ok\"")
        }
        #expect(healthy, "\(worker.log)")
        let metrics = try httpGet(port: port, path: "/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.body.contains("messaging_client_consumed_messages"))
        let started = ContinuousClock.now
        worker.signal(SIGTERM)
        let status = await worker.waitForExit(timeout: .seconds(30))
        #expect(status == 0, "\(worker.log)")
        #expect(ContinuousClock.now - started < .seconds(25))
    }
}
