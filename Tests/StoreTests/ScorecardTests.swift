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

    static func calendar() throws -> WorkingCalendar {
        try AuthorityBundle.load(from: TestEnvironment.root.appendingPathComponent("deploy")).calendar
    }

    /// One dossier of a rule's own procedure: received `received` with the appointment date `due` (reception's),
    /// decided on `decided` (nil: open), `supplements` requests, the overall deadline paused over `pauses` (local
    /// days, 11:00; an end of nil: still paused), an apology slip that moved the date to `apologyTo`. The deadline's
    /// and the status's due date are today's, as the coordinator keeps them: the apology's date (or `due`) moved by
    /// the working days of every ended pause.
    static func dossier(
        _ id: String, received: String = "2026-11-03", due: String = "2026-11-20", decided: String? = nil,
        supplements: Int = 0, pauses: [(String, String?)] = [], apologyTo: String? = nil, withdrawn: String? = nil,
        calendar: WorkingCalendar, in db: PostgresConnection
    ) throws {
        var moved = 0
        for (start, end) in pauses {
            guard let end else { continue }
            moved += try calendar.workingDays(
                from: LocalDate(start)!.adding(days: -1), to: LocalDate(end)!.adding(days: -1))
        }
        let dueNow = try calendar.addWorkingDays(moved, to: LocalDate(apologyTo ?? due)!).description
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
            """, [id, dueNow])
        let pausedSince = pauses.last.flatMap { $0.1 == nil ? $0.0 : nil }
        let status = decided != nil ? "closed" : pausedSince != nil ? "paused" : "open"
        try db.execute(
            """
            INSERT INTO deadlines (dossier_id, step, kind, opened_at, due_date, due_at, status, paused_since)
            VALUES ($1, -1, 'overall', now(), $2::date, now(), $3,
                    ($4::date + time '11:00') AT TIME ZONE 'Asia/Ho_Chi_Minh')
            """, [id, dueNow, status, pausedSince])
        for (start, end) in pauses {
            let days = try end.map {
                try calendar.workingDays(from: LocalDate(start)!.adding(days: -1), to: LocalDate($0)!.adding(days: -1))
            }
            try db.execute(
                """
                INSERT INTO deadline_pauses (dossier_id, step, started_at, ended_at, working_days)
                VALUES ($1, -1, ($2::date + time '11:00') AT TIME ZONE 'Asia/Ho_Chi_Minh',
                        ($3::date + time '11:00') AT TIME ZONE 'Asia/Ho_Chi_Minh', $4)
                """, [id, start, end, days])
        }
        for i in 0..<supplements {
            try db.execute(
                """
                INSERT INTO dossier_timeline (dossier_id, event_id, type, step, at)
                VALUES ($1, gen_random_uuid(), 'supplement-requested', 0,
                        ($2::date + time '14:00') AT TIME ZONE 'Asia/Ho_Chi_Minh' + make_interval(days => $3::int))
                """, [id, received, i + 1])
        }
        if let apologyTo {
            try db.execute(
                """
                INSERT INTO apologies (dossier_id, step, reason, previous_date, new_date, issued_at)
                VALUES ($1, -1, 'workload', $2::date, $3::date, now())
                """, [id, due, apologyTo])
        }
        if let withdrawn {
            try db.execute(
                """
                INSERT INTO dossier_timeline (dossier_id, event_id, type, step, at)
                VALUES ($1, gen_random_uuid(), 'withdrawn', 0, ($2::date + time '08:00') AT TIME ZONE 'Asia/Ho_Chi_Minh')
                """, [id, withdrawn])
        }
    }

    @Test("each progress rule on its own, as the dossiers stood at the period's end: one supplement on time, a second makes it late, pauses ended by then move the appointment and later ones do not, a pause open at the end is measured at its start, an apology does not rescue, finished before the period and withdrawn not counted")
    func progressRules() throws {
        let database = try TestDatabase("scorecard")
        defer { database.drop() }
        let db = database.connection
        let calendar = try Self.calendar()
        func dossier(
            _ id: String, received: String = "2026-11-03", due: String = "2026-11-20", decided: String? = nil,
            supplements: Int = 0, pauses: [(String, String?)] = [], apologyTo: String? = nil,
            withdrawn: String? = nil
        ) throws {
            try Self.dossier(
                id, received: received, due: due, decided: decided, supplements: supplements, pauses: pauses,
                apologyTo: apologyTo, withdrawn: withdrawn, calendar: calendar, in: db)
        }
        try dossier("one-supplement", decided: "2026-11-18", supplements: 1)
        try dossier("second-supplement", decided: "2026-11-18", supplements: 2)
        try dossier("second-supplement-open", supplements: 2)
        // Paused Monday 9 to Monday 16 November (5 working days): the appointment moves from the 13th to the 20th;
        // decided on the 19th: on time. The same for a fee pause (no supplement request).
        try dossier("pause-moved-due", due: "2026-11-13", decided: "2026-11-19", supplements: 1,
                    pauses: [("2026-11-09", "2026-11-16")])
        try dossier("fee-pause-moved-due", due: "2026-11-13", decided: "2026-11-19",
                    pauses: [("2026-11-09", "2026-11-16")])
        // Waiting for the applicant since the 18th (appointment the 20th): the wait is not counted against it.
        try dossier("paused-now", supplements: 1, pauses: [("2026-11-18", nil)])
        try dossier("paused-after-due", supplements: 1, pauses: [("2026-11-24", nil)])
        // Paused on the 24th, already past the 20th, until 3 December: late when November ended, although today's
        // due date (1 December, moved by that pause) would call it within.
        try dossier("pause-ended-after-period", supplements: 1, pauses: [("2026-11-24", "2026-12-03")])
        // Overdue on 1 December (appointment 25 November); paused 2–9 December, which moved today's due date to
        // 2 December: still late as November ended.
        try dossier("pause-after-period", due: "2026-11-25", supplements: 1, pauses: [("2026-12-02", "2026-12-09")])
        try dossier("pause-spanning-end-within", due: "2026-11-27", supplements: 1,
                    pauses: [("2026-11-26", "2026-12-04")])
        try dossier("open-overdue")
        try dossier("open-within", due: "2026-12-04")
        try dossier("late", decided: "2026-11-23")
        try dossier("apology", decided: "2026-11-25", apologyTo: "2026-11-28")
        // An apology moved the 16th to the 27th, then a pause of 2 working days: the appointment is the 18th.
        try dossier("apology-then-pause", due: "2026-11-16", decided: "2026-11-18", supplements: 1,
                    pauses: [("2026-11-18", "2026-11-20")], apologyTo: "2026-11-27")
        try dossier("apology-then-pause-late", due: "2026-11-16", decided: "2026-11-19", supplements: 1,
                    pauses: [("2026-11-18", "2026-11-20")], apologyTo: "2026-11-27")
        try dossier("before-period", received: "2026-10-01", due: "2026-10-20", decided: "2026-10-30")
        try dossier("carried-in", received: "2026-10-20", due: "2026-11-05", decided: "2026-11-04")
        try dossier("decided-after-period", due: "2026-12-03", decided: "2026-12-02")
        try dossier("withdrawn", withdrawn: "2026-11-10")
        try dossier("after-period", received: "2026-12-02", due: "2026-12-20")

        let rows = Dictionary(
            uniqueKeysWithValues: try Scorecard.progress(Self.period, calendar: calendar, in: db).map {
                ($0.procedure, $0)
            })
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
        expect("fee-pause-moved-due", counted: 1, finished: 1, onTime: 1, within: 0)
        expect("paused-now", counted: 1, finished: 0, onTime: 0, within: 1)
        expect("paused-after-due", counted: 1, finished: 0, onTime: 0, within: 0)
        expect("pause-ended-after-period", counted: 1, finished: 0, onTime: 0, within: 0)
        expect("pause-after-period", counted: 1, finished: 0, onTime: 0, within: 0)
        expect("pause-spanning-end-within", counted: 1, finished: 0, onTime: 0, within: 1)
        expect("open-overdue", counted: 1, finished: 0, onTime: 0, within: 0)
        expect("open-within", counted: 1, finished: 0, onTime: 0, within: 1)
        expect("late", counted: 1, finished: 1, onTime: 0, within: 0)
        expect("apology", counted: 1, finished: 1, onTime: 0, within: 0)
        expect("apology-then-pause", counted: 1, finished: 1, onTime: 1, within: 0)
        expect("apology-then-pause-late", counted: 1, finished: 1, onTime: 0, within: 0)
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
        // The calendar's working days, for the generator and the hand computation.
        try db.execute("CREATE TEMP TABLE hand_working_days (day date PRIMARY KEY)", [])
        var day = LocalDate("2026-01-01")!
        var workingDays: [String] = []
        while day < LocalDate("2027-12-31")! {
            if try bundle.calendar.isWorkingDay(day) { workingDays.append(day.description) }
            day = day.adding(days: 1)
        }
        try db.execute("INSERT INTO hand_working_days SELECT unnest($1::text[])::date", [workingDays])
        try db.execute("SELECT setseed(0.21)", [])
        // 600 dossiers submitted 15 October – 10 December; some refused at intake, withdrawn, decided (before,
        // in or after the period), with 0–3 supplement requests, some with an apology slip; a third paused once or
        // twice (some pauses ended before the period's end, some after it, some still open, some begun after it).
        try db.execute(
            """
            INSERT INTO dossiers (id, code, procedure, channel, commune, applicant_kind, submitted_at, received_at,
                                  status, due_date, body)
            SELECT 'g' || i, 'G-' || i, ($1::text[])[1 + floor(random() * cardinality($1::text[]))::int],
                   (ARRAY['online', 'counter', 'post'])[1 + floor(random() * 3)::int], '00004', 'citizen', t, t,
                   CASE WHEN random() < 0.05 THEN 'intake-refused' ELSE 'received' END,
                   CASE WHEN random() < 0.95
                        THEN (t AT TIME ZONE 'Asia/Ho_Chi_Minh')::date + 3 + floor(random() * 20)::int END, '{}'
            FROM (SELECT i, timestamptz '2026-10-15 01:00Z' + random() * interval '56 days' AS t
                  FROM generate_series(1, 600) i) x
            """, [codes])
        try db.execute(
            """
            INSERT INTO deadline_pauses (dossier_id, step, started_at, ended_at)
            SELECT id, -1, s, CASE WHEN random() < 0.85 THEN s + random() * interval '12 days' END
            FROM (SELECT id, received_at + random() * interval '15 days' AS s FROM dossiers
                  WHERE status = 'received' AND due_date IS NOT NULL AND random() < 0.35) x
            """, [])
        try db.execute(
            """
            INSERT INTO deadline_pauses (dossier_id, step, started_at, ended_at)
            SELECT dossier_id, -1, s, CASE WHEN random() < 0.6 THEN s + random() * interval '10 days' END
            FROM (SELECT dossier_id, ended_at + random() * interval '10 days' AS s FROM deadline_pauses
                  WHERE ended_at IS NOT NULL AND random() < 0.4) x
            """, [])
        try db.execute(
            """
            UPDATE deadline_pauses SET working_days = (
                SELECT count(*) FROM hand_working_days
                WHERE day >= (started_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date
                  AND day < (ended_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date)
            WHERE ended_at IS NOT NULL
            """, [])
        try db.execute(
            """
            INSERT INTO apologies (dossier_id, step, reason, previous_date, new_date, issued_at)
            SELECT id, -1, 'workload', due_date, due_date + 4, received_at + interval '1 day'
            FROM dossiers WHERE status = 'received' AND due_date IS NOT NULL AND random() < 0.1
            """, [])
        // Today's due date, as the coordinator keeps it: the apology's date (or reception's) moved by every ended
        // pause, whenever it ended.
        try db.execute(
            """
            INSERT INTO deadlines (dossier_id, step, kind, opened_at, due_date, due_at, status)
            SELECT d.id, -1, 'overall', d.received_at,
                   CASE WHEN m.moved = 0 THEN m.base
                        ELSE (SELECT w.day FROM hand_working_days w WHERE w.day > m.base ORDER BY w.day
                              OFFSET m.moved - 1 LIMIT 1) END,
                   now(), 'open'
            FROM dossiers d
            CROSS JOIN LATERAL (
                SELECT COALESCE((SELECT new_date FROM apologies a WHERE a.dossier_id = d.id), d.due_date) AS base,
                       (SELECT COALESCE(sum(working_days), 0) FROM deadline_pauses q
                        WHERE q.dossier_id = d.id AND q.ended_at IS NOT NULL)::int AS moved
            ) m
            WHERE d.status = 'received' AND d.due_date IS NOT NULL
            """, [])
        try db.execute(
            """
            INSERT INTO dossier_status (dossier_id, status, outcome, decided_at, due_date, updated_at)
            SELECT id, 'in-review', CASE WHEN r < 0.45 THEN 'approve' WHEN r < 0.6 THEN 'refuse' END,
                   CASE WHEN r < 0.6 THEN received_at + random() * interval '25 days' END,
                   (SELECT due_date FROM deadlines o WHERE o.dossier_id = x.id), now()
            FROM (SELECT id, received_at, random() AS r FROM dossiers WHERE status = 'received') x
            """, [])
        try db.execute(
            """
            UPDATE deadlines o SET status = 'closed' FROM dossier_status s
            WHERE s.dossier_id = o.dossier_id AND s.outcome IS NOT NULL
            """, [])
        try db.execute(
            """
            UPDATE deadlines o SET status = 'paused', paused_since = q.started_at FROM deadline_pauses q
            WHERE q.dossier_id = o.dossier_id AND q.ended_at IS NULL AND o.status = 'open'
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

        // The hand computation: one row per dossier with its verdict, then sums per procedure. The appointment as
        // November ended: reception's date, moved by the working days of the pauses ended by then (counted here
        // one working day after another); a dossier paused then is measured at its pause's start. `$2` true: with
        // today's due date instead, the figure the scorecard must not give.
        let asOf = Self.period.asOf
        func handComputation(today: Bool) throws -> [Scorecard.Progress] {
            try db.query(
                """
                WITH one AS (
                    SELECT d.id, d.procedure,
                           (SELECT count(*) FROM dossier_timeline t
                             WHERE t.dossier_id = d.id AND t.type = 'supplement-requested' AND t.at < $1) AS requests,
                           (SELECT min(t.at) FROM dossier_timeline t WHERE t.dossier_id = d.id AND t.type = 'withdrawn')
                               AS withdrawn_at,
                           s.outcome, s.decided_at, d.due_date AS reception_due,
                           (SELECT sum(q.working_days) FROM deadline_pauses q
                             WHERE q.dossier_id = d.id AND q.ended_at < $1) AS moved,
                           (SELECT q.started_at FROM deadline_pauses q
                             WHERE q.dossier_id = d.id AND q.started_at < $1 AND (q.ended_at IS NULL OR q.ended_at >= $1))
                               AS paused_since,
                           o.due_date AS deadline_due, s.due_date AS status_due
                    FROM dossiers d
                    LEFT JOIN dossier_status s ON s.dossier_id = d.id
                    LEFT JOIN deadlines o ON o.dossier_id = d.id AND o.step = -1
                    WHERE d.status = 'received' AND d.received_at < $1
                ), judged AS (
                    SELECT procedure, requests,
                           decided_at IS NOT NULL AND outcome IS NOT NULL AND decided_at < $1 AS done,
                           CASE
                               WHEN decided_at IS NOT NULL AND outcome IS NOT NULL AND decided_at < $1 THEN decided_at
                               WHEN paused_since IS NOT NULL AND NOT $2 THEN paused_since
                               ELSE $1
                           END AS measured_at,
                           CASE WHEN $2 OR reception_due IS NULL THEN COALESCE(deadline_due, status_due)
                                WHEN COALESCE(moved, 0) = 0 THEN reception_due
                                ELSE (SELECT w.day FROM hand_working_days w WHERE w.day > reception_due
                                      ORDER BY w.day OFFSET moved - 1 LIMIT 1) END AS appointment
                    FROM one
                    WHERE withdrawn_at IS NULL OR withdrawn_at >= $1
                ), kept AS (
                    SELECT *, ((measured_at AT TIME ZONE 'UTC') + interval '7 hours')::date AS measured_day FROM judged
                    WHERE NOT done OR ((measured_at AT TIME ZONE 'UTC') + interval '7 hours')::date >= date '2026-11-01'
                )
                SELECT procedure, count(*) AS counted, sum(done::int) AS finished,
                       sum((done AND requests < 2 AND (appointment IS NULL OR measured_day <= appointment))::int)
                           AS on_time,
                       sum((NOT done AND requests < 2 AND (appointment IS NULL OR measured_day <= appointment))::int)
                           AS within,
                       sum((requests >= 2)::int) AS by_supplements
                FROM kept GROUP BY procedure ORDER BY procedure
                """, [asOf, today]
            ).map { row in
                Scorecard.Progress(
                    procedure: try row.decode(String.self, "procedure"), counted: try row.decode(Int.self, "counted"),
                    finished: try row.decode(Int.self, "finished"),
                    finishedOnTime: try row.decode(Int.self, "on_time"),
                    inProgressWithinDeadline: try row.decode(Int.self, "within"),
                    lateBySupplements: try row.decode(Int.self, "by_supplements"))
            }
        }
        let hand = try handComputation(today: false)
        let progress = try Scorecard.progress(Self.period, calendar: bundle.calendar, in: db)
        #expect(progress == hand)
        // The generated period tells the two apart: with today's due dates (moved by pauses that ended after
        // November, or not yet measured at a pause's start) the figures differ.
        #expect(try handComputation(today: true) != hand)
        let spanning = try db.query(
            """
            SELECT count(*) FILTER (WHERE started_at < $1 AND ended_at >= $1) AS spanning,
                   count(*) FILTER (WHERE started_at >= $1 AND ended_at IS NOT NULL) AS later,
                   count(*) FILTER (WHERE ended_at < $1 AND working_days > 0) AS moved
            FROM deadline_pauses
            """, [asOf])[0]
        #expect(try spanning.decode(Int.self, "spanning") > 0)
        #expect(try spanning.decode(Int.self, "later") > 0)
        #expect(try spanning.decode(Int.self, "moved") > 0)
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
            progress: try Scorecard.progress(Self.period, calendar: bundle.calendar, in: database.connection),
            received: try Scorecard.received(Self.period, in: database.connection), catalogue: bundle.catalogue)
        for card in cards {
            let p = try #require(card.indicators.first { $0.group == .progress })
            #expect(p.status == .noDossiers && p.rate == nil && p.points == nil && p.denominator == 0)
            #expect(card.points == 0 && card.computedMaxPoints == 0)
        }
    }
}
