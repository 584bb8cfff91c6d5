import Authority
import Foundation
import Postgres
import Store
import TestSupport
import Testing

/// The leader page's time per stage (issue 20) in working hours — office hours, 08:00 to 17:00, of the working days
/// of the calendar (deploy/calendar) — not elapsed hours: checked against hand computations and against SQL written
/// here that counts the same hours from its own list of 2026's days off and worked Saturday.
@Suite("Stage times in working hours")
struct StageTimeTests {
    /// One finished stage of labour's employment division: its slip line.
    static func line(
        _ db: PostgresConnection, _ n: Int, official: String, stage: String, entered: String, left: String, due: String
    ) throws {
        let late = CoordinatorTime.instant(left) > CoordinatorTime.instant(due)
        try db.execute(
            """
            INSERT INTO stage_handovers (dossier_id, step, round, line, department, division, action, from_stage,
                                         from_official, to_stage, to_official, at, stage_entered_at, stage_due_at,
                                         verdict)
            VALUES ($1, 0, 0, 2, 'labour', 'employment', 'propose', $2, $3, 'check', 'labour-head', $4::timestamptz,
                    $5::timestamptz, $6::timestamptz, $7)
            """, ["d-\(n)", stage, official, left, entered, due, late ? "late" : "early"])
    }

    enum CoordinatorTime {
        static func instant(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }
    }

