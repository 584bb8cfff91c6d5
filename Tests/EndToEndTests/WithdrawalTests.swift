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

@Suite("Withdrawal and the end of the lifecycle", .serialized)
struct WithdrawalTests {
    /// Runs `motcua` to its end: its exit status and everything it printed.
    static func motcua(
        _ arguments: [String], pipeline: Pipeline, secret: String? = nil
    ) async throws -> (status: Int32?, output: String) {
        var environment = pipeline.processEnvironment
        environment["MOTCUA_RECEIPT_SECRET"] = secret
        let run = try await CommandRun.run("motcua", arguments, environment: environment)
        return (run.status, run.stdout + run.stderr)
    }

    /// The `type` events of a dossier written to the outbox, with their reasons.
    static func events(_ type: String, of dossier: String, in pipeline: Pipeline) throws -> [String?] {
        try pipeline.database.query(
            """
            SELECT convert_from(payload, 'UTF8')::jsonb->'data'->>'reason' AS reason FROM outbox
            WHERE key = $1 AND topic = $3 AND convert_from(payload, 'UTF8')::jsonb->>'type' = $2
            """, [dossier, type, pipeline.topics.events]
        ).map { try $0.decodeIfPresent(String.self, "reason") }
    }

    @Test("the applicant withdraws a prepared dossier: no signature after it, a second withdrawal is refused; a decided one cannot be withdrawn")
    func withdrawThroughTheCLI() async throws {
        let pipeline = try Pipeline(seed: 21)
        try pipeline.startReception()
        try pipeline.startWorker("industry-trade")
        // Both approved by the default rule and prepared for an official to sign.
        var dossiers: [Dossier] = []
        var secrets: [String: String] = [:]
        for _ in 0..<2 {
            // 2.000620: approved by the default rule, for an official (2.000633 moved to the communes: refused).
            var dossier = pipeline.generator.next(procedure: "2.000620", submittedAt: Date(), outsideShare: 0)
            dossier.channel = .counter
            let receipt = ReceiptSecret.generate()
            dossier.receiptSecretSha256 = receipt.sha256
            secrets[dossier.id] = receipt.secret
            dossiers.append(dossier)
        }
        try await pipeline.submit(dossiers)
        let prepared = await eventually(timeout: .seconds(60)) {
            try pipeline.count(
                "SELECT count(*) FROM decisions WHERE dossier_id = ANY($1::text[]) AND review = 'official'",
                [dossiers.map(\.id)]) == 2
        }
        #expect(prepared, "\(pipeline.logs())")
        let withdrawn = dossiers[0]
        let decided = dossiers[1]
        let code = try #require(try pipeline.database.query("SELECT code FROM dossiers WHERE id = $1", [withdrawn.id])
            .first?.decode(String.self, "code"))

        // Without the applicant's receipt secret, or with another dossier's, nothing is sent.
        let noSecret = try await Self.motcua(["withdraw", code], pipeline: pipeline)
        #expect(noSecret.status != 0)
        #expect(noSecret.output.contains("receipt secret is needed"), "\(noSecret.output)")
        let wrongSecret = try await Self.motcua(["withdraw", code], pipeline: pipeline, secret: secrets[decided.id])
        #expect(wrongSecret.status != 0)
        #expect(wrongSecret.output.contains("does not match"), "\(wrongSecret.output)")

        // By code: the worker records the withdrawal and announces it.
        let first = try await Self.motcua(
            ["withdraw", code, "--reason", "applicant request"], pipeline: pipeline, secret: secrets[withdrawn.id])
        #expect(first.status == 0, "\(first.output)")
        let recorded = await eventually(timeout: .seconds(60)) {
            try pipeline.count("SELECT count(*) FROM withdrawals WHERE dossier_id = $1 AND department = 'industry-trade'",
                               [withdrawn.id]) == 1
        }
        #expect(recorded, "\(pipeline.logs())")
        #expect(try Self.events("withdrawn", of: withdrawn.id, in: pipeline) == ["applicant request"])

        // An official's signature after the withdrawal is refused; the decision stays unsigned.
        let encoder = MessageCoding.encoder()
        let sign = { (dossier: String) in
            SignCommand(
                commandId: UUID(), dossierId: dossier, step: 0,
                official: Official(id: "official-ct-1", department: "industry-trade"), decision: .approve, reason: nil,
                at: Date())
        }
        for command in [sign(withdrawn.id), sign(decided.id)] {
            try await pipeline.producer.send(KafkaOutgoingMessage(
                topic: pipeline.topics.department("industry-trade"), key: command.dossierId,
                value: Array(try encoder.encode(command)), headers: [KafkaHeader("ce_type", MessageType.sign)]))
        }
        let signed = await eventually(timeout: .seconds(60)) {
            try pipeline.count("SELECT count(*) FROM decisions WHERE dossier_id = $1 AND signed_at IS NOT NULL", [decided.id]) == 1
        }
        #expect(signed, "\(pipeline.logs())")
        #expect(try pipeline.count("SELECT count(*) FROM decisions WHERE dossier_id = $1 AND signed_at IS NOT NULL", [withdrawn.id]) == 0)
        #expect(try Self.events("signature-rejected", of: withdrawn.id, in: pipeline)
            == ["the applicant has withdrawn the dossier"])

        // Withdrawing again (by id) and withdrawing the signed dossier: both refused by the worker.
        for dossier in [withdrawn, decided] {
            let result = try await Self.motcua(["withdraw", dossier.id], pipeline: pipeline, secret: secrets[dossier.id])
            #expect(result.status == 0, "\(result.output)")
        }
        let refused = await eventually(timeout: .seconds(60)) {
            try Self.events("withdrawal-rejected", of: withdrawn.id, in: pipeline).count == 1
                && (try Self.events("withdrawal-rejected", of: decided.id, in: pipeline).count == 1)
        }
        #expect(refused, "\(pipeline.logs())")
        #expect(try Self.events("withdrawal-rejected", of: withdrawn.id, in: pipeline) == ["the dossier is already withdrawn"])
        #expect(try Self.events("withdrawal-rejected", of: decided.id, in: pipeline) == ["the dossier is already decided"])
        #expect(try pipeline.count("SELECT count(*) FROM withdrawals WHERE dossier_id = $1", [decided.id]) == 0)

        // Errors name the problem: an unknown dossier, a result that is not there to return, a bad apology date.
        let unknown = try await Self.motcua(["withdraw", "XX-000000-000000"], pipeline: pipeline)
        #expect(unknown.status != 0)
        #expect(unknown.output.contains("no dossier with id or code 'XX-000000-000000'"))
        let notDecided = try await Self.motcua(["return-result", withdrawn.id], pipeline: pipeline)
        #expect(notDecided.status != 0)
        #expect(notDecided.output.contains("not decided"))
        let badDate = try await Self.motcua(
            ["apology", withdrawn.id, "--reason", "late", "--new-date", "18/12/2026", "--official", "it-head"], pipeline: pipeline)
        #expect(badDate.status != 0)
        #expect(badDate.output.contains("use YYYY-MM-DD"))
    }
}
