import Authority
import Foundation
import Postgres
import Store
import TestSupport
import Testing

/// Online payment (issue 21) against a hand computation in SQL: dossiers paid online ÷ dossiers of fee-bearing
/// procedures, zero-fee (a procedure without a fee, a fee of 0, an exempt applicant) excluded; and the fees collected.
@Suite("Scorecard: online payment")
struct ScorecardPaymentTests {
    static let period = Scorecard.Period(
        from: LocalDate("2026-11-01"), to: LocalDate("2026-11-30"),
        now: LocalDate("2026-12-07")!.instant(hour: 10))

    /// The deploy catalogue, with 2.000633 given a fee households are exempt from and 1.001064 a fee of 0
    /// (2.001240 keeps its catalogue fee).
    static func catalogue() throws -> Catalogue {
        let bundle = try AuthorityBundle.load(from: TestEnvironment.root.appendingPathComponent("deploy"))
        let c = bundle.catalogue
        return Catalogue(
            departments: c.departments, documentTypes: c.documentTypes,
            procedures: c.procedures.map { procedure in
                var p = procedure
                if p.code == "2.000633" { p.fee = .init(amountVND: 1_200_000, exemptApplicantKinds: [.household]) }
                if p.code == "1.001064" { p.fee = .init(amountVND: 0) }
                return p
            })
    }

    @Test("paid online ÷ dossiers owing a fee, per department and for the City, equals the hand computation; fees collected too")
    func onlinePayment() throws {
        let database = try TestDatabase("scorecard-pay")
        defer { database.drop() }
        let db = database.connection
        let catalogue = try Self.catalogue()
        #expect(catalogue.procedure("2.001240")?.fee?.amountVND == 2_200_000)
        let procedures = ["2.001240", "2.000633", "1.001064", "2.000620"]
        let kinds = ["citizen", "household", "enterprise", "organisation"]
        let channels = ["national-portal", "provincial-gateway", "desk"]
        var random = SplitMix(seed: 21)
        for i in 0..<300 {
            let id = "pay-\(i)"
            let procedure = procedures[random.next(upTo: procedures.count)]
            let received = LocalDate("2026-10-20")!.adding(days: random.next(upTo: 47))
            try db.execute(
                """
                INSERT INTO dossiers (id, code, procedure, channel, commune, applicant_kind, submitted_at, received_at,
                                      status, body)
                VALUES ($1, $1, $2, 'online', '00004', $3, ($4::date + time '09:00') AT TIME ZONE 'Asia/Ho_Chi_Minh',
                        ($4::date + time '09:00') AT TIME ZONE 'Asia/Ho_Chi_Minh', $5, '{}')
                """,
                [id, procedure, kinds[random.next(upTo: kinds.count)], received.description,
                 random.next(upTo: 10) == 0 ? "intake-refused" : "received"])
            guard random.next(upTo: 3) != 0 else { continue }
            // Paid 0–12 days after receipt (some after the period's end), at 23:30 local on some days.
            let paid = received.adding(days: random.next(upTo: 13))
            let time = random.next(upTo: 4) == 0 ? "23:30" : "10:00"
            try db.execute(
                """
                INSERT INTO fee_payments (dossier_id, department, step, procedure, amount_vnd, channel, receipt_number,
                                          principal, command_id, paid_at, source_topic, source_partition, source_offset)
                VALUES ($1, 'industry-trade', 0, $2, $3::int8, $4, $5, 'payment-gateway', gen_random_uuid(),
                        ($6::date + $7::time) AT TIME ZONE 'Asia/Ho_Chi_Minh', 'dossiers.industry-trade', 0, $8::int8)
                """,
                [id, procedure, String(100_000 * (1 + random.next(upTo: 30))), channels[random.next(upTo: 3)],
                 "R-\(i)", paid.description, time, String(i)])
        }
        let asOf = ISO8601Instant.format(Self.period.asOf)
        let hand = try db.query(
            """
            SELECT count(*) FILTER (WHERE f.channel IN ('national-portal', 'provincial-gateway') AND f.paid_at < $1)
                       AS paid_online,
                   count(*) AS owing
            FROM dossiers d LEFT JOIN fee_payments f ON f.dossier_id = d.id
            WHERE d.status = 'received'
              AND d.received_at >= timestamptz '2026-10-31 17:00:00Z' AND d.received_at < $1
              AND (d.procedure = '2.001240' OR (d.procedure = '2.000633' AND d.applicant_kind <> 'household'))
            """, [asOf])[0]
        let handCollected = try db.query(
            """
            SELECT count(*) AS n, COALESCE(sum(amount_vnd), 0)::int8 AS amount,
                   COALESCE(sum(amount_vnd) FILTER (WHERE channel <> 'desk'), 0)::int8 AS online
            FROM fee_payments WHERE paid_at >= timestamptz '2026-10-31 17:00:00Z' AND paid_at < $1
            """, [asOf])[0]
        let cards = Scorecard.cards(
            progress: try Scorecard.progress(Self.period, in: db), received: try Scorecard.received(Self.period, in: db),
            payments: (
                try Scorecard.feeDossiers(Self.period, catalogue: catalogue, in: db),
                try Scorecard.collected(Self.period, in: db)
            ),
            catalogue: catalogue)
        let city = try #require(cards.last)
        let payment = try #require(city.indicators.first { $0.group == .onlinePayment })
        let paidOnline = try hand.decode(Int.self, "paid_online"), owing = try hand.decode(Int.self, "owing")
        #expect(payment.status == .computed)
        #expect(payment.numerator == paidOnline && payment.denominator == owing)
        #expect(payment.points == 10 * Double(paidOnline) / Double(owing))
        #expect(paidOnline > 0 && paidOnline < owing)
        #expect(city.feesCollected?.payments == (try handCollected.decode(Int.self, "n")))
        #expect(city.feesCollected?.amountVND == Int(try handCollected.decode(Int64.self, "amount")))
        #expect(city.feesCollected?.onlineAmountVND == Int(try handCollected.decode(Int64.self, "online")))
        // Both fee-bearing procedures are industry-trade's: its card holds them all, the others none.
        for card in cards.dropLast() {
            let p = try #require(card.indicators.first { $0.group == .onlinePayment })
            if card.unit == "industry-trade" {
                #expect(p.numerator == paidOnline && p.denominator == owing)
            } else {
                #expect(p.status == .noDossiers && p.points == nil, "\(card.unit)")
            }
        }
        // Without the payments read, never a guessed value.
        let unread = Scorecard.cards(progress: [], received: [], catalogue: catalogue)
        #expect(unread.allSatisfy { $0.indicators.first { $0.group == .onlinePayment }?.status == .notComputable })
    }
}

