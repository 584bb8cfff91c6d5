import Authority
import Credentials
import Foundation
import Kafka
import Messages
import Postgres
import TestSupport
import Testing

/// Issue 21, satisfaction and electronic results: ratings and complaints produced as kcat would are refused unless
/// a channel (the portal's service key, a desk official — not the payment gateway) signed them, a rating only after
/// the result and once; an official's signature may carry the result file's reference, recorded with it.
@Suite("Ratings, complaints and result files", .serialized)
struct FeedbackTests {
    static let department: DepartmentID = "industry-trade"

    typealias Signer = RegisteredOfficial

    @Test("unsigned, payment-gateway-signed, before-the-result, out-of-range and second ratings are refused with their reason and record nothing; a portal rating after the result and a desk complaint are recorded; a malformed result reference refuses the signature, a valid one is recorded")
    func ratingsComplaintsAndResults() async throws {
        let database = try TestDatabase("feedback")
        defer { database.drop() }
        let pipeline = try Pipeline(databaseURL: database.url, seed: 766)
        let registry = try await DevRegistry.register(
            department: Self.department.rawValue,
            environment: pipeline.processEnvironment.merging(database.environment) { $1 })
        defer { registry.remove() }
        func signer(_ id: String) throws -> Signer { try registry.official(id) }
        let portal = try signer("portal"), desk = try signer("desk-1"), gateway = try signer("payment-gateway")
        let director = try signer("\(Self.department)-director")

        try pipeline.startReception()
        try pipeline.startWorker(Self.department)
        let dossiers = try await pipeline.submitForOfficials(4)
        let ids = dossiers.map(\.id)
        let prepared = await eventually(timeout: .seconds(120)) {
            try pipeline.count(
                "SELECT count(*) FROM decisions WHERE dossier_id = ANY($1::text[]) AND review = 'official' AND outcome = 'approve'",
                [ids]) == ids.count
        }
        #expect(prepared, "\(pipeline.logs())")
        let ruleVersion = try #require(try pipeline.database.query(
            "SELECT rule_version FROM decisions WHERE dossier_id = $1", [ids[0]]).first?.decode(String.self, "rule_version"))

        func signed(_ json: String, type: String, by signer: Signer) throws -> [UInt8] {
            try CommandSignature.sign(
                Array(json.utf8), type: type, topic: SignedCommands.topic(department: Self.department),
                principal: signer.id, certificate: signer.certificate.sha256, key: signer.key)
        }
        func produce(_ dossier: String, _ value: [UInt8], type: String) async throws {
            try await pipeline.producer.send(KafkaOutgoingMessage(
                topic: pipeline.topics.department(Self.department), key: dossier, value: value,
                headers: [KafkaHeader("ce_type", type)]))
        }
        func rating(_ dossier: String, attitude: Int = 4) -> String {
            """
            {"at":"\(ISO8601Instant.format(Date()))","commandId":"\(UUID().uuidString)","dossierId":"\(dossier)",\
            "scores":{"attitude":\(attitude),"guidance":5,"result":5,"timeliness":3}}
            """
        }
        func sign(_ dossier: String, result: String?) -> String {
            """
            {"at":"\(ISO8601Instant.format(Date()))","commandId":"\(UUID().uuidString)","decision":"approve",\
            "dossierId":"\(dossier)","official":{"department":"\(Self.department)","id":"\(director.id)"},\
            "preparedOutcome":"approve",\(result.map { "\"result\":\($0)," } ?? "")"round":0,\
            "ruleVersion":"\(ruleVersion)","step":0}
            """
        }
        func events(_ type: String, of dossier: String) throws -> [String] {
            try pipeline.database.query(
                """
                SELECT convert_from(payload, 'UTF8')::jsonb->'data'->>'reason' AS reason FROM outbox
                WHERE key = $1 AND topic = $3 AND convert_from(payload, 'UTF8')::jsonb->>'type' = $2 ORDER BY id
                """, [dossier, type, pipeline.topics.events]
            ).map { try $0.decodeIfPresent(String.self, "reason") ?? "" }
        }

        // Before any result: refused whoever signs.
        let early: [(dossier: String, value: [UInt8], event: String, code: String)] = [
            (ids[0], Array(rating(ids[0]).utf8), "command-rejected", "unsigned"),
            (ids[1], try signed(rating(ids[1]), type: MessageType.rate, by: gateway), "command-rejected", "role-not-allowed"),
            (ids[2], try signed(rating(ids[2]), type: MessageType.rate, by: portal), "feedback-rejected", "not-decided"),
            (ids[3], try signed(rating(ids[3], attitude: 9), type: MessageType.rate, by: portal), "feedback-rejected", "bad-scores"),
        ]
        for attack in early { try await produce(attack.dossier, attack.value, type: MessageType.rate) }
        // The director signs ids[0] with a malformed result reference (refused), ids[1] with a valid one.
        let digest = String(repeating: "ab", count: 32)
        try await produce(ids[0], try signed(
            sign(ids[0], result: "{\"documentId\":\"GP-1\",\"link\":\"javascript:alert(1)\",\"sha256\":\"\(digest)\"}"),
            type: MessageType.sign, by: director), type: MessageType.sign)
        try await produce(ids[1], try signed(
            sign(ids[1], result: "{\"documentId\":\"GP/2026/0001\",\"link\":\"https://ketqua.example.vn/GP-2026-0001.pdf\",\"sha256\":\"\(digest)\"}"),
            type: MessageType.sign, by: director), type: MessageType.sign)
        let answered = await eventually(timeout: .seconds(120)) {
            try early.allSatisfy { try !events($0.event, of: $0.dossier).isEmpty }
                && !events("signature-rejected", of: ids[0]).isEmpty && !events("decided", of: ids[1]).isEmpty
        }
        #expect(answered, "\(pipeline.logs())")
        for attack in early {
            let reasons = try events(attack.event, of: attack.dossier)
            #expect(reasons.count == 1 && reasons[0].hasPrefix(attack.code + ":"), "\(attack.code): \(reasons)")
        }
        #expect(try events("signature-rejected", of: ids[0]).first?.hasPrefix("bad-result-reference:") == true)
        #expect(try pipeline.count("SELECT count(*) FROM ratings") == 0)
        #expect(try pipeline.count("SELECT count(*) FROM decisions WHERE dossier_id = $1 AND signed_at IS NOT NULL", [ids[0]]) == 0)
        #expect(try pipeline.count(
            "SELECT count(*) FROM result_files WHERE dossier_id = $1 AND document_id = 'GP/2026/0001' AND signed_by = $2",
            [ids[1], director.id]) == 1)
        #expect(try pipeline.count("SELECT count(*) FROM result_files") == 1)

        // After the result: the portal's rating is recorded, once; the desk records a complaint.
        try await produce(ids[1], try signed(rating(ids[1]), type: MessageType.rate, by: portal), type: MessageType.rate)
        let rated = await eventually(timeout: .seconds(120)) { try !events("rated", of: ids[1]).isEmpty }
        #expect(rated, "\(pipeline.logs())")
        try await produce(ids[1], try signed(rating(ids[1], attitude: 1), type: MessageType.rate, by: desk), type: MessageType.rate)
        let complaint = """
            {"at":"\(ISO8601Instant.format(Date()))","category":"attitude","commandId":"\(UUID().uuidString)",\
            "dossierId":"\(ids[2])","reference":"KN-2026-0042"}
            """
        try await produce(ids[2], try signed(complaint, type: MessageType.complain, by: desk), type: MessageType.complain)
        let done = await eventually(timeout: .seconds(120)) {
            try !events("feedback-rejected", of: ids[1]).isEmpty && !events("complaint-recorded", of: ids[2]).isEmpty
        }
        #expect(done, "\(pipeline.logs())")
        #expect(try events("feedback-rejected", of: ids[1]).first?.hasPrefix("already-rated:") == true)
        #expect(try pipeline.count(
            "SELECT count(*) FROM ratings WHERE dossier_id = $1 AND attitude = 4 AND channel = 'portal'", [ids[1]]) == 1)
        #expect(try pipeline.count("SELECT count(*) FROM ratings") == 1)
        #expect(try pipeline.count(
            "SELECT count(*) FROM complaints WHERE dossier_id = $1 AND category = 'attitude' AND channel = 'desk-1'", [ids[2]]) == 1)
    }
}