    @Test("medians and quotas per stage and per official are working hours: nights, weekends and holidays count nothing, a worked Saturday counts; equal to SQL's count of the same hours")
    func workingHours() throws {
        let database = try TestDatabase("stagetimes")
        defer { database.drop() }
        let db = database.connection
        let calendar = try AuthorityBundle.load(from: TestEnvironment.root.appendingPathComponent("deploy")).calendar
        // examine, labour-spec-1: Friday 16:00 → Monday 09:00 is 1 h + 1 h (65 elapsed); due Tuesday 17:00: 19 h.
        try Self.line(db, 1, official: "labour-spec-1", stage: "examine", entered: "2026-03-06T16:00:00+07:00",
                      left: "2026-03-09T09:00:00+07:00", due: "2026-03-10T17:00:00+07:00")
        // examine, labour-spec-1: 07:00 → 20:00 the same Monday is the 9 office hours; due Wednesday 17:00: 27 h.
        try Self.line(db, 2, official: "labour-spec-1", stage: "examine", entered: "2026-03-02T07:00:00+07:00",
                      left: "2026-03-02T20:00:00+07:00", due: "2026-03-04T17:00:00+07:00")
        // examine, labour-spec-2: Tuesday 10:30 → Thursday 11:00 is 6.5 + 9 + 3 = 18.5 h; due Wednesday: 15.5 h (late).
        try Self.line(db, 3, official: "labour-spec-2", stage: "examine", entered: "2026-03-03T10:30:00+07:00",
                      left: "2026-03-05T11:00:00+07:00", due: "2026-03-04T17:00:00+07:00")
        // check, labour-spec-2: Wednesday 29 April 16:00 → Monday 4 May 09:00, across the 30/4 and 1/5 holidays:
        // 1 + 1 = 2 h; due Tuesday 5 May 17:00: 1 + 9 + 9 = 19 h.
        try Self.line(db, 4, official: "labour-spec-2", stage: "check", entered: "2026-04-29T16:00:00+07:00",
                      left: "2026-05-04T09:00:00+07:00", due: "2026-05-05T17:00:00+07:00")
        // check, labour-spec-2: Friday 9 January 16:00 → Monday 12 January 09:00, Saturday 10 January worked:
        // 1 + 9 + 1 = 11 h; due Monday 17:00: 1 + 9 + 9 = 19 h.
        try Self.line(db, 5, official: "labour-spec-2", stage: "check", entered: "2026-01-09T16:00:00+07:00",
                      left: "2026-01-12T09:00:00+07:00", due: "2026-01-12T17:00:00+07:00")

        let since = CoordinatorTime.instant("2026-01-01T00:00:00+07:00")
        let times = try DepartmentFigures.stageTimes(department: "labour", since: since, calendar: calendar, in: db)
        func figure(_ official: String?, _ stage: String) -> (Double, Double, Int, Int)? {
            times.first { $0.official == official && $0.stage == stage }.map {
                ($0.medianHours, $0.quotaHours, $0.finished, $0.late)
            }
        }
        // By hand: examine's times 2, 9, 18.5 and quotas 19, 27, 15.5; check's 2 and 11, quotas 19 and 19.
        #expect(figure(nil, "examine").map { [$0.0, $0.1] } == [9, 19])
        #expect(figure("labour-spec-1", "examine").map { [$0.0, $0.1] } == [5.5, 23])
        #expect(figure("labour-spec-2", "examine").map { [$0.0, $0.1] } == [18.5, 15.5])
        #expect(figure(nil, "check").map { [$0.0, $0.1] } == [6.5, 19])
        #expect(figure(nil, "examine").map { [$0.2, $0.3] } == [3, 1])
        #expect(times.count == 5)

        // The same hours counted by SQL over its own list of days: weekdays, less 2026's days off up to June, plus
        // the worked Saturday 10 January; office hours 08:00–17:00 local.
        let rows = try db.query(
            """
            WITH days AS (
                SELECT d::date AS day FROM generate_series(date '2026-01-01', date '2026-06-30', interval '1 day') AS d
            ), working AS (
                SELECT day FROM days
                WHERE (extract(isodow FROM day) < 6
                       AND day NOT IN (date '2026-01-01', date '2026-01-02', date '2026-02-16', date '2026-02-17',
                                       date '2026-02-18', date '2026-02-19', date '2026-02-20', date '2026-04-27',
                                       date '2026-04-30', date '2026-05-01'))
                   OR day = date '2026-01-10'
            ), measured AS (
                SELECT h.from_official, h.from_stage,
                       (SELECT coalesce(sum(greatest(0, extract(epoch FROM
                                   least(h.at, (w.day + time '17:00') AT TIME ZONE 'Asia/Ho_Chi_Minh')
                                   - greatest(h.stage_entered_at, (w.day + time '08:00') AT TIME ZONE 'Asia/Ho_Chi_Minh')))), 0)
                        FROM working w) / 3600 AS hours,
                       (SELECT coalesce(sum(greatest(0, extract(epoch FROM
                                   least(h.stage_due_at, (w.day + time '17:00') AT TIME ZONE 'Asia/Ho_Chi_Minh')
                                   - greatest(h.stage_entered_at, (w.day + time '08:00') AT TIME ZONE 'Asia/Ho_Chi_Minh')))), 0)
                        FROM working w) / 3600 AS quota
                FROM stage_handovers h WHERE h.department = 'labour'
            )
            SELECT from_official, GROUPING(from_official) = 1 AS whole, from_stage,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY hours) AS median,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY quota) AS quota
            FROM measured GROUP BY GROUPING SETS ((from_stage), (from_official, from_stage))
            """, [])
        #expect(rows.count == times.count)
        for row in rows {
            let official = try row.decode(Bool.self, "whole") ? nil : try row.decodeIfPresent(String.self, "from_official")
            let stage = try row.decode(String.self, "from_stage")
            let shown = try #require(figure(official, stage), "\(official ?? "*") \(stage)")
            #expect(abs(shown.0 - (try row.decode(Double.self, "median"))) < 1e-9, "\(official ?? "*") \(stage)")
            #expect(abs(shown.1 - (try row.decode(Double.self, "quota"))) < 1e-9, "\(official ?? "*") \(stage)")
        }
        // Elapsed hours would have said otherwise (the check that this test can fail): examine's median is 48.5 h.
        let elapsed = try db.query(
            """
            SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM at - stage_entered_at)) / 3600 AS h
            FROM stage_handovers WHERE from_stage = 'examine'
            """, [])[0].decode(Double.self, "h")
        #expect(elapsed == 48.5 && figure(nil, "examine")?.0 != elapsed)
    }
}
