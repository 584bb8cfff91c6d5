import Authority
import Foundation
import Postgres
import Store
import TestSupport
import Testing

/// The Decision 766 indicators against hand computations written here in SQL, on a generated period (November
/// 2026, read on 7 December) plus one procedure per rule so each rule is seen on its own.
@Suite("Scorecard")
struct ScorecardTests {
    static let period = Scorecard.Period(
        from: LocalDate("2026-11-01"), to: LocalDate("2026-11-30"),
        now: LocalDate("2026-12-07")!.instant(hour: 10))

    /// One dossier of a rule's own procedure: received `received`, appointment `due`, decided on `decided`
    /// (nil: open), `supplements` requests, paused since `pausedSince` (nil: not paused).
    static func dossier(
        _ id: String, received: String = "2026-11-03", due: String = "2026-11-20", decided: String? = nil,
        supplements: Int = 0, pausedSince: String? = nil, apologyFrom: String? = nil, withdrawn: String? = nil,
        in db: PostgresConnection
    ) throws {
        try db.execute(
            """
            INSERT INTO dossiers (id, code, procedure, channel, commune, applicant_kind, submitted_at, received_at,
                                  status, due_date, body)
            VALUES ($1, $1, $1, 'online', '00004', 'citizen', ($2::date + time '09:00') AT TIME ZONE 'Asia/Ho_Chi_Minh',
                    ($2::date + time '09:00') AT TIME ZONE 'Asia/Ho_Chi_Minh', 'received', $3::date, '{}')
            """, [id, received, due])
        let decidedAt = decided.map { "(date '\($0)' + time '10:00') AT TIME ZONE 'Asia/Ho_Chi_Minh'" } ?? "NULL"
        try db.execute(
            """
            INSERT INTO dossier_status (dossier_id, status, outcome, decided_at, due_date, updated_at)
            VALUES ($1, 'in-review', \(decided == nil ? "NULL" : "'approve'"), \(decidedAt), $2::date, now())
            """, [id, due])
        let status = decided != nil ? "closed" : pausedSince != nil ? "paused" : "open"
        try db.execute(
            """
            INSERT INTO deadlines (dossier_id, step, kind, opened_at, due_date, due_at, status, paused_since)
            VALUES ($1, -1, 'overall', now(), $2::date, now(), $3,
                    ($4::date + time '11:00') AT TIME ZONE 'Asia/Ho_Chi_Minh')
            """, [id, due, status, pausedSince])
        for i in 0..<supplements {
            try db.execute(
                """
                INSERT INTO dossier_timeline (dossier_id, event_id, type, step, at)
                VALUES ($1, gen_random_uuid(), 'supplement-requested', 0,
                        ($2::date + time '14:00') AT TIME ZONE 'Asia/Ho_Chi_Minh' + make_interval(days => $3::int))
                """, [id, received, i + 1])
        }
        if let apologyFrom {
            try db.execute(
                """
                INSERT INTO apologies (dossier_id, step, reason, previous_date, new_date, issued_at)
                VALUES ($1, -1, 'workload', $2::date, $3::date, now())
                """, [id, apologyFrom, due])
        }
        if let withdrawn {
            try db.execute(
                """
                INSERT INTO dossier_timeline (dossier_id, event_id, type, step, at)
                VALUES ($1, gen_random_uuid(), 'withdrawn', 0, ($2::date + time '08:00') AT TIME ZONE 'Asia/Ho_Chi_Minh')
                """, [id, withdrawn])
        }
    }

