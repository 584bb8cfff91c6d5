import Authority
import Foundation
import Operations
import Postgres
import Store

/// The status page's scorecard panel: each department's Decision 766 progress indicator week by week (ISO weeks,
/// Monday to Sunday, local days), and the City's, as a server-rendered SVG chart with the figures in a table.
public struct ScorecardPanel: Codable, Sendable, Hashable {
    public struct Week: Codable, Sendable, Hashable {
        /// First and last local day (`YYYY-MM-DD`).
        public var from: String
        public var to: String
    }

    /// One week of one unit: finished on time + in progress within the deadline, of counted dossiers.
    public struct Point: Codable, Sendable, Hashable {
        public var numerator: Int
        public var denominator: Int
        /// Nil without dossiers that week.
        public var rate: Double?
    }

    public struct Series: Codable, Sendable, Hashable {
        /// Department id, or `city`.
        public var unit: String
        public var name: String
        /// One per week, in the order of ``ScorecardPanel/weeks``.
        public var points: [Point]
    }

    public var weeks: [Week]
    public var series: [Series]

    /// The last `weeks` ISO weeks up to the one holding `now`, each measured at its end (or `now`), in one
    /// statement.
    public static func read(
        database: PostgresConnection, catalogue: Catalogue, calendar: WorkingCalendar, now: Date, weeks: Int = 8
    ) throws -> ScorecardPanel {
        let today = LocalDate(instant: now)
        let monday = today.adding(days: -(today.weekday - 1))
        let periods = (0..<max(weeks, 1)).map { i in
            let from = monday.adding(days: -7 * (max(weeks, 1) - 1 - i))
            return Scorecard.Period(from: from, to: from.adding(days: 6), now: now)
        }
        let rows = try Scorecard.progress(periods, calendar: calendar, in: database)
        let cards = rows.map { Scorecard.cards(progress: $0, received: [], catalogue: catalogue) }
        let units = cards.first?.map(\.unit) ?? []
        let series = units.map { unit in
            Series(
                unit: unit,
                name: unit == "city" ? "City" : catalogue.department(DepartmentID(unit))?.name ?? unit,
                points: cards.map { week in
                    let indicator = week.first { $0.unit == unit }?.indicators.first { $0.group == .progress }
                    return Point(
                        numerator: indicator?.numerator ?? 0, denominator: indicator?.denominator ?? 0,
                        rate: indicator?.rate)
                })
        }
        return ScorecardPanel(
            weeks: periods.map { Week(from: $0.from!.description, to: $0.to!.description) }, series: series)
    }

    static let colours = ["#0969da", "#cf222e", "#1a7f37", "#8250df", "#bf8700", "#1b7c83", "#953800", "#57606a"]

