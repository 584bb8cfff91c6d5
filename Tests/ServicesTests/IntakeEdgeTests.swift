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

/// What the issue found reception accepting, produced as kcat would (raw bytes, any headers) and written through
/// reception's real batch transaction into a database of the test's own: each is dead-lettered with a reason that
/// names the field, nothing of it is received, and the good dossiers beside it are received and routed.
@Suite("Reception: limits at the edge")
struct IntakeEdgeTests {
    static let now = ISO8601Instant.parse("2026-12-07T09:00:00+07:00")!

    func good(_ generator: inout DossierGenerator) throws -> (Dossier, [UInt8]) {
        let dossier = generator.next(department: "labour", submittedAt: Self.now.addingTimeInterval(-60), outsideShare: 0)
        return (dossier, Array(try JSONEncoder().encode(dossier)))
    }

    /// `good`'s JSON with `replace` applied to its text (a forged variant).
    func forged(_ json: [UInt8], _ replace: (String) -> String) -> [UInt8] {
        Array(replace(String(decoding: json, as: UTF8.self)).utf8)
    }

    /// `json` with its commune replaced by `code`.
    static func commune(_ json: String, _ code: String) -> String {
        let start = json.range(of: "\"commune\":\"")!
        let end = json[start.upperBound...].firstIndex(of: "\"")!
        return json.replacingCharacters(in: start.upperBound..<end, with: code)
    }

    @Test("the generator draws only communes of deploy/catalog/communes.yaml, and the list is Hanoi's 126 of 2025")
    func generatorDrawsListedCommunes() throws {
        let bundle = try AuthorityBundle.load(from: TestEnvironment.root.appendingPathComponent("deploy"))
        let list = bundle.catalogue.communes
        #expect(list.communes.count == 126)
        #expect(list.communes.count(where: { $0.kind == .ward }) == 51)
        #expect(!list.synthetic)
        #expect(list.commune("00004")?.name == "Phường Ba Đình")
        var generator = DossierGenerator(bundle: bundle, seed: 5)
        var drawn = Set<String>()
        for _ in 0..<2_000 { drawn.insert(generator.next(submittedAt: Self.now).commune) }
        #expect(drawn.allSatisfy(list.contains))
        #expect(drawn.count > 100, "the draw spreads over the list")
    }