    @Test("each progress rule on its own: one supplement on time, a second makes it late, ended and open supplement pauses subtracted, an apology does not rescue, finished before the period and withdrawn not counted")
    func progressRules() throws {
        let database = try TestDatabase("scorecard")
        defer { database.drop() }
        let db = database.connection
        try Self.dossier("one-supplement", decided: "2026-11-18", supplements: 1, in: db)
        try Self.dossier("second-supplement", decided: "2026-11-18", supplements: 2, in: db)
        try Self.dossier("second-supplement-open", supplements: 2, in: db)
        // The pause moved the appointment from 14 to 21 November; decided on the 19th: on time.
        try Self.dossier("pause-moved-due", due: "2026-11-21", decided: "2026-11-19", supplements: 1, in: db)
        // Waiting for the applicant since the 18th (appointment the 20th): the wait is not counted against it.
        try Self.dossier("paused-now", supplements: 1, pausedSince: "2026-11-18", in: db)
        try Self.dossier("paused-after-due", supplements: 1, pausedSince: "2026-11-24", in: db)
        try Self.dossier("open-overdue", in: db)
        try Self.dossier("open-within", due: "2026-12-04", in: db)
        try Self.dossier("late", decided: "2026-11-23", in: db)
        try Self.dossier("apology", due: "2026-11-28", decided: "2026-11-25", apologyFrom: "2026-11-20", in: db)
        try Self.dossier("before-period", received: "2026-10-01", due: "2026-10-20", decided: "2026-10-30", in: db)
        try Self.dossier("carried-in", received: "2026-10-20", due: "2026-11-05", decided: "2026-11-04", in: db)
        try Self.dossier("decided-after-period", due: "2026-12-03", decided: "2026-12-02", in: db)
        try Self.dossier("withdrawn", withdrawn: "2026-11-10", in: db)
        try Self.dossier("after-period", received: "2026-12-02", due: "2026-12-20", in: db)

        let rows = Dictionary(
            uniqueKeysWithValues: try Scorecard.progress(Self.period, in: db).map { ($0.procedure, $0) })
        func expect(
            _ id: String, counted: Int, finished: Int, onTime: Int, within: Int, bySupplements: Int = 0,
            sourceLocation: SourceLocation = #_sourceLocation
        ) {
            let row = rows[id]
            #expect(row?.counted == counted, "\(id) counted", sourceLocation: sourceLocation)
            #expect(row?.finished == finished, "\(id) finished", sourceLocation: sourceLocation)
            #expect(row?.finishedOnTime == onTime, "\(id) finished on time", sourceLocation: sourceLocation)
            #expect(row?.inProgressWithinDeadline == within, "\(id) within", sourceLocation: sourceLocation)
            #expect(row?.lateBySupplements == bySupplements, "\(id) by supplements", sourceLocation: sourceLocation)
        }
        expect("one-supplement", counted: 1, finished: 1, onTime: 1, within: 0)
        expect("second-supplement", counted: 1, finished: 1, onTime: 0, within: 0, bySupplements: 1)
        expect("second-supplement-open", counted: 1, finished: 0, onTime: 0, within: 0, bySupplements: 1)
        expect("pause-moved-due", counted: 1, finished: 1, onTime: 1, within: 0)
        expect("paused-now", counted: 1, finished: 0, onTime: 0, within: 1)
        expect("paused-after-due", counted: 1, finished: 0, onTime: 0, within: 0)
        expect("open-overdue", counted: 1, finished: 0, onTime: 0, within: 0)
        expect("open-within", counted: 1, finished: 0, onTime: 0, within: 1)
        expect("late", counted: 1, finished: 1, onTime: 0, within: 0)
        expect("apology", counted: 1, finished: 1, onTime: 0, within: 0)
        expect("carried-in", counted: 1, finished: 1, onTime: 1, within: 0)
        // Decided on 2 December: in progress and within its time when November ended.
        expect("decided-after-period", counted: 1, finished: 0, onTime: 0, within: 1)
        #expect(rows["before-period"] == nil)
        #expect(rows["withdrawn"] == nil)
        #expect(rows["after-period"] == nil)
    }