    /// The chart: x = weeks, y = 0–100 %, one line per unit (the City thicker); each point has a `<title>`.
    public func svg() -> String {
        func e(_ text: String) -> String { HTML.escape(text) }
        let width = 640.0, height = 240.0, left = 40.0, right = 10.0, top = 10.0, bottom = 30.0
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        func x(_ i: Int) -> Double {
            weeks.count < 2 ? left + plotWidth / 2 : left + plotWidth * Double(i) / Double(weeks.count - 1)
        }
        func y(_ rate: Double) -> Double { top + plotHeight * (1 - rate) }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        var svg = "<svg id=\"scorecard-chart\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"100%\" "
            + "role=\"img\" aria-labelledby=\"scorecard-title\" xmlns=\"http://www.w3.org/2000/svg\">"
            + "<title id=\"scorecard-title\">Progress of processing (Decision 766), per week</title>"
        for tick in stride(from: 0, through: 100, by: 25) {
            let ty = y(Double(tick) / 100)
            svg += "<line x1=\"\(f(left))\" x2=\"\(f(width - right))\" y1=\"\(f(ty))\" y2=\"\(f(ty))\" "
                + "stroke=\"#d0d7de\" stroke-width=\"1\"/>"
            svg += "<text x=\"\(f(left - 4))\" y=\"\(f(ty + 4))\" text-anchor=\"end\" font-size=\"11\" "
                + "fill=\"#57606a\">\(tick)%</text>"
        }
        for (i, week) in weeks.enumerated() {
            let label = String(week.from.dropFirst(8)) + "/" + String(week.from.dropFirst(5).prefix(2))
            svg += "<text x=\"\(f(x(i)))\" y=\"\(f(height - 10))\" text-anchor=\"middle\" font-size=\"11\" "
                + "fill=\"#57606a\">\(e(label))</text>"
        }
        for (index, line) in series.enumerated() {
            let colour = line.unit == "city" ? "#1b1f23" : Self.colours[index % Self.colours.count]
            let strokeWidth = line.unit == "city" ? 3 : 1.5
            svg += "<g class=\"series\" data-unit=\"\(e(line.unit))\" stroke=\"\(colour)\" fill=\"\(colour)\">"
            // Weeks without dossiers break the line.
            var run: [String] = []
            func flush() {
                if run.count > 1 {
                    svg += "<polyline fill=\"none\" stroke-width=\"\(strokeWidth)\" points=\"\(run.joined(separator: " "))\"/>"
                }
                run = []
            }
            for (i, point) in line.points.enumerated() {
                guard let rate = point.rate else {
                    flush()
                    continue
                }
                run.append("\(f(x(i))),\(f(y(rate)))")
                svg += "<circle cx=\"\(f(x(i)))\" cy=\"\(f(y(rate)))\" r=\"3\" data-week=\"\(e(weeks[i].from))\" "
                    + "data-rate=\"\(f(rate * 100))\"><title>\(e(line.name)), week of \(e(weeks[i].from)): "
                    + "\(point.numerator) of \(point.denominator) (\(e(StatusPage.percent(rate))))</title></circle>"
            }
            flush()
            svg += "</g>"
        }
        return svg + "</svg>"
    }

    /// Heading, chart, legend and the figures as a table (`data-unit`, `data-week`: numerator/denominator).
    public func html() -> String {
        func e(_ text: String) -> String { HTML.escape(text) }
        var html = "<h2 id=\"scorecard\">Scorecard: progress of processing (Decision 766/QĐ-TTg)</h2>\n"
        html += "<p class=\"meta\">Per ISO week: dossiers finished by their appointment date plus those in progress "
            + "within it, of the dossiers received or processed that week; supplement waiting time subtracted; a "
            + "second supplement request counts as late. Other indicators: <code>motcua report --scorecard</code>.</p>\n"
        html += "<div class=\"scroll\">" + svg() + "</div>\n<ul class=\"legend\" style=\"list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:4px 12px;font-size:.85em\">"
        for (index, line) in series.enumerated() {
            let colour = line.unit == "city" ? "#1b1f23" : Self.colours[index % Self.colours.count]
            html += "<li><span style=\"color:\(colour)\">■</span> \(e(line.name))</li>"
        }
        html += "</ul>\n<div class=\"scroll\"><table id=\"scorecard-weeks\">\n<thead><tr><th>Department</th>"
        for week in weeks {
            html += "<th>\(e(String(week.from.dropFirst(8)) + "/" + String(week.from.dropFirst(5).prefix(2))))</th>"
        }
        html += "</tr></thead>\n<tbody>\n"
        for line in series {
            html += "<tr data-unit=\"\(e(line.unit))\"><th scope=\"row\">\(e(line.name))</th>"
            for (i, point) in line.points.enumerated() {
                html += "<td class=\"num\" data-week=\"\(e(weeks[i].from))\" "
                    + "data-figures=\"\(point.numerator)/\(point.denominator)\">\(e(StatusPage.percent(point.rate)))</td>"
            }
            html += "</tr>\n"
        }
        return html + "</tbody>\n</table></div>\n"
    }
}
