import Authority
import Credentials
import Foundation
import Kafka
import Messages
import Postgres
import TestSupport
import Testing

/// Issue 21, fees: the rules request a fee-bearing procedure's fee (2.001240, 2,200,000 đồng in the catalogue)
/// instead of letting its approval take effect; payment confirmations produced as kcat would (raw JSON and a ce_type
/// header on the department topic) are refused unless a registered payment gateway signed them for the amount
/// requested; a valid one records the payment and the approval takes effect.
@Suite("Fees and payment confirmations", .serialized)
struct FeeTests {
    static let department: DepartmentID = "industry-trade"
    static let fee = 2_200_000

    typealias Signer = RegisteredOfficial

    /// The `type` events of a dossier in the outbox: their data.
    static func events(_ type: String, of dossier: String, in pipeline: Pipeline) throws -> [[String: Any]] {
        try pipeline.database.query(
            """
            SELECT convert_from(payload, 'UTF8')::jsonb->'data' AS data FROM outbox
            WHERE key = $1 AND topic = $3 AND convert_from(payload, 'UTF8')::jsonb->>'type' = $2 ORDER BY id
            """, [dossier, type, pipeline.topics.events]
        ).map { row in
            let text = try row.decode(String.self, "data")
            return try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] ?? [:]
        }
    }

    @Test("a fee is requested instead of the approval; unsigned, forged, portal-signed, wrong-amount and reused-receipt confirmations are refused with their reason and record nothing; a gateway's confirmation records the payment, once, and the approval takes effect")
    func paymentConfirmations() async throws {
        let database = try TestDatabase("fees")
        defer { database.drop() }
        let pipeline = try Pipeline(databaseURL: database.url, seed: 21)
        let registry = try await DevRegistry.register(
            department: Self.department.rawValue,
            environment: pipeline.processEnvironment.merging(database.environment) { $1 })
        defer { registry.remove() }
        func signer(_ id: String) throws -> Signer { try registry.official(id) }
        let gateway = try signer("payment-gateway")
        let portal = try signer("portal")

        try pipeline.startReception()
        try pipeline.startWorker(Self.department)
        var dossiers: [Dossier] = []
        for _ in 0..<8 {
            var dossier = pipeline.generator.next(procedure: "2.001240", submittedAt: Date(), outsideShare: 0)
            dossier.facts["retailerCount"] = .integer(3)
            dossier.documents = pipeline.bundle.catalogue.procedure("2.001240")!.documents
            dossiers.append(dossier)
        }
        try await pipeline.submit(dossiers)
        let ids = dossiers.map(\.id)
        let requested = await eventually(timeout: .seconds(120)) {
            try ids.allSatisfy { try !Self.events("fee-requested", of: $0, in: pipeline).isEmpty }
        }
        #expect(requested, "\(pipeline.logs())")
        for id in ids {
            let fee = try Self.events("fee-requested", of: id, in: pipeline)
            #expect(fee.count == 1 && fee[0]["amount"] as? Int == Self.fee && fee[0]["outcome"] as? String == "approve")
            // The approval waits for the fee.
            #expect(try Self.events("decided", of: id, in: pipeline).isEmpty)
            #expect(try Self.events("prepared", of: id, in: pipeline).isEmpty)
        }

        // Confirmations as kcat would produce them.
        func confirmation(_ dossier: String, amount: Int = Self.fee, channel: String = "national-portal", receipt: String) -> [UInt8] {
            Array("""
                {"amount":\(amount),"at":"\(ISO8601Instant.format(Date()))","channel":"\(channel)",\
                "commandId":"\(UUID().uuidString)","dossierId":"\(dossier)","receiptNumber":"\(receipt)"}
                """.utf8)
        }
        func signed(_ bytes: [UInt8], by signer: Signer) throws -> [UInt8] {
            try CommandSignature.sign(
                bytes, type: MessageType.confirmPayment, topic: SignedCommands.topic(department: Self.department),
                principal: signer.id, certificate: signer.certificate.sha256, key: signer.key)
        }
        func produce(_ dossier: String, _ value: [UInt8]) async throws {
            try await pipeline.producer.send(KafkaOutgoingMessage(
                topic: pipeline.topics.department(Self.department), key: dossier, value: value,
                headers: [KafkaHeader("ce_type", MessageType.confirmPayment)]))
        }
        let tampered = String(decoding: try signed(confirmation(ids[1], amount: 1_000, receipt: "R-1"), by: gateway), as: UTF8.self)
            .replacingOccurrences(of: "\"amount\":1000", with: "\"amount\":\(Self.fee)")
        let attacks: [(dossier: String, value: [UInt8], event: String, code: String)] = [
            (ids[0], confirmation(ids[0], receipt: "R-0"), "command-rejected", "unsigned"),
            (ids[1], Array(tampered.utf8), "command-rejected", "bad-signature"),
            (ids[2], try signed(confirmation(ids[2], receipt: "R-2"), by: portal), "command-rejected", "role-not-allowed"),
            (ids[3], try signed(confirmation(ids[3], amount: 220_000, receipt: "R-3"), by: gateway), "payment-rejected", "wrong-amount"),
            (ids[4], try signed(confirmation(ids[4], receipt: "R 4; DROP"), by: gateway), "payment-rejected", "bad-receipt"),
        ]
        for attack in attacks { try await produce(attack.dossier, attack.value) }
        let refused = await eventually(timeout: .seconds(120)) {
            try attacks.allSatisfy { try !Self.events($0.event, of: $0.dossier, in: pipeline).isEmpty }
        }
        #expect(refused, "\(pipeline.logs())")
        for attack in attacks {
            let reasons = try Self.events(attack.event, of: attack.dossier, in: pipeline).compactMap { $0["reason"] as? String }
            #expect(reasons.count == 1 && reasons[0].hasPrefix(attack.code + ":"), "\(attack.code): \(reasons)")
        }
        // Nothing changed: no payment, no fee-paid, the approvals still wait.
        #expect(try pipeline.count("SELECT count(*) FROM fee_payments") == 0)
        #expect(try attacks.allSatisfy { try Self.events("fee-paid", of: $0.dossier, in: pipeline).isEmpty })
        #expect(try attacks.allSatisfy { try Self.events("decided", of: $0.dossier, in: pipeline).isEmpty })

        // The gateway confirms ids[5]: recorded, fee-paid, the approval takes effect. Then the same dossier again
        // (already paid) and another dossier with the same receipt (receipt used): refused.
        try await produce(ids[5], try signed(confirmation(ids[5], receipt: "VNPAY-2026-000123"), by: gateway))
        let paid = await eventually(timeout: .seconds(120)) {
            try !Self.events("fee-paid", of: ids[5], in: pipeline).isEmpty
        }
        #expect(paid, "\(pipeline.logs())")
        try await produce(ids[5], try signed(confirmation(ids[5], receipt: "VNPAY-2026-000124"), by: gateway))
        try await produce(ids[6], try signed(confirmation(ids[6], receipt: "VNPAY-2026-000123"), by: gateway))
        let again = await eventually(timeout: .seconds(120)) {
            try !Self.events("payment-rejected", of: ids[5], in: pipeline).isEmpty
                && !Self.events("payment-rejected", of: ids[6], in: pipeline).isEmpty
        }
        #expect(again, "\(pipeline.logs())")
        #expect((try Self.events("payment-rejected", of: ids[5], in: pipeline).first?["reason"] as? String)?.hasPrefix("already-paid:") == true)
        #expect((try Self.events("payment-rejected", of: ids[6], in: pipeline).first?["reason"] as? String)?.hasPrefix("receipt-used:") == true)
        let feePaid = try Self.events("fee-paid", of: ids[5], in: pipeline)
        #expect(feePaid.count == 1 && feePaid[0]["amount"] as? Int == Self.fee
                && feePaid[0]["paymentChannel"] as? String == "national-portal"
                && feePaid[0]["official"] as? String == gateway.id)
        let approvals = try Self.events("decided", of: ids[5], in: pipeline) + Self.events("prepared", of: ids[5], in: pipeline)
        #expect(approvals.count == 1 && approvals[0]["outcome"] as? String == "approve", "\(approvals)")
        #expect(try pipeline.count(
            "SELECT count(*) FROM fee_payments WHERE dossier_id = $1 AND amount_vnd = $2 AND principal = $3 AND channel = 'national-portal'",
            [ids[5], String(Self.fee), gateway.id]) == 1)
        #expect(try pipeline.count("SELECT count(*) FROM fee_payments") == 1)
    }
}
