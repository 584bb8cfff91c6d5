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

    static func calendar() throws -> WorkingCalendar {
        try AuthorityBundle.load(from: TestEnvironment.root.appendingPathComponent("deploy")).calendar
    }

    @Test("paid online ÷ dossiers owing a fee, per department and for the City, equals the hand computation; fees collected too")
    func onlinePayment() throws {
        let database = try TestDatabase("scorecardpay")
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
            progress: try Scorecard.progress(Self.period, calendar: try Self.calendar(), in: db),
            received: try Scorecard.received(Self.period, in: db),
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
        let database = try TestDatabase("scorecardresults")
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

extension ScorecardPaymentTests {
    @Test("satisfaction: 100% − (late rate + rate of dossiers with a complaint or a dissatisfied rating, each once), full marks at 90%, equals the hand computation; ratings reported beside it")
    func satisfaction() throws {
        let database = try TestDatabase("scorecardsatisfaction")
        defer { database.drop() }
        let db = database.connection
        let catalogue = try Self.catalogue()
        try db.execute("SELECT setseed(0.766)", [])
        // 400 dossiers received 1 November – 10 December, due 3–22 days later; 70% decided 0–25 days after receipt.
        try db.execute(
            """
            INSERT INTO dossiers (id, code, procedure, channel, commune, applicant_kind, submitted_at, received_at,
                                  status, body)
            SELECT 's' || i, 'S-' || i, ($1::text[])[1 + floor(random() * cardinality($1::text[]))::int], 'online',
                   '00004', 'citizen', t, t, 'received', '{}'
            FROM (SELECT i, timestamptz '2026-10-31 18:00Z' + random() * interval '40 days' AS t
                  FROM generate_series(1, 400) i) x
            """, [["2.001240", "1.001064", "1.000105", "1.010727", "2.002180"]])
        try db.execute(
            """
            INSERT INTO deadlines (dossier_id, step, kind, opened_at, due_date, due_at, status)
            SELECT id, -1, 'overall', received_at,
                   (received_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date + 3 + floor(random() * 20)::int, now(), 'open'
            FROM dossiers
            """, [])
        try db.execute(
            """
            INSERT INTO dossier_status (dossier_id, status, outcome, decided_at, updated_at)
            SELECT id, 'in-review', CASE WHEN r < 0.7 THEN 'approve' END,
                   CASE WHEN r < 0.7 THEN received_at + random() * interval '25 days' END, now()
            FROM (SELECT id, received_at, random() AS r FROM dossiers) x
            """, [])
        // Complaints on a fifth of the dossiers, some twice, some recorded after the period's end.
        try db.execute(
            """
            INSERT INTO complaints (complaint_id, dossier_id, department, category, reference, channel, recorded_at)
            SELECT gen_random_uuid(), id, 'culture', 'late', 'KN-' || k || '-' || id, 'portal',
                   received_at + random() * interval '30 days'
            FROM dossiers, generate_series(1, 2) k WHERE random() < 0.12
            """, [])
        try db.execute(
            """
            INSERT INTO ratings (dossier_id, department, timeliness, attitude, guidance, result, channel, command_id,
                                 rated_at)
            SELECT dossier_id, 'culture', 1 + floor(random() * 5)::int, 1 + floor(random() * 5)::int,
                   1 + floor(random() * 5)::int, 1 + floor(random() * 5)::int, 'portal', gen_random_uuid(),
                   decided_at + interval '1 day'
            FROM dossier_status WHERE outcome IS NOT NULL AND random() < 0.5
            """, [])
        let asOf = ISO8601Instant.format(Self.period.asOf)
        // By hand: each dossier received before the end of November is counted; late = decided after its due
        // date, or undecided at the period's end with its due date passed; complained = a complaint before then;
        // rated low = a rating before then with some criterion at 1 or 2 (of 5).
        let hand = try db.query(
            """
            WITH one AS (
                SELECT d.id,
                       CASE WHEN s.decided_at < $1
                            THEN (s.decided_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date > o.due_date
                            ELSE date '2026-12-01' > o.due_date END AS late,
                       EXISTS (SELECT 1 FROM complaints c WHERE c.dossier_id = d.id AND c.recorded_at < $1) AS complained,
                       EXISTS (SELECT 1 FROM ratings r WHERE r.dossier_id = d.id AND r.rated_at < $1
                               AND (r.timeliness IN (1, 2) OR r.attitude IN (1, 2) OR r.guidance IN (1, 2)
                                    OR r.result IN (1, 2))) AS rated_low
                FROM dossiers d JOIN deadlines o ON o.dossier_id = d.id JOIN dossier_status s ON s.dossier_id = d.id
                WHERE d.received_at < $1
            )
            SELECT count(*) AS counted, count(*) FILTER (WHERE late) AS late,
                   count(*) FILTER (WHERE complained) AS complained,
                   count(*) FILTER (WHERE rated_low) AS rated_low,
                   count(*) FILTER (WHERE complained OR rated_low) AS dissatisfied,
                   count(*) FILTER (WHERE complained AND rated_low) AS both,
                   (SELECT count(*) FROM ratings r JOIN dossiers d ON d.id = r.dossier_id
                    WHERE r.rated_at >= $1 AND least(r.timeliness, r.attitude, r.guidance, r.result) <= 2) AS low_later,
                   (SELECT count(*) FROM ratings WHERE rated_at >= timestamptz '2026-10-31 17:00Z' AND rated_at < $1)
                       AS ratings,
                   (SELECT sum(attitude) FROM ratings WHERE rated_at >= timestamptz '2026-10-31 17:00Z' AND rated_at < $1)
                       AS attitude
            FROM one
            """, [asOf])[0]
        let counted = try hand.decode(Int.self, "counted"), late = try hand.decode(Int.self, "late")
        let complained = try hand.decode(Int.self, "complained")
        let dissatisfied = try hand.decode(Int.self, "dissatisfied")
        // The generated data exercises every case: ratings that add dossiers, dossiers both complained of and rated
        // low (counted once), and low ratings after the period's end (not counted).
        #expect(late > 0 && complained > 0 && dissatisfied > complained && counted > late + dissatisfied)
        #expect(try hand.decode(Int.self, "both") > 0 && hand.decode(Int.self, "low_later") > 0)
        let cards = Scorecard.cards(
            progress: try Scorecard.progress(Self.period, calendar: try Self.calendar(), in: db), received: [], complaintsRead: true,
            ratings: try Scorecard.ratings(Self.period, in: db), catalogue: catalogue)
        let city = try #require(cards.last)
        let satisfaction = try #require(city.indicators.first { $0.group == .satisfaction })
        let rate = Double(counted - late - dissatisfied) / Double(counted)
        #expect(satisfaction.status == .computed)
        #expect(satisfaction.numerator == counted - late - dissatisfied && satisfaction.denominator == counted)
        #expect(city.progressDetail.withComplaints == complained)
        #expect(city.progressDetail.ratedDissatisfied == (try hand.decode(Int.self, "rated_low")))
        #expect(city.progressDetail.dissatisfied == dissatisfied)
        #expect(satisfaction.rate == rate)
        #expect(satisfaction.points == 18 * min(1, max(0, rate) / 0.9))
        #expect(city.ratings?.count == (try hand.decode(Int.self, "ratings")))
        #expect(city.ratings?.sums["attitude"] == (try hand.decode(Int.self, "attitude")))
        // Per department: each card's figures add up to the City's.
        let departments = cards.dropLast().compactMap { $0.indicators.first { $0.group == .satisfaction } }
        #expect(departments.compactMap(\.denominator).reduce(0, +) == counted)
        #expect(departments.compactMap(\.numerator).reduce(0, +) == counted - late - dissatisfied)
        // Full marks at 90%, none below 0.
        var detail = Scorecard.ProgressDetail()
        detail.counted = 100
        detail.finishedOnTime = 92
        #expect(Scorecard.Indicator.satisfaction(detail).points == 18)
        detail.withComplaints = 2
        detail.ratedDissatisfied = 2
        detail.dissatisfied = 3
        #expect(Scorecard.Indicator.satisfaction(detail).points == 18 * (0.89 / 0.9))
        detail.finishedOnTime = 0
        #expect(Scorecard.Indicator.satisfaction(detail).points == 0)
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
