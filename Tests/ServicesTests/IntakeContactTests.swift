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

/// The intake's optional `contact` (issue 21): reception stores it apart (`applicant_contacts`) and it is neither in
/// the stored dossier body nor in any message MotCua writes; a malformed one is dead-lettered with its reason.
@Suite("Reception: the applicant's contact")
struct IntakeContactTests {
    static let now = ISO8601Instant.parse("2026-12-07T09:00:00+07:00")!

    @Test("a contact is stored apart and is in no body and no outbox message; a malformed or unknown-channel contact is dead-lettered; dossiers without one are unchanged")
    func contactStoredApart() throws {
        let database = try TestDatabase("contact")
        defer { database.drop() }
        let bundle = try AuthorityBundle.load(from: TestEnvironment.root.appendingPathComponent("deploy"))
        let reception = Reception(bundle: bundle, clock: ManualClock(Self.now), logger: TestEnvironment.logger)
        var generator = DossierGenerator(bundle: bundle, seed: 2121)
        func json(_ dossier: Dossier, contact: String?) throws -> [UInt8] {
            let text = String(decoding: try JSONEncoder().encode(dossier), as: UTF8.self)
            guard let contact else { return Array(text.utf8) }
            return Array(("{\"contact\":\(contact)," + text.dropFirst()).utf8)
        }
        let phone = "+84 912 345 678"
        let withContact = generator.next(department: "labour", submittedAt: Self.now.addingTimeInterval(-60), outsideShare: 0)
        let without = generator.next(department: "labour", submittedAt: Self.now.addingTimeInterval(-60), outsideShare: 0)
        let badChannel = generator.next(department: "labour", submittedAt: Self.now.addingTimeInterval(-60), outsideShare: 0)
        let badAddress = generator.next(department: "labour", submittedAt: Self.now.addingTimeInterval(-60), outsideShare: 0)
        let values: [(String, [UInt8])] = [
            (withContact.id, try json(withContact, contact: "{\"address\":\"\(phone)\",\"channel\":\"zalo\"}")),
            (without.id, try json(without, contact: nil)),
            (badChannel.id, try json(badChannel, contact: "{\"address\":\"a@b.vn\",\"channel\":\"pigeon\"}")),
            (badAddress.id, try json(badAddress, contact: "{\"address\":\"a\\u0007b\",\"channel\":\"sms\"}")),
        ]
        let messages = values.enumerated().map { index, value in
            KafkaMessage(topic: "dossiers.intake", partition: 0, offset: Int64(index), key: Array(value.0.utf8), value: value.1)
        }
        let report = try database.connection.transaction { tx in try reception.write(messages, into: tx) }
        #expect(report.deadLetters == 2)
        let db = database.connection
        let contacts = try db.query("SELECT dossier_id, channel, address FROM applicant_contacts", []).map {
            [try $0.decode(String.self, "dossier_id"), try $0.decode(String.self, "channel"), try $0.decode(String.self, "address")]
        }
        #expect(contacts == [[withContact.id, "zalo", phone]])
        // Not in the stored body, not in any message (events, step tasks, dead letters' heads aside).
        let bodies = try db.query("SELECT id, body::text AS body FROM dossiers ORDER BY id", []).map {
            (try $0.decode(String.self, "id"), try $0.decode(String.self, "body"))
        }
        #expect(Set(bodies.map(\.0)) == [withContact.id, without.id])
        #expect(bodies.allSatisfy { !$0.1.contains("912 345") && !$0.1.contains("contact") })
        let payloads = try db.query(
            "SELECT topic, convert_from(payload, 'UTF8') AS text FROM outbox WHERE topic NOT LIKE '%.dlq'", []
        ).map { (try $0.decode(String.self, "topic"), try $0.decode(String.self, "text")) }
        #expect(payloads.contains { $0.0 == "dossiers.labour" && $0.1.contains(withContact.id) })
        #expect(payloads.allSatisfy { !$0.1.contains("912 345") && !$0.1.contains("\"contact\"") })
        let letters = try db.query(
            "SELECT key, headers->>'motcua_error' AS error FROM outbox WHERE topic = 'dossiers.intake.dlq' ORDER BY key", []
        ).map { (try $0.decode(String.self, "key"), try $0.decode(String.self, "error")) }
        #expect(letters.count == 2)
        #expect(letters.allSatisfy { $0.1.contains("contact") }, "\(letters)")
        // The stored body of the dossier that had a contact is its dossier as decoded, digest and all.
        let stored = try #require(bodies.first { $0.0 == withContact.id }?.1)
        #expect(try Dossier.decode(json: Data(stored.utf8)).documents == withContact.documents)
    }
}
