import Authority
import Credentials
import Foundation
import Kafka
import Messages
import Postgres
import TestSupport
import Testing

/// Issue 21 through the `motcua` commands and the real worker and coordinator: `motcua pay` (a desk official's and
/// a payment gateway's signed confirmation), `motcua rate`, `motcua complain` and `motcua review sign --result-…`
/// produce the signed messages the worker verifies, and refuse bad input before sending with what is wrong and
/// what to do; an automatic approval waiting for its fee can be withdrawn (national code 7) and no payment is
/// accepted after it. The deploy directory is copied and the lucky-draw promotion (2.000131, approved by the rules
/// without an official when the prizes are at most 50% of the goods' value) given a fee of 500,000 đồng, so that an
/// automatic approval waits for a fee.
@Suite("Payment, rating and complaint commands", .serialized)
struct FeeCommandTests {
    static let department: DepartmentID = "industry-trade"
    static let fee = 500_000

    /// A copy of `deploy/` (with `schemas/` beside it, as the services expect) where 2.000131 has a fee.
    static func deployWithFee() throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent(TestEnvironment.unique("deploy-fee"))
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let deploy = root.appendingPathComponent("deploy")
        try FileManager.default.copyItem(at: TestEnvironment.root.appendingPathComponent("deploy"), to: deploy)
        try FileManager.default.createSymbolicLink(
            at: root.appendingPathComponent("schemas"), withDestinationURL: TestEnvironment.root.appendingPathComponent("schemas"))
        let file = deploy.appendingPathComponent("catalog/procedures/industry-trade.yaml")
        let text = try String(contentsOf: file, encoding: .utf8)
        let anchor = "    facts: [promotionValuePct]\n"
        try #require(text.components(separatedBy: anchor).count == 2)
        try text.replacingOccurrences(
            of: anchor,
            with: anchor + "    fee: {amountVND: \(fee), legalBasis: \"test fee of FeeCommandTests\", amountVerified: false}\n"
        ).write(to: file, atomically: true, encoding: .utf8)
        return deploy
    }

    @Test("pay, rate, complain and sign --result through the real worker: bad input refused before sending; a wrong amount refused by the worker; desk payment, rating, complaint and result file recorded; an automatic approval awaiting its fee withdrawn (portal codes 2, 4, 6, 7) and a gateway's payment after it refused as withdrawn")
    func commandsThroughTheWorker() async throws {
        let database = try TestDatabase("feecommands")
        defer { database.drop() }
        let deploy = try Self.deployWithFee()
        defer { try? FileManager.default.removeItem(at: deploy.deletingLastPathComponent()) }
        let pipeline = try Pipeline(databaseURL: database.url, seed: 2_101)
        let environment = pipeline.processEnvironment.merging(database.environment) { $1 }
        let registry = try await DevRegistry.register(
            department: Self.department.rawValue,
            environment: environment)
        defer { registry.remove() }
        func key(_ id: String) -> String { registry.keyFile(id) }
        func motcua(_ arguments: [String], secret: String? = nil) async throws -> (status: Int32?, output: String) {
            var env = environment
            env["MOTCUA_RECEIPT_SECRET"] = secret
            let run = try await CommandRun.run("motcua", arguments, environment: env)
            return (run.status, run.stdout + run.stderr)
        }

        // The coordinator (reception, projection, timers) and the worker, on the copied deploy directory.
        let workerGroup = pipeline.group(Self.department)
        try pipeline.startAtEnd(group: workerGroup, topic: pipeline.topics.department(Self.department))
        try pipeline.startCoordinator(rules: deploy.path, environment: environment)
        pipeline.processes["worker"] = try ServiceProcess(
            "\(Self.department)-worker", ["--rules", deploy.path, "--group", workerGroup, "--log-level", "warning"],
            environment: environment)

        // withdrawn, paid: the promotion, approved by the rules, waiting for its fee; signed: a retail licence
        // (2.000620, approved for an official to sign, no fee).
        var dossiers: [Dossier] = []
        var secrets: [String: String] = [:]
        for procedure in ["2.000131", "2.000131", "2.000620"] {
            var dossier = pipeline.generator.next(procedure: procedure, submittedAt: Date(), outsideShare: 0)
            dossier.channel = .online
            dossier.documents = try #require(pipeline.bundle.catalogue.procedure(procedure)).documents
            if procedure == "2.000131" { dossier.facts["promotionValuePct"] = .integer(20) }
            let receipt = ReceiptSecret.generate()
            dossier.receiptSecretSha256 = receipt.sha256
            secrets[dossier.id] = receipt.secret
            dossiers.append(dossier)
        }
        try await pipeline.submit(dossiers)
        let (withdrawn, paid, signed) = (dossiers[0].id, dossiers[1].id, dossiers[2].id)
        func events(_ type: String, of dossier: String) throws -> [[String: Any]] {
            try FeeTests.events(type, of: dossier, in: pipeline)
        }
        func status(_ dossier: String) throws -> String? {
            try database.connection.query("SELECT status FROM dossier_status WHERE dossier_id = $1", [dossier])
                .first?.decode(String.self, "status")
        }
        let ready = await eventually(timeout: .seconds(120)) {
            try status(withdrawn) == "fee-requested" && status(paid) == "fee-requested" && status(signed) == "prepared"
        }
        #expect(ready, "\(pipeline.logs())")
        let requested = try events("fee-requested", of: withdrawn)
        #expect(requested.count == 1 && requested.first?["amount"] as? Int == Self.fee
                && requested.first?["review"] as? String == "auto", "\(requested)")

        // Bad input: refused before anything is sent, saying what is wrong.
        let refusedLocally: [([String], String)] = [
            (["pay", paid, "--amount", "500000", "--receipt", "BL 1; DROP", "--official", "desk-1"],
             "is not a receipt number"),
            (["pay", paid, "--amount", "500000", "--receipt", "BL-1"], "who confirms the payment?"),
            (["pay", paid, "--amount", "500000", "--receipt", "BL-1", "--gateway", "payment-gateway"],
             "--gateway needs --gateway-key"),
            (["pay", paid, "--amount", "500000", "--receipt", "BL-1", "--official", "desk-1", "--channel", "national-portal"],
             "confirmed by its payment gateway"),
            (["pay", paid, "--amount", "0", "--receipt", "BL-1", "--official", "desk-1"], "positive whole number"),
            (["pay", paid, "--amount", "500000", "--receipt", "BL-1", "--official", "portal", "--key", key("portal")],
             "portal may not confirm this payment"),
            (["rate", paid, "--timeliness", "6", "--attitude", "4", "--guidance", "5", "--result", "5", "--channel",
              "portal"], "each score is 1"),
            (["rate", paid, "--timeliness", "5", "--attitude", "4", "--guidance", "5", "--result", "5", "--channel",
              "portal", "--key", key("portal")], "a dossier is rated after its result"),
            (["complain", paid, "--category", "rude", "--reference", "KN-1", "--channel", "desk-1"],
             "is not one of late, attitude, fees, result, other"),
            (["complain", paid, "--category", "late", "--reference", "KN-1"], "always signed by the channel that took it"),
            (["rate", paid, "--timeliness", "5", "--attitude", "4", "--guidance", "5", "--result", "5", "--key",
              key("portal")], "--key needs --channel"),
            (["complain", paid, "--category", "late", "--reference", "Ông A nói …", "--channel", "desk-1"],
             "never the complainant's words"),
            (["review", "sign", signed, "--official", "\(Self.department)-director", "--department",
              Self.department.rawValue, "--result-document", "GP-1"], "a result file needs"),
            (["review", "sign", signed, "--official", "\(Self.department)-director", "--department",
              Self.department.rawValue, "--key", key("\(Self.department)-director"), "--result-document", "GP-1",
              "--result-sha256", String(repeating: "ab", count: 32), "--result-link", "javascript:alert(1)"],
             "link must be an https:// URL"),
        ]
        for (arguments, message) in refusedLocally {
            let run = try await motcua(arguments, secret: secrets[paid])
            #expect(run.status != 0 && run.output.contains(message), "\(arguments): \(run.output)")
        }
        #expect(try pipeline.count("SELECT count(*) FROM fee_payments") == 0)
        #expect(try events("payment-rejected", of: paid).isEmpty && events("command-rejected", of: paid).isEmpty)

        // The applicant withdraws the automatic approval that waits for its fee: withdrawn, national code 7.
        let withdraw = try await motcua(
            ["withdraw", withdrawn, "--reason", "no longer needed", "--channel", "desk-1", "--key", key("desk-1")],
            secret: secrets[withdrawn])
        #expect(withdraw.status == 0, "\(withdraw.output)")
        let isWithdrawn = await eventually(timeout: .seconds(120)) { try status(withdrawn) == "withdrawn" }
        #expect(isWithdrawn, "\(pipeline.logs())")
        #expect(try events("withdrawal-rejected", of: withdrawn).isEmpty)
        let codes = try database.connection.query(
            "SELECT payload FROM outbox WHERE topic = $1 AND key = $2 ORDER BY id", [pipeline.topics.portalSync, withdrawn]
        ).map { row -> Int in
            let json = try JSONSerialization.jsonObject(with: Data(try row.decode(PostgresBytes.self, "payload").bytes))
            return (json as? [String: Any])?["statusCode"] as? Int ?? 0
        }
        #expect(codes == [2, 4, 6, 7], "\(codes)")
        #expect(try pipeline.count(
            "SELECT count(*) FROM deadlines WHERE dossier_id = $1 AND status <> 'closed'", [withdrawn]) == 0)
        // The command refuses to pay it; a gateway's confirmation produced as kcat would is refused by the worker.
        let payWithdrawn = try await motcua(
            ["pay", withdrawn, "--amount", "500000", "--receipt", "VNPAY-1", "--channel", "national-portal", "--gateway",
             "payment-gateway", "--gateway-key", key("payment-gateway")])
        #expect(payWithdrawn.status != 0 && payWithdrawn.output.contains("is withdrawn"), "\(payWithdrawn.output)")
        let gatewayPrincipal = try registry.official("payment-gateway")
        let gateway = gatewayPrincipal.key, gatewayCertificate = gatewayPrincipal.certificate
        let late = try CommandSignature.sign(
            Array("""
                {"amount":\(Self.fee),"at":"\(ISO8601Instant.format(Date()))","channel":"national-portal",\
                "commandId":"\(UUID().uuidString)","dossierId":"\(withdrawn)","receiptNumber":"VNPAY-1"}
                """.utf8),
            type: MessageType.confirmPayment, topic: SignedCommands.topic(department: Self.department),
            principal: "payment-gateway", certificate: gatewayCertificate.sha256, key: gateway)
        try await pipeline.producer.send(KafkaOutgoingMessage(
            topic: pipeline.topics.department(Self.department), key: withdrawn, value: late,
            headers: [KafkaHeader("ce_type", MessageType.confirmPayment)]))
        let refusedPayment = await eventually(timeout: .seconds(120)) {
            try !events("payment-rejected", of: withdrawn).isEmpty
        }
        #expect(refusedPayment, "\(pipeline.logs())")
        #expect((try events("payment-rejected", of: withdrawn).first?["reason"] as? String)?.hasPrefix("withdrawn:") == true)
        #expect(try events("fee-paid", of: withdrawn).isEmpty && events("decided", of: withdrawn).isEmpty)

        // The desk official takes a payment of the wrong amount (the worker refuses it, and the command says why),
        // then the right one: paid, and the approval that waited takes effect.
        let wrong = try await motcua(
            ["pay", paid, "--amount", "400000", "--receipt", "BL-2026-1", "--official", "desk-1", "--key", key("desk-1"),
             "--wait", "--timeout", "90"])
        #expect(wrong.status != 0 && wrong.output.contains("wrong-amount"), "\(wrong.output)")
        let right = try await motcua(
            ["pay", paid, "--amount", "500000", "--receipt", "BL-2026-2", "--official", "desk-1", "--key", key("desk-1"),
             "--wait", "--timeout", "90"])
        #expect(right.status == 0 && right.output.contains("paid: 500000"), "\(right.output)")
        #expect(try pipeline.count(
            "SELECT count(*) FROM fee_payments WHERE dossier_id = $1 AND channel = 'desk' AND principal = 'desk-1' AND amount_vnd = $2",
            [paid, String(Self.fee)]) == 1)
        #expect(try pipeline.count("SELECT count(*) FROM fee_payments") == 1)
        let decided = await eventually(timeout: .seconds(120)) { try status(paid) == "decided" }
        #expect(decided, "\(pipeline.logs())")

        // Rated once through the portal after the result; another rating is refused; a complaint at the desk.
        let rate = ["rate", paid, "--attitude", "4", "--guidance", "5", "--result", "4", "--channel", "portal", "--key",
                    key("portal"), "--wait", "--timeout", "90"]
        let wrongSecret = try await motcua(rate + ["--timeliness", "5"], secret: secrets[signed])
        #expect(wrongSecret.status != 0 && wrongSecret.output.contains("does not match"), "\(wrongSecret.output)")
        let rated = try await motcua(rate + ["--timeliness", "5"], secret: secrets[paid])
        #expect(rated.status == 0 && rated.output.contains("timeliness 5, attitude 4, guidance 5, result 4"), "\(rated.output)")
        let again = try await motcua(rate + ["--timeliness", "1"], secret: secrets[paid])
        #expect(again.status != 0 && again.output.contains("already-rated"), "\(again.output)")
        let byGateway = try await motcua(
            ["rate", paid, "--timeliness", "1", "--attitude", "1", "--guidance", "1", "--result", "1", "--channel",
             "payment-gateway", "--key", key("payment-gateway")], secret: secrets[paid])
        #expect(byGateway.status != 0 && byGateway.output.contains("may not carry a rating"), "\(byGateway.output)")
        #expect(try pipeline.count(
            "SELECT count(*) FROM ratings WHERE dossier_id = $1 AND timeliness = 5 AND channel = 'portal'", [paid]) == 1)
        #expect(try pipeline.count("SELECT count(*) FROM ratings") == 1)
        let complain = try await motcua(
            ["complain", paid, "--category", "late", "--reference", "KN-2026-000042", "--channel", "desk-1", "--key",
             key("desk-1"), "--wait", "--timeout", "90"])
        #expect(complain.status == 0 && complain.output.contains("recorded: late"), "\(complain.output)")
        #expect(try pipeline.count(
            "SELECT count(*) FROM complaints WHERE dossier_id = $1 AND category = 'late' AND reference = 'KN-2026-000042'",
            [paid]) == 1)

        // The director signs the retail licence with its result file: its SHA-256 computed from the file.
        let document = FileManager.default.temporaryDirectory.appendingPathComponent(TestEnvironment.unique("gp") + ".pdf")
        defer { try? FileManager.default.removeItem(at: document) }
        try Data("%PDF-1.7 giấy phép bán lẻ rượu".utf8).write(to: document)
        let sign = try await motcua(
            ["review", "sign", signed, "--official", "\(Self.department)-director", "--department", Self.department.rawValue,
             "--key", key("\(Self.department)-director"), "--result-document", "GP/2026/000731", "--result-file",
             document.path, "--result-link", "https://ketqua.example.vn/GP-2026-000731.pdf", "--wait", "--timeout", "90"])
        #expect(sign.status == 0 && sign.output.contains("signed: approve"), "\(sign.output)")
        let digest = ResultReference.sha256(of: try Data(contentsOf: document))
        #expect(try pipeline.count(
            "SELECT count(*) FROM result_files WHERE dossier_id = $1 AND document_id = 'GP/2026/000731' AND sha256 = $2",
            [signed, digest]) == 1, "\(pipeline.logs())")
    }
}
