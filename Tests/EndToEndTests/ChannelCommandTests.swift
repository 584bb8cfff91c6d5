import Authority
import Foundation
import Messages
import TestSupport
import Testing

/// Applicants' commands through `motcua supply` and `motcua withdraw` once the registry of officials is in force:
/// the channel that took them (a one-stop desk official) signs them with its key. Before this test, `motcua supply`
/// could not sign at all, so every supplement it sent was refused as `unsigned` (found by the chaos soak: 176
/// supplies sent, 2 rounds resumed).
@Suite("Applicants' commands signed by their channel", .serialized)
struct ChannelCommandTests {
    @Test("`motcua supply` and `motcua withdraw` signed with --channel/--key are accepted; unsigned ones are refused as `unsigned` and change nothing; --key without --channel is a clear error")
    func signedByTheDesk() async throws {
        let database = try TestDatabase("channel")
        defer { database.drop() }
        let pipeline = try Pipeline(databaseURL: database.url, seed: 182)
        let environment = pipeline.processEnvironment.merging(database.environment) { $1 }
        func motcua(_ arguments: [String], stdin: String? = nil) async throws -> CommandRun {
            try await CommandRun.run("motcua", arguments, environment: environment, stdin: stdin)
        }
        let registry = try await DevRegistry.register(
            department: "labour",
            environment: environment)
        defer { registry.remove() }
        let deskKey = registry.keyFile("desk-1")

        // Reception, the status projection (for `withdraw --wait`, which reads the timeline) and the worker.
        let receptionGroup = pipeline.group("reception")
        let projectionGroup = pipeline.group("projection")
        try pipeline.startAtEnd(group: receptionGroup, topic: pipeline.topics.intake)
        try pipeline.startAtEnd(group: projectionGroup, topic: pipeline.topics.events)
        pipeline.processes["coordinator"] = try ServiceProcess(
            "coordinator",
            ["--rules", TestEnvironment.root.appendingPathComponent("deploy").path, "--reception-group", receptionGroup,
             "--projection-group", projectionGroup, "--log-level", "warning"],
            environment: pipeline.processEnvironment)
        try pipeline.startWorker("labour")
        // Two desk dossiers whose stale health certificate makes the rules ask for a supplement; the second also
        // carries the hash of a receipt secret, so that it can be withdrawn.
        let (secret, secretSha256) = ReceiptSecret.generate()
        var supplied = ProvenanceTests.workPermit(pipeline, staleHealthCertificate: true)
        supplied.channel = .counter
        var withdrawn = ProvenanceTests.workPermit(pipeline, staleHealthCertificate: true)
        withdrawn.channel = .counter
        withdrawn.receiptSecretSha256 = secretSha256
        try await pipeline.submit([supplied, withdrawn])
        let requested = await eventually(timeout: .seconds(120)) {
            try pipeline.count(
                "SELECT count(*) FROM decisions WHERE dossier_id = ANY($1::text[]) AND outcome = 'supplement'",
                [[supplied.id, withdrawn.id]]) == 2
        }
        #expect(requested, "\(pipeline.logs())")
        func code(_ id: String) throws -> String {
            try #require(try pipeline.database.query("SELECT code FROM dossiers WHERE id = $1", [id]).first?
                .decode(String.self, "code"))
        }
        let suppliedCode = try code(supplied.id)
        let withdrawnCode = try code(withdrawn.id)

        // Unsigned: the worker refuses it as `unsigned`; no new round.
        let unsigned = try await motcua(["supply", suppliedCode, "--documents", "health-certificate"])
        #expect(unsigned.status == 0 && unsigned.stderr.contains("sending unsigned"), "\(unsigned)")
        let refusedSupply = await eventually(timeout: .seconds(120)) {
            try ProvenanceTests.reasons("command-rejected", of: supplied.id, in: pipeline).count == 1
        }
        #expect(refusedSupply, "\(pipeline.logs())")
        #expect(try ProvenanceTests.reasons("command-rejected", of: supplied.id, in: pipeline).first?.hasPrefix("unsigned:") == true)
        #expect(try pipeline.count("SELECT count(*) FROM decisions WHERE dossier_id = $1 AND round > 0", [supplied.id]) == 0)

        // A key without the channel it belongs to is told before anything is sent.
        let keyAlone = try await motcua(["supply", suppliedCode, "--documents", "health-certificate", "--key", deskKey])
        #expect(keyAlone.status != 0 && keyAlone.stderr.contains("--key needs --channel"), "\(keyAlone)")

        // Signed by the desk official who took the documents: the step is evaluated again.
        let signed = try await motcua(
            ["supply", suppliedCode, "--documents", "health-certificate", "--channel", "desk-1", "--key", deskKey, "--wait"])
        #expect(signed.status == 0 && signed.stdout.contains("evaluated again: round 1"), "\(signed)\n\(pipeline.logs())")

        // A withdrawal: unsigned refused (nothing recorded), then signed by the desk and recorded. (`--wait` used to
        // answer the second with the first one's refusal, still the latest on the timeline.)
        let unsignedWithdrawal = try await motcua(["withdraw", withdrawnCode, "--secret-file", "-", "--wait"], stdin: secret)
        #expect(unsignedWithdrawal.status != 0 && unsignedWithdrawal.stdout.contains("refused: unsigned:"), "\(unsignedWithdrawal)")
        #expect(try pipeline.count("SELECT count(*) FROM withdrawals WHERE dossier_id = $1", [withdrawn.id]) == 0)
        let signedWithdrawal = try await motcua(
            ["withdraw", withdrawnCode, "--secret-file", "-", "--channel", "desk-1", "--key", deskKey, "--wait"], stdin: secret)
        #expect(signedWithdrawal.status == 0 && signedWithdrawal.stdout.contains("withdrawn"), "\(signedWithdrawal)\n\(pipeline.logs())")
        #expect(try pipeline.count("SELECT count(*) FROM withdrawals WHERE dossier_id = $1", [withdrawn.id]) == 1)
    }
}
