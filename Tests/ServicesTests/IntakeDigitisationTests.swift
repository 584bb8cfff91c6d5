import Authority
import EffectivelyOnce
import Foundation
import Kafka
import Messages
import Postgres
import Services
import Simulation
import Store
import TestSupport
import Testing

/// The intake's optional `digitised` and `vneidVerified` (issue 21, migration 030): reception stores them as sent,
/// the national portal records carry them, the scorecard's digitisation part counts the dossiers digitised at
/// reception; messages without them stay valid, and any other type is dead-lettered with its reason.
@Suite("Reception: digitised and VNeID-verified")
struct IntakeDigitisationTests {
    static let now = ISO8601Instant.parse("2026-03-02T09:00:00+07:00")!

    @Test("stored as sent (absent stays NULL), carried on every portal record of the dossier, a non-boolean dead-lettered with its reason and nothing stored")
    func storedAndCarried() throws {
        let fixture = try CoordinatorFixture(at: "2026-03-02T09:00:00+07:00")
        defer { fixture.drop() }
        let reception = Reception(bundle: fixture.bundle, clock: ManualClock(Self.now), logger: TestEnvironment.logger)
        var generator = DossierGenerator(bundle: fixture.bundle, seed: 3030)
        func next() -> Dossier {
            generator.next(department: "labour", submittedAt: Self.now.addingTimeInterval(-60), outsideShare: 0)
        }
        var both = next(), notDigitised = next()
        let silent = next(), wrongType = next(), nullValue = next()
        both.digitised = true
        both.vneidVerified = true
        notDigitised.digitised = false
        func text(_ dossier: Dossier) throws -> String { String(decoding: try JSONEncoder().encode(dossier), as: UTF8.self) }
        let values: [(String, String)] = [
            (both.id, try text(both)), (notDigitised.id, try text(notDigitised)), (silent.id, try text(silent)),
            (wrongType.id, "{\"digitised\":\"yes\"," + (try text(wrongType)).dropFirst()),
            (nullValue.id, "{\"vneidVerified\":null," + (try text(nullValue)).dropFirst()),
        ]
        #expect(values[0].1.contains("\"digitised\":true") && values[0].1.contains("\"vneidVerified\":true"))
        #expect(!values[2].1.contains("digitised") && !values[2].1.contains("vneidVerified"))
        let messages = values.enumerated().map { index, value in
            KafkaMessage(
                topic: "dossiers.intake", partition: 0, offset: Int64(index), key: Array(value.0.utf8),
                value: Array(value.1.utf8))
        }
        let report = try fixture.database.transaction { tx in try reception.write(messages, into: tx) }
        #expect(report.deadLetters == 2)
        let db = fixture.database
        let stored = try db.query("SELECT id, digitised, vneid_verified FROM dossiers", []).map {
            [try $0.decode(String.self, "id"): "\(try $0.decodeIfPresent(Bool.self, "digitised").map(String.init) ?? "null") "
                + "\(try $0.decodeIfPresent(Bool.self, "vneid_verified").map(String.init) ?? "null")"]
        }.reduce(into: [String: String]()) { $0.merge($1) { a, _ in a } }
        #expect(stored == [both.id: "true true", notDigitised.id: "false null", silent.id: "null null"], "\(stored)")
        let errors = try db.query(
            "SELECT key, headers->>'motcua_error' AS error FROM outbox WHERE topic = 'dossiers.intake.dlq'", []
        ).reduce(into: [String: String]()) { $0[try $1.decode(String.self, "key")] = try $1.decodeIfPresent(String.self, "error") }
        #expect(errors.keys.sorted() == [wrongType.id, nullValue.id].sorted())
        #expect(errors[wrongType.id]?.contains("digitised") == true, "\(errors)")
        #expect(errors[nullValue.id]?.contains("vneidVerified") == true, "\(errors)")

        // The coordinator projects reception's events: every portal record carries the dossier's fields.
        let decoder = MessageCoding.decoder()
        let events = try db.query(
            "SELECT payload FROM outbox WHERE topic = $1 ORDER BY id", [Topics().events]
        ).map { try decoder.decode(DossierEvent.self, from: Data(try $0.decode(PostgresBytes.self, "payload").bytes)) }
        #expect(Set(events.map(\.dossierId)) == [both.id, notDigitised.id, silent.id])
        try fixture.apply(events)
        try fixture.apply([fixture.event(.withdrawn, notDigitised.id, department: "labour", at: "2026-03-03T10:00:00+07:00")])
        let records = try db.query(
            "SELECT key, convert_from(payload, 'UTF8') AS text FROM outbox WHERE topic = $1 ORDER BY id",
            [Topics().portalSync]
        ).map { row -> (String, [String: Any]) in
            let json = try JSONSerialization.jsonObject(with: Data(try row.decode(String.self, "text").utf8))
            return (try row.decode(String.self, "key"), try #require(json as? [String: Any]))
        }
        func fields(_ id: String) -> [String] {
            records.filter { $0.0 == id }.map {
                "\($0.1["statusCode"] ?? "-") \($0.1["digitised"] ?? "-") \($0.1["vneidVerified"] ?? "-")"
            }
        }
        #expect(fields(both.id) == ["2 1 1", "4 1 1"], "\(fields(both.id))")
        #expect(fields(notDigitised.id) == ["2 0 -", "4 0 -", "7 0 -"], "\(fields(notDigitised.id))")
        #expect(fields(silent.id) == ["2 - -", "4 - -"], "\(fields(silent.id))")
    }

    @Test("digitised at reception ÷ dossiers received in the period, per department and for the City, equals a hand computation in SQL; absent counts as received and not digitised")
    func scorecardPart() throws {
        let database = try TestDatabase("digitised")
        defer { database.drop() }
        let db = database.connection
        let catalogue = try AuthorityBundle.load(from: TestEnvironment.root.appendingPathComponent("deploy")).catalogue
        try db.execute("SELECT setseed(0.030)", [])
        // 600 dossiers over October to mid-December: a tenth refused at intake; digitised true, false or not said.
        try db.execute(
            """
            INSERT INTO dossiers (id, code, procedure, channel, commune, applicant_kind, submitted_at, received_at,
                                  status, body, digitised, vneid_verified)
            SELECT 'g' || i, 'G-' || i, ($1::text[])[1 + floor(random() * cardinality($1::text[]))::int],
                   (ARRAY['online', 'counter', 'post'])[1 + floor(random() * 3)::int], '00004', 'citizen', t, t,
                   CASE WHEN random() < 0.1 THEN 'intake-refused' ELSE 'received' END, '{}',
                   (ARRAY[true, false, NULL])[1 + floor(random() * 3)::int], random() < 0.5
            FROM (SELECT i, timestamptz '2026-09-30 17:00Z' + random() * interval '75 days' AS t
                  FROM generate_series(1, 600) i) x
            """, [["2.001240", "1.001064", "1.000105", "1.010727", "2.002180", "2.000633"]])
        let period = Scorecard.Period(
            from: LocalDate("2026-11-01"), to: LocalDate("2026-11-30"), now: LocalDate("2026-12-07")!.instant(hour: 10))
        let hand = try db.query(
            """
            SELECT count(*) FILTER (WHERE digitised IS TRUE) AS digitised, count(*) FILTER (WHERE digitised IS NULL) AS silent,
                   count(*) AS received
            FROM dossiers
            WHERE status = 'received' AND received_at >= timestamptz '2026-11-01 00:00+07'
              AND received_at < timestamptz '2026-12-01 00:00+07'
            """, [])[0]
        let digitised = try hand.decode(Int.self, "digitised"), received = try hand.decode(Int.self, "received")
        let silent = try hand.decode(Int.self, "silent")
        #expect(digitised > 0 && silent > 0 && received > digitised + silent)
        let cards = Scorecard.cards(progress: [], received: try Scorecard.received(period, in: db), catalogue: catalogue)
        let city = try #require(cards.last)
        #expect(city.unit == "city")
        #expect(city.digitisedAtReception == Scorecard.Measure(digitised, received))
        #expect(city.digitisedNotSaid == silent)
        let departments = cards.dropLast()
        #expect(departments.map(\.digitisedAtReception.numerator).reduce(0, +) == digitised)
        #expect(departments.map(\.digitisedAtReception.denominator).reduce(0, +) == received)
        // Per department against the hand computation too (the owner of the procedure).
        for card in departments where card.digitisedAtReception.denominator > 0 {
            let codes = catalogue.procedures(ownedBy: DepartmentID(card.unit)).map(\.code)
            let mine = try db.query(
                """
                SELECT count(*) FILTER (WHERE digitised IS TRUE) AS d, count(*) AS n FROM dossiers
                WHERE status = 'received' AND received_at >= timestamptz '2026-11-01 00:00+07'
                  AND received_at < timestamptz '2026-12-01 00:00+07' AND procedure = ANY($1::text[])
                """, [codes])[0]
            #expect(card.digitisedAtReception == Scorecard.Measure(try mine.decode(Int.self, "d"), try mine.decode(Int.self, "n")))
        }
        // The group stays not computable: no points for parts whose weighting is not known.
        #expect(cards.allSatisfy { $0.indicators.first { $0.group == .digitisation }?.status == .notComputable })
    }
}