extension ScorecardPaymentTests {
    @Test("electronic results: approvals with a result file ÷ approvals in the period, per department and for the City, equal the hand computation")
    func electronicResults() throws {
        let database = try TestDatabase("scorecard-results")
        defer { database.drop() }
        let db = database.connection
        let catalogue = try Self.catalogue()
        let procedures = ["2.001240", "1.001064", "1.000105", "1.010727"]
        var random = SplitMix(seed: 2126)
        for i in 0..<240 {
            let id = "res-\(i)"
            let received = LocalDate("2026-10-15")!.adding(days: random.next(upTo: 40))
            let decided = received.adding(days: random.next(upTo: 15))
            let outcome = ["approve", "approve", "refuse", "none"][random.next(upTo: 4)]
            try db.execute(
                """
                INSERT INTO dossiers (id, code, procedure, channel, commune, applicant_kind, submitted_at, received_at,
                                      status, body)
                VALUES ($1, $1, $2, 'online', '00004', 'enterprise', ($3::date + time '09:00') AT TIME ZONE 'Asia/Ho_Chi_Minh',
                        ($3::date + time '09:00') AT TIME ZONE 'Asia/Ho_Chi_Minh', 'received', '{}')
                """, [id, procedures[random.next(upTo: procedures.count)], received.description])
            try db.execute(
                """
                INSERT INTO dossier_status (dossier_id, status, outcome, decided_at, updated_at)
                VALUES ($1, 'decided', NULLIF($2, 'none'),
                        CASE WHEN $2 = 'none' THEN NULL ELSE ($3::date + time '23:30') AT TIME ZONE 'Asia/Ho_Chi_Minh' END,
                        now())
                """, [id, outcome, decided.description])
            guard outcome != "none", random.next(upTo: 2) == 0 else { continue }
            try db.execute(
                """
                INSERT INTO result_files (dossier_id, department, step, document_id, sha256, link, signed_by, recorded_at)
                VALUES ($1, 'culture', 0, 'doc:' || $1, repeat('a', 64), 'https://docs.example/' || $1, 'x',
                        ($2::date + time '23:45') AT TIME ZONE 'Asia/Ho_Chi_Minh')
                """, [id, decided.adding(days: random.next(upTo: 3)).description])
        }
        let asOf = ISO8601Instant.format(Self.period.asOf)
        let hand = try db.query(
            """
            SELECT d.procedure, count(*) AS completed,
                   count(r.dossier_id) FILTER (WHERE r.recorded_at < $1) AS with_file
            FROM dossier_status s JOIN dossiers d ON d.id = s.dossier_id
            LEFT JOIN result_files r ON r.dossier_id = d.id
            WHERE s.outcome = 'approve' AND s.decided_at >= timestamptz '2026-10-31 17:00:00Z' AND s.decided_at < $1
            GROUP BY d.procedure ORDER BY d.procedure
            """, [asOf]
        ).map { row in
            Scorecard.ResultFiles(
                procedure: try row.decode(String.self, "procedure"), completed: try row.decode(Int.self, "completed"),
                withFile: try row.decode(Int.self, "with_file"))
        }
        let rows = try Scorecard.resultFiles(Self.period, in: db)
        #expect(rows == hand)
        let cards = Scorecard.cards(progress: [], received: [], resultFiles: rows, catalogue: catalogue)
        let city = try #require(cards.last?.electronicResults)
        #expect(city.numerator == hand.map(\.withFile).reduce(0, +))
        #expect(city.denominator == hand.map(\.completed).reduce(0, +))
        #expect(city.numerator > 0 && city.numerator < city.denominator)
        for card in cards.dropLast() {
            let mine = hand.filter { catalogue.procedure($0.procedure)?.department.rawValue == card.unit }
            #expect(card.electronicResults?.numerator == mine.map(\.withFile).reduce(0, +), "\(card.unit)")
            #expect(card.electronicResults?.denominator == mine.map(\.completed).reduce(0, +), "\(card.unit)")
        }
        // The digitisation group itself stays not computable: no points for one part of it.
        #expect(cards.allSatisfy { $0.indicators.first { $0.group == .digitisation }?.status == .notComputable })
    }
}

/// A small reproducible generator (SplitMix64).
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func next(upTo n: Int) -> Int { Int(next() % UInt64(n)) }
}
