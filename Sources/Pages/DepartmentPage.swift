import Authority
import Foundation
import Operations
import Store

/// The leader page of a department: queues by division and by official (open, due within 24 hours, overdue), the
/// median time per stage against its quota, and two kinds of server-rendered SVG charts (no script): open and
/// overdue per division over the last weeks, and time per stage against its quota. Every stored string is escaped.
enum DepartmentPage {
    struct Figures: Sendable {
        var queues: [DepartmentFigures.Queue]
        var stageTimes: [DepartmentFigures.StageTime]
        var weeks: [DepartmentFigures.Week]
    }

    static func e(_ text: String) -> String { HTML.escape(text) }

    static func html(
        _ figures: Figures, department: DepartmentID, name: String, workflow: DepartmentWorkflow?, official: Principal,
        now: Date, refreshSeconds: Int
    ) -> String {
        // The workflow's divisions first, in its order, then any other division found in the rows.
        var divisions = workflow?.divisions.map(\.id) ?? []
        for division in figures.queues.map(\.division) + figures.stageTimes.map(\.division) + figures.weeks.map(\.division)
        where !divisions.contains(division) {
            divisions.append(division)
        }
        func divisionName(_ id: String) -> String { workflow?.divisions.first { $0.id == id }?.name ?? id }

        var body = "<style>\(style)</style>\n"
        body += "<h1>\(e(name)) — queues and stages</h1>\n"
        body += "<p class=\"meta\">Signed in as \(e(official.displayName)) (<span id=\"official\">\(e(official.id))</span>, "
            + "\(e(official.role.rawValue))). As of \(e(HTML.localTime(now))), Hanoi time; refreshed every "
            + "\(refreshSeconds) s.</p>\n"
        body += "<form method=\"post\" action=\"/sign-out\" class=\"noprint\"><button type=\"submit\">Sign out</button></form>\n"

        body += "<h2>Queues</h2>\n<div class=\"scroll\"><table id=\"queues\">\n<thead><tr><th>Division / official</th>"
            + "<th>Open</th><th>Due within 24 h</th><th>Overdue</th></tr></thead>\n<tbody>\n"
        for division in divisions {
            let rows = figures.queues.filter { $0.division == division }
            let whole = rows.first { $0.whole }
            body += "<tr class=\"division\" data-division=\"\(e(division))\"><td><b>\(e(divisionName(division)))</b></td>"
                + cells(open: whole?.open ?? 0, dueSoon: whole?.dueSoon ?? 0, overdue: whole?.overdue ?? 0) + "</tr>\n"
            for row in rows where !row.whole {
                let who = row.official ?? ""
                body += "<tr class=\"official\" data-division=\"\(e(division))\" data-official=\"\(e(who))\">"
                    + "<td class=\"indent\">\(who.isEmpty ? "<i>not assigned (division queue)</i>" : e(who))</td>"
                    + cells(open: row.open, dueSoon: row.dueSoon, overdue: row.overdue) + "</tr>\n"
            }
        }
        body += "</tbody></table></div>\n"

        body += "<h2>Open and overdue per division, last \(OfficialsPages.chartWeeks) weeks</h2>\n<div class=\"charts\">\n"
        for division in divisions {
            body += weeksChart(figures.weeks.filter { $0.division == division }, division: division,
                               name: divisionName(division), now: now)
        }
        body += "</div>\n<p class=\"meta\"><span class=\"key open\"></span> open "
            + "<span class=\"key overdue\"></span> of which overdue, at the same instant of each week.</p>\n"

        body += "<h2>Time per stage against its quota (last \(OfficialsPages.chartWeeks) weeks)</h2>\n<div class=\"charts\">\n"
        // Stages in the order of the routes (examine, check, sign), then any other.
        var stageOrder: [String] = []
        if let workflow {
            let routes = [workflow.defaultRoute] + workflow.overrides.keys.sorted().compactMap { workflow.overrides[$0] }
            for stage in routes.flatMap(\.stages) where !stageOrder.contains(stage.id) { stageOrder.append(stage.id) }
        }
        for stage in figures.stageTimes.map(\.stage) where !stageOrder.contains(stage) { stageOrder.append(stage) }
        func rank(_ stage: String) -> Int { stageOrder.firstIndex(of: stage) ?? Int.max }
        for division in divisions {
            let rows = figures.stageTimes.filter { $0.division == division && $0.official == nil }
                .sorted { rank($0.stage) < rank($1.stage) }
            guard !rows.isEmpty else { continue }
            body += stageChart(rows, division: division, name: divisionName(division))
        }
        body += "</div>\n<p class=\"meta\"><span class=\"key open\"></span> median time "
            + "<span class=\"key overdue\"></span> median beyond the quota; the black mark is the quota (median "
            + "hours from entering the stage to its due instant). Hours are working hours: 08:00 to 17:00 on the "
            + "working days of the calendar; nights, weekends and holidays count nothing.</p>\n"
        body += "<div class=\"scroll\"><table id=\"stages\">\n<thead><tr><th>Division / official · stage</th><th>Finished</th>"
            + "<th>Late</th><th>Median (h)</th><th>Quota (h)</th></tr></thead>\n<tbody>\n"
        for division in divisions {
            let rows = figures.stageTimes.filter { $0.division == division }
                .sorted { ($0.official ?? "", rank($0.stage)) < ($1.official ?? "", rank($1.stage)) }
            for row in rows {
                let who = row.official.map { "\(e($0)) · " } ?? "<b>\(e(divisionName(division)))</b> · "
                body += "<tr data-division=\"\(e(division))\" data-official=\"\(e(row.official ?? ""))\" "
                    + "data-stage=\"\(e(row.stage))\"><td\(row.official == nil ? "" : " class=\"indent\"")>\(who)"
                    + "\(e(row.stage))</td><td class=\"num finished\">\(row.finished)</td>"
                    + "<td class=\"num late-count\">\(row.late)</td><td class=\"num median\">\(hours(row.medianHours))</td>"
                    + "<td class=\"num quota\">\(hours(row.quotaHours))</td></tr>\n"
            }
        }
        body += "</tbody></table></div>\n"
        body += "<p class=\"meta\">Due within 24 h: an open stage whose due instant is in the next 24 hours. Overdue: "
            + "past it. A slip: <code>/dossiers/CODE/slip</code>.</p>"
        return HTML.page(title: "\(name): queues", refreshSeconds: refreshSeconds, body: body)
    }

    static let style = """
        td.indent{padding-left:1.2em}tr.division td{background:#f6f8fa}
        .charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:12px}
        figure{margin:0}figcaption{font-size:.85em;font-weight:600;margin-bottom:2px}
        svg{width:100%;height:auto;display:block}
        svg text{font:10px system-ui,sans-serif;fill:#57606a}
        .bar-open{fill:#6e9bd1}.bar-overdue{fill:#b42318}.bar-time{fill:#6e9bd1}.bar-late{fill:#b42318}
        .quota{stroke:#1b1f23;stroke-width:2}.axis{stroke:#d0d7de}
        .key{display:inline-block;width:10px;height:10px;vertical-align:middle}.key.open{background:#6e9bd1}
        .key.overdue{background:#b42318}
        @media print{.noprint{display:none}}
        """

    static func cells(open: Int, dueSoon: Int, overdue: Int) -> String {
        "<td class=\"num open\">\(open)</td><td class=\"num due-soon\">\(dueSoon)</td>"
            + "<td class=\"num overdue\(overdue > 0 ? " late" : "")\">\(overdue)</td>"
    }

    static func hours(_ value: Double) -> String { String(format: "%.1f", value) }

    /// Bars per week: open (blue) with its overdue part (red) in front; the most recent week on the right.
    static func weeksChart(_ weeks: [DepartmentFigures.Week], division: String, name: String, now: Date) -> String {
        let count = OfficialsPages.chartWeeks
        // Weeks without a row had nothing open.
        let ends = (0..<count).map { now.addingTimeInterval(-Double(count - 1 - $0) * 7 * 86_400) }
        let values = ends.map { end in
            weeks.first { abs($0.at.timeIntervalSince(end)) < 1 } ?? .init(division: division, at: end, open: 0, overdue: 0)
        }
        let top = max(1, values.map(\.open).max() ?? 0)
        let width = 320.0, height = 130.0, left = 28.0, bottom = 16.0, plot = height - bottom - 8
        let slot = (width - left) / Double(count)
        var svg = "<figure data-chart=\"weeks\" data-division=\"\(e(division))\"><figcaption>\(e(name))</figcaption>"
            + "<svg viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"Open and overdue stages of "
            + "\(e(name)) at the end of each of the last \(count) weeks\">"
        svg += "<text x=\"0\" y=\"12\">\(top)</text><text x=\"0\" y=\"\(Int(height - bottom))\">0</text>"
        svg += "<line class=\"axis\" x1=\"\(left)\" y1=\"\(height - bottom)\" x2=\"\(width)\" y2=\"\(height - bottom)\"/>"
        for (index, week) in values.enumerated() {
            let x = left + Double(index) * slot + 2
            let openHeight = plot * Double(week.open) / Double(top)
            let overdueHeight = plot * Double(week.overdue) / Double(top)
            let label = String(describing: LocalDate(instant: week.at))
            let shortLabel = String(label.suffix(5))
            let openBar = rect("bar-open", x: x, y: height - bottom - openHeight, width: slot - 4, height: openHeight)
            let overdueBar = rect(
                "bar-overdue", x: x, y: height - bottom - overdueHeight, width: slot - 4, height: overdueHeight)
            svg += "<g data-week=\"\(label)\" data-open=\"\(week.open)\" data-overdue=\"\(week.overdue)\">"
            svg += "<title>week to \(label): \(week.open) open, \(week.overdue) overdue</title>"
            svg += openBar + overdueBar
            svg += "<text x=\"\(f(x))\" y=\"\(Int(height - 3))\">\(shortLabel)</text></g>"
        }
        return svg + "</svg></figure>\n"
    }

    /// A horizontal bar per stage (median time; red when beyond the quota) and a black mark at its quota.
    static func stageChart(_ rows: [DepartmentFigures.StageTime], division: String, name: String) -> String {
        let width = 320.0, rowHeight = 28.0, left = 70.0
        let height = rowHeight * Double(rows.count) + 6
        let top = max(1, rows.map { max($0.medianHours, $0.quotaHours) }.max() ?? 1)
        let scale = (width - left - 92) / top
        var svg = "<figure data-chart=\"stages\" data-division=\"\(e(division))\"><figcaption>\(e(name))</figcaption>"
            + "<svg viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"Median time per stage of "
            + "\(e(name)) against its quota, in working hours\">"
        for (index, row) in rows.enumerated() {
            let y = Double(index) * rowHeight + 4
            let over = row.medianHours > row.quotaHours
            svg += "<g data-stage=\"\(e(row.stage))\"><title>\(e(row.stage)): median \(hours(row.medianHours)) h, "
                + "quota \(hours(row.quotaHours)) h, \(row.finished) finished, \(row.late) late</title>"
                + "<text x=\"0\" y=\"\(f(y + 14))\">\(e(String(row.stage.prefix(12))))</text>"
                + rect(over ? "bar-late" : "bar-time", x: left, y: y + 2, width: row.medianHours * scale, height: rowHeight - 10)
                + "<line class=\"quota\" x1=\"\(f(left + row.quotaHours * scale))\" y1=\"\(f(y))\" "
                + "x2=\"\(f(left + row.quotaHours * scale))\" y2=\"\(f(y + rowHeight - 4))\"/>"
                + "<text x=\"\(f(left + max(row.medianHours, row.quotaHours) * scale + 4))\" y=\"\(f(y + 14))\">"
                + "\(hours(row.medianHours))/\(hours(row.quotaHours)) h</text></g>"
        }
        return svg + "</svg></figure>\n"
    }

    static func rect(_ cls: String, x: Double, y: Double, width: Double, height: Double) -> String {
        "<rect class=\"\(cls)\" x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(max(0, width)))\" height=\"\(f(max(0, height)))\"/>"
    }

    static func f(_ value: Double) -> String { String(format: "%.1f", value) }
}
