import Audit
import Authority
import Credentials
import Foundation
import Kafka
import Messages
import Postgres
import Store
import TestSupport
import Testing

/// Issue 18, attack 1: anyone could sign as any official. With the registry of officials in force, commands produced
/// the way kcat would (raw JSON and a ce_type header on the department topic) are refused unless a registered key
/// with the authority signed them; the audit replay names a signature written into PostgreSQL behind the system's
/// back.
@Suite("Signed commands and the registry of officials", .serialized)
struct SignedCommandTests: SignedCommandSuite {
    typealias Official = RegisteredOfficial
    static let department: DepartmentID = "industry-trade"

    @Test("forged, unsigned, wrong-role, not-the-delegate, stale and revoked signatures are refused with their reason and change nothing; a director's signature through `motcua review sign --key` is recorded; the audit names a signature forged into PostgreSQL, one backdated to before the registry and one altered there")
    func attackOne() async throws {
        let database = try TestDatabase("signed")
        defer { database.drop() }
        let pipeline = try Pipeline(databaseURL: database.url, seed: 18)

        // The registry: a test CA and officials from `motcua officials dev-ca --register`.
        let registry = try await DevRegistry.register(
            department: Self.department.rawValue,
            environment: pipeline.processEnvironment.merging(database.environment) { $1 })
        defer { registry.remove() }
        let keyFile = registry.keyFile("\(Self.department)-director")
        let mode = try FileManager.default.attributesOfItem(atPath: keyFile)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        func official(_ id: String) throws -> Official { try registry.official(id) }
        let director = try official("\(Self.department)-director")
        let deputy = try official("\(Self.department)-deputy")
        let specialist = try official("\(Self.department)-specialist")
        // A second director, registered with `officials add` against the test CA, then revoked.
        let ca = try registry.certificateAuthority()
        let (oldKey, oldCertificate) = try ca.issue(
            commonName: "Former director", kind: .rsa2048, notBefore: Date().addingTimeInterval(-86_400),
            notAfter: Date().addingTimeInterval(86_400))
        let certificateFile = registry.directory.appendingPathComponent("former.cert.pem")
        try oldCertificate.pem.write(to: certificateFile, atomically: true, encoding: .utf8)
        let add = try await Self.motcua(
            ["officials", "add", "--certificate", certificateFile.path, "--id", "former-director", "--name", "Former",
             "--department", Self.department.rawValue, "--role", "director", "--trust", registry.directory.path],
            pipeline: pipeline, database: database)
        #expect(add.status == 0, "\(add)")
        let revoke = try await Self.motcua(
            ["officials", "revoke", "former-director", "--reason", "left the post"], pipeline: pipeline, database: database)
        #expect(revoke.status == 0, "\(revoke)")
        let former = Official(id: "former-director", key: oldKey, certificate: oldCertificate)
        // A certificate from another CA is refused at registration.
        let strangerCA = try DevelopmentCA(notBefore: Date().addingTimeInterval(-86_400), notAfter: Date().addingTimeInterval(86_400))
        let (strangerKey, strangerCertificate) = try strangerCA.issue(
            commonName: "Nobody", kind: .p256, notBefore: Date().addingTimeInterval(-86_400), notAfter: Date().addingTimeInterval(86_400))
        try strangerCertificate.pem.write(to: certificateFile, atomically: true, encoding: .utf8)
        let refusedAdd = try await Self.motcua(
            ["officials", "add", "--certificate", certificateFile.path, "--id", "intern-nobody", "--name", "Nobody",
             "--department", Self.department.rawValue, "--role", "director", "--trust", registry.directory.path],
            pipeline: pipeline, database: database)
        #expect(refusedAdd.status != 0 && refusedAdd.stderr.contains("does not chain"), "\(refusedAdd)")
        let stranger = Official(id: "intern-nobody", key: strangerKey, certificate: strangerCertificate)

        try pipeline.startReception()
        try pipeline.startWorker(Self.department)
        let dossiers = try await pipeline.submitForOfficials(9)
        let ids = dossiers.map(\.id)
        let prepared = await eventually(timeout: .seconds(120)) {
            try pipeline.count(
                "SELECT count(*) FROM decisions WHERE dossier_id = ANY($1::text[]) AND review = 'official' AND outcome = 'approve'",
                [ids]) == ids.count
        }
        #expect(prepared, "\(pipeline.logs())")
        let ruleVersion = try #require(try pipeline.database.query(
            "SELECT rule_version FROM decisions WHERE dossier_id = $1", [ids[0]]).first?.decode(String.self, "rule_version"))

        // Commands as kcat would produce them: JSON bytes and a ce_type header on the department topic.
        func command(_ dossier: String, as official: String, decision: String = "refuse", round: Int = 0) -> [UInt8] {
            let json = """
                {"at":"\(ISO8601Instant.format(Date()))","commandId":"\(UUID().uuidString)","decision":"\(decision)",\
                "dossierId":"\(dossier)","official":{"department":"\(Self.department)","id":"\(official)"},\
                "preparedOutcome":"approve","reason":"forged","round":\(round),"ruleVersion":"\(ruleVersion)","step":0}
                """
            return Array(json.utf8)
        }
        func signed(_ bytes: [UInt8], by official: Official) throws -> [UInt8] {
            try CommandSignature.sign(
                bytes, type: MessageType.sign, topic: SignedCommands.topic(department: Self.department),
                principal: official.id, certificate: official.certificate.sha256, key: official.key)
        }
        let tampered = String(decoding: try signed(command(ids[1], as: director.id), by: director), as: UTF8.self)
            .replacingOccurrences(of: "\"refuse\"", with: "\"approve\"")
        let attacks: [(dossier: String, value: [UInt8], code: String)] = [
            (ids[0], try signed(command(ids[0], as: stranger.id), by: stranger), "unknown-official"),
            (ids[1], Array(tampered.utf8), "bad-signature"),
            (ids[2], try signed(command(ids[2], as: specialist.id), by: specialist), "role-not-allowed"),
            (ids[3], try signed(command(ids[3], as: deputy.id), by: deputy), "not-the-delegate"),
            (ids[4], try signed(command(ids[4], as: director.id, round: 1), by: director), "stale"),
            (ids[5], try signed(command(ids[5], as: former.id), by: former), "key-revoked"),
            (ids[6], command(ids[6], as: director.id), "unsigned"),
            (ids[7], Array("{\"at\":\"2026-12-07T00:00:00Z\",\"commandId\":\"\(UUID().uuidString)\",\"dossierId\":\"\(ids[7])\",\"step\":0,\"signature\":{\"principal\":\"\\u001b]0;x\\u0007\"}}".utf8), "malformed-signature"),
        ]
        for attack in attacks {
            try await pipeline.producer.send(KafkaOutgoingMessage(
                topic: pipeline.topics.department(Self.department), key: attack.dossier, value: attack.value,
                headers: [KafkaHeader("ce_type", MessageType.sign)]))
        }
        let refused = await eventually(timeout: .seconds(120)) {
            try attacks.allSatisfy { try !Self.reasons("command-rejected", of: $0.dossier, in: pipeline).isEmpty }
        }
        #expect(refused, "\(pipeline.logs())")
        for attack in attacks {
            let reasons = try Self.reasons("command-rejected", of: attack.dossier, in: pipeline)
            #expect(reasons.count == 1 && reasons[0].hasPrefix(attack.code + ":"), "\(attack.code): \(reasons)")
        }
        // Nothing changed: no signature, no decided event.
        #expect(try pipeline.count("SELECT count(*) FROM decisions WHERE dossier_id = ANY($1::text[]) AND signed_at IS NOT NULL", [ids]) == 0)
        #expect(try attacks.allSatisfy { try Self.reasons("decided", of: $0.dossier, in: pipeline).isEmpty })

        // The director signs through the CLI with their key: recorded under their id.
        let code = try #require(try pipeline.database.query("SELECT code FROM dossiers WHERE id = $1", [ids[8]])
            .first?.decode(String.self, "code"))
        let sign = try await Self.motcua(
            ["review", "sign", code, "--official", director.id, "--department", Self.department.rawValue, "--key", keyFile, "--wait", "--timeout", "120"],
            pipeline: pipeline, database: database)
        #expect(sign.status == 0 && sign.stdout.contains("signed: approve"), "\(sign)\n\(pipeline.logs())")
        #expect(try pipeline.count(
            "SELECT count(*) FROM decisions WHERE dossier_id = $1 AND signed_by = $2 AND signed_outcome = 'approve'",
            [ids[8], director.id]) == 1)

        // The audit replay of the whole topic: every stored signature verifies.
        func replay() async throws -> (status: Int32?, findings: [[String: Any]], run: CommandRun) {
            let file = registry.directory.appendingPathComponent(TestEnvironment.unique("audit") + ".json")
            let run = try await Self.motcua(
                ["audit", "replay", "--department", Self.department.rawValue, "--format", "json", "--output", file.path,
                 "--rules", TestEnvironment.root.appendingPathComponent("deploy").path],
                pipeline: pipeline, database: database)
            let json = try JSONSerialization.jsonObject(with: try Data(contentsOf: file)) as? [String: Any]
            return (run.status, json?["findings"] as? [[String: Any]] ?? [], run)
        }
        let clean = try await replay()
        #expect(clean.status == 0, "\(clean.run) \(clean.findings)")

        // Had the delegation the decision cites named a head of division as its delegate, the director would not be
        // its delegate: the replay checks the position as the worker does (`unauthorised`, not the delegate).
        let cited = try #require(try database.connection.query(
            """
            SELECT d.delegation_version, v.delegation_id, v.canonical_json FROM decisions d
            JOIN delegation_versions v ON v.version = d.delegation_version WHERE d.dossier_id = $1
            """, [ids[8]]).first)
        let citedVersion = try cited.decode(String.self, "delegation_version")
        let snapshot = try cited.decode(String.self, "canonical_json")
        let headsSnapshot = snapshot.replacingOccurrences(
            of: #""position":"director""#, with: #""position":"head-of-division""#)
        #expect(headsSnapshot != snapshot, "\(snapshot)")
        try database.connection.execute(
            """
            INSERT INTO delegation_versions (version, delegation_id, canonical_json)
            VALUES (encode(sha256(convert_to($1, 'UTF8')), 'hex'), $2, $1)
            """, [headsSnapshot, try cited.decode(String.self, "delegation_id")])
        try database.connection.execute(
            "UPDATE decisions SET delegation_version = encode(sha256(convert_to($2, 'UTF8')), 'hex') WHERE dossier_id = $1",
            [ids[8], headsSnapshot])
        let notTheDelegate = try await replay()
        #expect(notTheDelegate.status == 1, "\(notTheDelegate.run)")
        let unauthorised = notTheDelegate.findings.filter { $0["kind"] as? String == "unauthorised" }
        #expect(unauthorised.compactMap { $0["dossierId"] as? String } == [ids[8]], "\(notTheDelegate.findings)")
        #expect(unauthorised.allSatisfy { ($0["detail"] as? String ?? "").hasPrefix("not-the-delegate:") }, "\(unauthorised)")
        try database.connection.execute(
            "UPDATE decisions SET delegation_version = $2 WHERE dossier_id = $1", [ids[8], citedVersion])

        // Behind the system's back, as the schema owner: a signature written straight into PostgreSQL, and the
        // director's signature altered with the write-once trigger disabled.
        try database.connection.execute(
            "UPDATE decisions SET signed_by = $2, signed_at = now(), signed_outcome = 'refuse' WHERE dossier_id = $1",
            [ids[0], director.id])
        // A signature backdated to before the registry, so as to pass for one made before it (a note), on a decision
        // made after it: forged (before, the replay noted it as unsigned-before-registry).
        try database.connection.execute(
            """
            UPDATE decisions SET signed_by = $2, signed_at = now() - interval '10 years', signed_outcome = 'approve'
            WHERE dossier_id = $1 AND signed_at IS NULL
            """, [ids[1], director.id])
        #expect(try pipeline.count(
            "SELECT count(*) FROM decisions WHERE dossier_id = $1 AND signed_at < now() - interval '9 years'", [ids[1]]) == 1)
        try database.connection.execute("ALTER TABLE decisions DISABLE TRIGGER motcua_signature_write_once", [])
        try database.connection.execute(
            "UPDATE decisions SET signed_outcome = 'refuse' WHERE dossier_id = $1", [ids[8]])
        try database.connection.execute("ALTER TABLE decisions ENABLE TRIGGER motcua_signature_write_once", [])
        let altered = try await replay()
        #expect(altered.status == 1, "\(altered.run)")
        let named = Dictionary(grouping: altered.findings, by: { $0["kind"] as? String ?? "" })
            .mapValues { Set($0.compactMap { $0["dossierId"] as? String }) }
        #expect(named["forged"] == [ids[0], ids[1]], "\(altered.findings)")
        #expect(named["unsigned-before-registry"] == nil, "\(altered.findings)")
        #expect(named["signature-mismatch"] == [ids[8]], "\(altered.findings)")
    }
}