    @Test("bad intake is dead-lettered with its reason while the good dossiers beside it are received and routed")
    func deadLettersWithReasons() throws {
        let database = try TestDatabase("intake")
        defer { database.drop() }
        let bundle = try AuthorityBundle.load(from: TestEnvironment.root.appendingPathComponent("deploy"))
        let reception = Reception(bundle: bundle, clock: ManualClock(Self.now), logger: TestEnvironment.logger)
        var generator = DossierGenerator(bundle: bundle, seed: 7)
        let (_, template) = try good(&generator)
        let hundredThousand = (0..<100_000).map { _ in "\"application-form\"" }.joined(separator: ",")
        let cases: [(name: String, value: [UInt8], type: String?, reason: String)] = [
            ("oversized", forged(template) { $0.replacingOccurrences(of: "\"facts\":{", with: "\"facts\":{\"pad\":\"" + String(repeating: "x", count: 5_000_000) + "\",") },
             nil, "more than the 262144 allowed"),
            ("100,000 documents", forged(template) { text in
                let start = text.range(of: "\"documents\":[")!
                let end = text[start.upperBound...].firstIndex(of: "]")!
                return text.replacingCharacters(in: start.upperBound..<end, with: hundredThousand)
            }, nil, "more than the"),
            ("duplicate id", forged(template) { "{\"id\":\"4b3f2a5e-6c1d-4e8f-9a0b-1c2d3e4f5a6b\"," + $0.dropFirst() }, nil,
             "id: the key appears twice"),
            ("escaped NUL", forged(template) { $0.replacingOccurrences(of: "\"facts\":{", with: "\"facts\":{\"note\":\"a\\u0000b\",") },
             nil, "facts.note: contains a NUL character"),
            ("1e400", forged(template) { $0.replacingOccurrences(of: "\"facts\":{", with: "\"facts\":{\"areaM2\":1e400,") },
             nil, "facts.areaM2: the number 1e400 is out of range"),
            ("an official's command on the intake", template, MessageType.sign, "not an intake dossier: ce_type"),
            ("submitted in 2099", forged(template) { text in
                let start = text.range(of: "\"submittedAt\":\"")!
                let end = text[start.upperBound...].firstIndex(of: "\"")!
                return text.replacingCharacters(in: start.upperBound..<end, with: "2099-01-01T00:00:00Z")
            }, nil, "submittedAt: 2099-01-01T00:00:00Z is outside the accepted window"),
            ("overlong name", forged(template) { text in
                let start = text.range(of: "\"name\":\"")!
                let end = text[start.upperBound...].firstIndex(of: "\"")!
                return text.replacingCharacters(in: start.upperBound..<end, with: String(repeating: "N", count: 1_500))
            }, nil, "applicant.name: longer than 1000 characters"),
            ("commune 99999", forged(template) { Self.commune($0, "99999") }, nil,
             "commune: '99999' is not a commune or ward of Thành phố Hà Nội (deploy/catalog/communes.yaml lists the 126 codes"),
            // Phường Phúc Xá, abolished by the 2025 reorganisation (merged into Phường Ba Đình, 00004).
            ("abolished commune 00001", forged(template) { Self.commune($0, "00001") }, nil,
             "commune: '00001' is not a commune or ward of Thành phố Hà Nội"),
        ]
        var messages: [KafkaMessage] = []
        var goodIds: [String] = []
        for (index, bad) in cases.enumerated() {
            let (dossier, json) = try good(&generator)
            goodIds.append(dossier.id)
            messages.append(KafkaMessage(topic: "dossiers.intake", partition: 0, offset: Int64(2 * index), key: Array(dossier.id.utf8), value: json))
            messages.append(KafkaMessage(
                topic: "dossiers.intake", partition: 0, offset: Int64(2 * index + 1), key: Array("bad-\(index)".utf8),
                value: bad.value, headers: bad.type.map { [KafkaHeader("ce_type", $0)] } ?? []))
        }
        let report = try database.connection.transaction { tx in try reception.write(messages, into: tx) }
        #expect(report.deadLetters == cases.count)
        #expect(report.processed == cases.count)
        let letters = Dictionary(uniqueKeysWithValues: try database.connection.query(
            """
            SELECT key, headers->>'motcua_error' AS error, length(payload) AS size,
                   headers->>'motcua_original_length' AS original FROM outbox WHERE topic = 'dossiers.intake.dlq'
            """, []
        ).map { (try $0.decode(String.self, "key"), (try $0.decode(String.self, "error"), try $0.decode(Int.self, "size"),
                                                    try $0.decodeIfPresent(String.self, "original"))) })
        for (index, bad) in cases.enumerated() {
            let letter = letters["bad-\(index)"]
            #expect(letter?.0.contains(bad.reason) == true, "\(bad.name): \(letter?.0 ?? "no dead letter")")
        }
        // The oversized one keeps its head, its length and its digest, not the whole body.
        #expect(letters["bad-0"]?.1 == DeadLetter.keptHead)
        #expect(letters["bad-0"]?.2.flatMap { Int($0) } ?? 0 > 5_000_000)
        // Nothing of them was received; every good dossier was, and routed to its department.
        #expect(try database.connection.query("SELECT count(*) AS n FROM dossiers", [])[0].decode(Int.self, "n") == cases.count)
        #expect(try database.connection.query(
            "SELECT count(*) AS n FROM outbox WHERE topic = 'dossiers.labour' AND key = ANY($1::text[])", [goodIds]
        )[0].decode(Int.self, "n") == cases.count)
    }

    /// Every message MotCua writes is checked against its topic's size (deploy/topics.yaml maxMessageBytes) before
    /// the outbox: one that would not fit is dead-lettered at its source, with the reason, through the real consumer.
    @Test("a dossier whose step task would exceed its topic's maxMessageBytes is dead-lettered at reception with the reason; the others are routed")
    func stepTaskOverTopicLimit() async throws {
        let database = try TestDatabase("sizes")
        defer { database.drop() }
        var topics = try TestTopics.system("sizes")
        #expect(topics.maxMessageBytes["dossiers.labour"] == 1_000_000, "deploy/topics.yaml gives the limits")
        topics.maxMessageBytes["dossiers.labour"] = 6_000
        let bundle = try AuthorityBundle.load(from: TestEnvironment.root.appendingPathComponent("deploy"))
        let now = Date()
        let reception = Reception(bundle: bundle, clock: ManualClock(now), topics: topics, logger: TestEnvironment.logger)
        var generator = DossierGenerator(bundle: bundle, seed: 11)
        let kafka = KafkaClientOptions(bootstrapServers: try TestEnvironment.kafkaBootstrap())
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(client: kafka), logger: TestEnvironment.logger)
        var goodIds: [String] = []
        let big = generator.next(department: "labour", submittedAt: now.addingTimeInterval(-60), outsideShare: 0)
        let bigJSON = forged(Array(try JSONEncoder().encode(big))) {
            // Within every intake limit (strings of 900 characters), over the department topic's 6,000 bytes.
            $0.replacingOccurrences(
                of: "\"facts\":{",
                with: "\"facts\":{" + (1...8).map { "\"note\($0)\":\"" + String(repeating: "x", count: 900) + "\"," }.joined())
        }
        try producer.produce(KafkaOutgoingMessage(topic: topics.intake, key: big.id, value: bigJSON))
        for _ in 0..<20 {
            let dossier = generator.next(department: "labour", submittedAt: now.addingTimeInterval(-60), outsideShare: 0)
            goodIds.append(dossier.id)
            try producer.produce(KafkaOutgoingMessage(topic: topics.intake, key: dossier.id, value: Array(try JSONEncoder().encode(dossier))))
        }
        try producer.flush()
        var settings = EffectivelyOnceConsumer.Settings(group: topics.group("motcua.reception"), topics: [topics.intake])
        settings.batchSize = 50
        let consumer = EffectivelyOnceConsumer(
            settings: settings, kafka: kafka, postgres: PostgresConfiguration(connectionString: database.url),
            writer: reception, logger: TestEnvironment.logger)
        let run = Task.detached { try await onThread("consumer") { try consumer.runBlocking() } }
        defer { consumer.stop() }
        func count(_ sql: String, _ parameters: [(any PostgresEncodable)?]) throws -> Int {
            try database.connection.query(sql, parameters)[0].decode(Int.self, at: 0)
        }
        let done = await eventually(timeout: TestEnvironment.consumerDeadline) {
            try count("SELECT count(*) FROM outbox WHERE topic = $1 AND key = ANY($2::text[])", [topics.department("labour"), goodIds]) == 20
                && count("SELECT count(*) FROM outbox WHERE topic = $1", [DeadLetter.topic(of: topics.intake)]) == 1
        }
        #expect(done)
        let reason = try database.connection.query(
            "SELECT headers->>'motcua_error' AS error, key FROM outbox WHERE topic = $1", [DeadLetter.topic(of: topics.intake)])
        #expect(try reason.first?.decode(String.self, "key") == big.id)
        let text = try reason.first?.decode(String.self, "error") ?? ""
        #expect(text.contains("over the 6000 bytes the topic takes") && text.contains(topics.department("labour")), "\(text)")
        #expect(try count("SELECT count(*) FROM outbox WHERE key = $1 AND topic = $2", [big.id, topics.department("labour")]) == 0)
        consumer.stop()
        try await run.value
    }

    @Test("the strict reader names duplicate keys however they are escaped, and leaves ordinary JSON alone")
    func strictJSON() {
        #expect(StrictJSON.problem(in: Array(#"{"a":1,"\u0061":2}"#.utf8))?.field == "a")
        #expect(StrictJSON.problem(in: Array(#"{"x":{"k":[1,{"k":2}]},"y":"\ud83d\ude00","z":"\ud83d\ude01"}"#.utf8)) == nil)
        #expect(StrictJSON.problem(in: Array(#"{"e":"\ud83d\ude00","e2":1e308}"#.utf8)) == nil)
        #expect(StrictJSON.problem(in: Array(#"{"n":-1e400}"#.utf8))?.problem.contains("out of range") == true)
        let deep = String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
        #expect(StrictJSON.problem(in: Array(deep.utf8))?.problem.contains("nested deeper") == true)
    }
}
