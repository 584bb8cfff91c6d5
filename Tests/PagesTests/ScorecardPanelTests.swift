import Authority
import Foundation
import Operations
import Pages
import Postgres
import TestSupport
import Testing

/// The status page's scorecard panel, rendered from a database of the test's own and read back from headless
/// Chromium's DOM, against weekly figures computed here in SQL.
@Suite("Scorecard panel")
struct ScorecardPanelTests {
    @Test("weekly progress per department in Chromium's DOM equals a hand computation in SQL; stored strings escaped")
    func weeklyProgressInChromium() async throws {
        let database = try TestDatabase("panel")
        defer { database.drop() }
        let db = database.connection
        let bundle = try AuthorityBundle.load(from: TestEnvironment.root.appendingPathComponent("deploy"))
        let catalogue = bundle.catalogue
        let procedures = catalogue.procedures.map(\.code)
        let owners = catalogue.procedures.map(\.department.rawValue)
        // Friday 27 November 2026, 10:00 in Hanoi: the page shows the 4 weeks from Monday 2 November.
        let now = LocalDate("2026-11-27")!.instant(hour: 10)
        try db.execute("SELECT setseed(0.5)", [])
        try db.execute(
            """
            INSERT INTO dossiers (id, code, procedure, channel, commune, applicant_kind, submitted_at, received_at,
                                  status, body)
            SELECT 'p' || i, 'P-' || i, ($1::text[])[1 + floor(random() * cardinality($1::text[]))::int], 'online',
                   '00004', 'citizen', t, t, 'received', '{}'
            FROM (SELECT i, timestamptz '2026-10-20 01:00Z' + random() * interval '38 days' AS t
                  FROM generate_series(1, 300) i) x
            """, [procedures])
        try db.execute(
            """
            INSERT INTO dossier_status (dossier_id, status, outcome, decided_at, due_date, updated_at)
            SELECT id, 'in-review', CASE WHEN r < 0.6 THEN 'approve' END,
                   CASE WHEN r < 0.6 THEN received_at + random() * interval '20 days' END,
                   (received_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date + 4 + floor(random() * 12)::int, now()
            FROM (SELECT id, received_at, random() AS r FROM dossiers) x
            """, [])
        // A stored string that would be markup if pasted: a step deadline of a "department" named with a tag.
        try db.execute(
            """
            INSERT INTO deadlines (dossier_id, step, kind, department, opened_at, due_date, due_at, status)
            VALUES ('x', 0, 'step', '<img src=x id=injected>', now(), '2026-11-30', now(), 'open')
            """, [])

        // By hand: week w (Monday m) stands at min(m + 7 days, now); a dossier counts if received before then and
        // not decided before m; it scores if decided by then on or before its due date, or undecided and the
        // day it stands at is on or before its due date.
        var expected: [String: [String: String]] = [:]
        for row in try db.query(
            """
            WITH weeks AS (
                SELECT m::date AS monday,
                       LEAST(((m + interval '7 days')::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh'), $3::timestamptz)
                           AS ends
                FROM generate_series(timestamp '2026-11-02', timestamp '2026-11-23', interval '7 days') m
            ), owner AS (SELECT * FROM unnest($1::text[], $2::text[]) AS o(procedure, department)),
            scored AS (
                SELECT w.monday, o.department,
                       (s.decided_at IS NOT NULL AND s.decided_at < w.ends) AS done,
                       ((CASE WHEN s.decided_at IS NOT NULL AND s.decided_at < w.ends THEN s.decided_at ELSE w.ends END
                           AT TIME ZONE 'UTC') + interval '7 hours')::date <= s.due_date AS good
                FROM weeks w JOIN dossiers d ON d.received_at < w.ends
                JOIN dossier_status s ON s.dossier_id = d.id
                JOIN owner o ON o.procedure = d.procedure
                WHERE s.decided_at IS NULL OR s.decided_at >= (w.monday::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh')
            )
            SELECT monday::text AS week, department, sum(good::int) AS n, count(*) AS total FROM scored
            GROUP BY 1, 2
            UNION ALL
            SELECT monday::text, 'city', sum(good::int), count(*) FROM scored GROUP BY 1
            """, [procedures, owners, now])
        {
            let unit = try row.decode(String.self, "department")
            expected[unit, default: [:]][try row.decode(String.self, "week")] =
                "\(try row.decode(Int.self, "n"))/\(try row.decode(Int.self, "total"))"
        }

        let report = try StatusPage.report(
            database: db, catalogue: catalogue, calendar: bundle.calendar, watermarks: TopicWatermarks(), workerDepartments: [], now: now,
            scorecardWeeks: 4)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(TestEnvironment.unique("status") + ".html")
        defer { try? FileManager.default.removeItem(at: file) }
        try StatusPage.html(report).write(to: file, atomically: true, encoding: .utf8)
        let dom = try await Chromium.dumpDOM(file.absoluteString)

        let rowPattern = try NSRegularExpression(
            pattern: #"<tr data-unit="([^"]+)">(.*?)</tr>"#, options: [.dotMatchesLineSeparators])
        let cellPattern = try NSRegularExpression(pattern: #"data-week="([^"]+)" data-figures="([^"]+)""#)
        var shown: [String: [String: String]] = [:]
        let text = dom as NSString
        for row in rowPattern.matches(in: dom, range: NSRange(location: 0, length: text.length)) {
            let unit = text.substring(with: row.range(at: 1))
            let cells = text.substring(with: row.range(at: 2)) as NSString
            for cell in cellPattern.matches(in: cells as String, range: NSRange(location: 0, length: cells.length)) {
                let figures = cells.substring(with: cell.range(at: 2))
                // Weeks without dossiers are absent from the hand computation.
                if figures != "0/0" { shown[unit, default: [:]][cells.substring(with: cell.range(at: 1))] = figures }
            }
        }
        #expect(shown.values.map(\.count).reduce(0, +) > 4)
        #expect(shown == expected)
        // One point per week with dossiers, per unit, in the chart.
        let circles = dom.components(separatedBy: "<circle").count - 1
        #expect(circles == expected.values.map(\.count).reduce(0, +))
        #expect(dom.contains("<svg id=\"scorecard-chart\""))
        // The stored tag is text, not an element.
        #expect(!dom.contains("<img src=\"x\" id=\"injected\">") && !dom.contains("id=\"injected\""))
        #expect(dom.contains("&lt;img src=x id=injected&gt;"))

        let png = FileManager.default.temporaryDirectory.appendingPathComponent(TestEnvironment.unique("panel") + ".png")
        defer { try? FileManager.default.removeItem(at: png) }
        let shot = try await Chromium.screenshot(file.absoluteString, to: png, width: 390, height: 1600)
        #expect(shot.width == 390)
    }
}