    @Test("progress and online service on a generated period equal a hand computation in SQL, per procedure, department and City")
    func generatedPeriod() throws {
        let database = try TestDatabase("scorecard")
        defer { database.drop() }
        let db = database.connection
        let bundle = try AuthorityBundle.load(from: TestEnvironment.root.appendingPathComponent("deploy"))
        let catalogue = bundle.catalogue
        let codes = catalogue.procedures.map(\.code)
        let full = catalogue.procedures.filter { $0.onlineLevel == .full }.map(\.code)
        try #require(!full.isEmpty && full.count < codes.count)
        try db.execute("SELECT setseed(0.21)", [])
        // 600 dossiers submitted 15 October – 10 December; some refused at intake, withdrawn, decided (before,
        // in or after the period), paused, with 0–3 supplement requests, some with an apology slip.
        try db.execute(
            """
            INSERT INTO dossiers (id, code, procedure, channel, commune, applicant_kind, submitted_at, received_at,
                                  status, due_date, body)
            SELECT 'g' || i, 'G-' || i, ($1::text[])[1 + floor(random() * cardinality($1::text[]))::int],
                   (ARRAY['online', 'counter', 'post'])[1 + floor(random() * 3)::int], '00004', 'citizen', t, t,
                   CASE WHEN random() < 0.05 THEN 'intake-refused' ELSE 'received' END, NULL, '{}'
            FROM (SELECT i, timestamptz '2026-10-15 01:00Z' + random() * interval '56 days' AS t
                  FROM generate_series(1, 600) i) x
            """, [codes])
        try db.execute(
            """
            INSERT INTO deadlines (dossier_id, step, kind, opened_at, due_date, due_at, status)
            SELECT id, -1, 'overall', received_at,
                   (received_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date + 3 + floor(random() * 20)::int, now(), 'open'
            FROM dossiers WHERE status = 'received' AND random() < 0.95
            """, [])
        try db.execute(
            """
            INSERT INTO dossier_status (dossier_id, status, outcome, decided_at, due_date, updated_at)
            SELECT id, 'in-review', CASE WHEN r < 0.45 THEN 'approve' WHEN r < 0.6 THEN 'refuse' END,
                   CASE WHEN r < 0.6 THEN received_at + random() * interval '25 days' END,
                   (received_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date + 12, now()
            FROM (SELECT id, received_at, random() AS r FROM dossiers WHERE status = 'received') x
            """, [])
        try db.execute(
            """
            UPDATE deadlines o SET status = 'closed' FROM dossier_status s
            WHERE s.dossier_id = o.dossier_id AND s.outcome IS NOT NULL
            """, [])
        try db.execute(
            """
            UPDATE deadlines SET status = 'paused', paused_since = opened_at + random() * interval '20 days'
            WHERE status = 'open' AND random() < 0.3
            """, [])
        try db.execute(
            """
            INSERT INTO dossier_timeline (dossier_id, event_id, type, step, at)
            SELECT d.id, gen_random_uuid(), 'supplement-requested', 0, d.received_at + random() * interval '15 days'
            FROM dossiers d, generate_series(1, 3) k WHERE d.status = 'received' AND random() < 0.25
            """, [])
        try db.execute(
            """
            INSERT INTO dossier_timeline (dossier_id, event_id, type, step, at)
            SELECT id, gen_random_uuid(), 'withdrawn', 0, received_at + random() * interval '10 days'
            FROM dossiers WHERE status = 'received' AND random() < 0.05
            """, [])
        try db.execute(
            """
            INSERT INTO apologies (dossier_id, step, reason, previous_date, new_date, issued_at)
            SELECT dossier_id, -1, 'workload', due_date - 4, due_date, now() FROM deadlines WHERE random() < 0.1
            """, [])

        // The portal acknowledged a record of some dossiers (some refused, some acknowledged after the period).
        try db.execute(
            """
            INSERT INTO portal_sync_records (record_id, dossier_id, status_code, status_at)
            SELECT gen_random_uuid(), id, 2, received_at FROM dossiers WHERE status = 'received' AND random() < 0.5
            """, [])
        try db.execute(
            """
            INSERT INTO portal_sync_acks (record_id, dossier_id, status_code, accepted, acknowledged_at, source_topic,
                                          source_partition, source_offset)
            SELECT record_id, dossier_id, 2, random() < 0.8, status_at + random() * interval '3 days', 'portal.sync.ack',
                   0, id
            FROM portal_sync_records
            """, [])

        // The hand computation: one row per dossier with its verdict, then sums per procedure.
        let asOf = Self.period.asOf
        let hand = try db.query(
            """
            WITH one AS (
                SELECT d.id, d.procedure,
                       (SELECT count(*) FROM dossier_timeline t
                         WHERE t.dossier_id = d.id AND t.type = 'supplement-requested' AND t.at < $1) AS requests,
                       (SELECT min(t.at) FROM dossier_timeline t WHERE t.dossier_id = d.id AND t.type = 'withdrawn')
                           AS withdrawn_at,
                       s.outcome, s.decided_at,
                       (SELECT a.previous_date FROM apologies a WHERE a.dossier_id = d.id AND a.step = -1)
                           AS apology_previous,
                       o.due_date AS deadline_due, s.due_date AS status_due, o.status AS deadline_status,
                       o.paused_since
                FROM dossiers d
                LEFT JOIN dossier_status s ON s.dossier_id = d.id
                LEFT JOIN deadlines o ON o.dossier_id = d.id AND o.step = -1
                WHERE d.status = 'received' AND d.received_at < $1
            ), judged AS (
                SELECT procedure, requests,
                       decided_at IS NOT NULL AND outcome IS NOT NULL AND decided_at < $1 AS done,
                       CASE
                           WHEN decided_at IS NOT NULL AND outcome IS NOT NULL AND decided_at < $1 THEN decided_at
                           WHEN deadline_status = 'paused' AND paused_since < $1 THEN paused_since
                           ELSE $1
                       END AS measured_at,
                       CASE WHEN apology_previous IS NOT NULL THEN apology_previous
                            WHEN deadline_due IS NOT NULL THEN deadline_due
                            ELSE status_due END AS appointment
                FROM one
                WHERE withdrawn_at IS NULL OR withdrawn_at >= $1
            ), kept AS (
                SELECT *, ((measured_at AT TIME ZONE 'UTC') + interval '7 hours')::date AS measured_day FROM judged
                WHERE NOT done OR ((measured_at AT TIME ZONE 'UTC') + interval '7 hours')::date >= date '2026-11-01'
            )
            SELECT procedure, count(*) AS counted, sum(done::int) AS finished,
                   sum((done AND requests < 2 AND measured_day <= appointment)::int) AS on_time,
                   sum((NOT done AND requests < 2 AND measured_day <= appointment)::int) AS within,
                   sum((requests >= 2)::int) AS by_supplements
            FROM kept GROUP BY procedure ORDER BY procedure
            """, [asOf]
        ).map { row in
            Scorecard.Progress(
                procedure: try row.decode(String.self, "procedure"), counted: try row.decode(Int.self, "counted"),
                finished: try row.decode(Int.self, "finished"), finishedOnTime: try row.decode(Int.self, "on_time"),
                inProgressWithinDeadline: try row.decode(Int.self, "within"),
                lateBySupplements: try row.decode(Int.self, "by_supplements"))
        }
        let progress = try Scorecard.progress(Self.period, in: db)
        #expect(progress == hand)
        // The generated period exercises every branch.
        #expect(hand.map(\.lateBySupplements).reduce(0, +) > 0)
        #expect(hand.map(\.inProgressWithinDeadline).reduce(0, +) > 0)
        #expect(hand.map(\.finishedOnTime).reduce(0, +) > 0)
        #expect(hand.map { $0.finished - $0.finishedOnTime }.reduce(0, +) > 0)

        // Online service, by hand: online dossiers of full-online procedures ÷ all dossiers of those procedures,
        // received 1 November to the period's end.
        let onlineHand = try db.query(
            """
            SELECT count(*) FILTER (WHERE channel = 'online') AS online, count(*) AS all
            FROM dossiers WHERE status = 'received' AND procedure = ANY($1::text[])
              AND received_at >= timestamptz '2026-10-31 17:00:00Z' AND received_at < $2
            """, [full, asOf])[0]
        let received = try Scorecard.received(Self.period, in: db)
        let cards = Scorecard.cards(progress: progress, received: received, catalogue: catalogue)
        let city = try #require(cards.last)
        #expect(city.unit == "city")
        let online = try #require(city.indicators.first { $0.group == .onlineService })
        #expect(online.numerator == (try onlineHand.decode(Int.self, "online")))
        #expect(online.denominator == (try onlineHand.decode(Int.self, "all")))
        #expect(online.status == .computed)
        let syncHand = try db.query(
            """
            SELECT count(*) AS received,
                   count(*) FILTER (WHERE id IN (SELECT dossier_id FROM portal_sync_acks
                                                 WHERE accepted AND acknowledged_at < $1)) AS synced
            FROM dossiers WHERE status = 'received'
              AND received_at >= timestamptz '2026-10-31 17:00:00Z' AND received_at < $1
            """, [asOf])[0]
        #expect(city.syncedToPortal.numerator == (try syncHand.decode(Int.self, "synced")))
        #expect(city.syncedToPortal.denominator == (try syncHand.decode(Int.self, "received")))
        #expect(city.syncedToPortal.numerator > 0 && city.syncedToPortal.numerator < city.syncedToPortal.denominator)
        let cityProgress = try #require(city.indicators.first { $0.group == .progress })
        let handNumerator = hand.map { $0.finishedOnTime + $0.inProgressWithinDeadline }.reduce(0, +)
        let handDenominator = hand.map(\.counted).reduce(0, +)
        #expect(cityProgress.numerator == handNumerator)
        #expect(cityProgress.denominator == handDenominator)
        #expect(cityProgress.points == 20 * (Double(handNumerator) / Double(handDenominator)))
        // Per department: the sums of its procedures' hand rows.
        for card in cards.dropLast() {
            let mine = hand.filter { catalogue.procedure($0.procedure)?.department.rawValue == card.unit }
            let p = try #require(card.indicators.first { $0.group == .progress })
            #expect(p.numerator == mine.map { $0.finishedOnTime + $0.inProgressWithinDeadline }.reduce(0, +))
            #expect(p.denominator == mine.map(\.counted).reduce(0, +))
        }
        // Never a guessed value: what MotCua has no data for is listed, with no figures.
        for card in cards {
            let missing: [Scorecard.Group] = [.transparency, .digitisation, .onlinePayment, .satisfaction]
            for indicator in card.indicators where missing.contains(indicator.group) {
                #expect(indicator.status == .notComputable)
                #expect(indicator.points == nil && indicator.numerator == nil && indicator.reason != nil)
            }
        }
    }

    @Test("a period without dossiers gives no rate and no points, not zero")
    func emptyPeriod() throws {
        let database = try TestDatabase("scorecard")
        defer { database.drop() }
        let bundle = try AuthorityBundle.load(from: TestEnvironment.root.appendingPathComponent("deploy"))
        let cards = Scorecard.cards(
            progress: try Scorecard.progress(Self.period, in: database.connection),
            received: try Scorecard.received(Self.period, in: database.connection), catalogue: bundle.catalogue)
        for card in cards {
            let p = try #require(card.indicators.first { $0.group == .progress })
            #expect(p.status == .noDossiers && p.rate == nil && p.points == nil && p.denominator == 0)
            #expect(card.points == 0 && card.computedMaxPoints == 0)
        }
    }
}
