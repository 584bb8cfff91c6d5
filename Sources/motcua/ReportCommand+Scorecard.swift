import ArgumentParser
import Authority
import Foundation
import Operations
import Store

extension ReportCommand {
    struct ScorecardOutput: Encodable {
        var from: String?
        var to: String?
        var asOf: Date
        var generatedAt: Date
        var cards: [Scorecard.Card]
    }

    /// `motcua report --scorecard`: the Decision 766 indicators per department and for the City.
    func printScorecard() throws {
        let bundle = try CLI.bundle(rules)
        let catalogue = bundle.catalogue
        if let department, catalogue.department(department) == nil {
            throw ValidationError(
                "--department: '\(department)' is not a department of the catalogue in \(rules); "
                    + "known: \(catalogue.departments.map(\.id.rawValue).joined(separator: ", "))")
        }
        let db = try CLI.database()
        let now = try CLI.clock().now()
        let period = Scorecard.Period(from: from.flatMap { LocalDate($0) }, to: to.flatMap { LocalDate($0) }, now: now)
        var cards = Scorecard.cards(
            progress: try Scorecard.progress(period, calendar: bundle.calendar, in: db), received: try Scorecard.received(period, in: db),
            payments: (
                try Scorecard.feeDossiers(period, catalogue: catalogue, in: db), try Scorecard.collected(period, in: db)
            ),
            resultFiles: try Scorecard.resultFiles(period, in: db), complaintsRead: true,
            ratings: try Scorecard.ratings(period, in: db), catalogue: catalogue)
        if let department { cards = cards.filter { $0.unit == department.rawValue || $0.unit == "city" } }
        let output = ScorecardOutput(from: from, to: to, asOf: period.asOf, generatedAt: now, cards: cards)
        if json { return try CLI.printJSON(output) }
        func pct(_ v: Double?) -> String { v.map { String(format: "%.1f%%", $0 * 100) } ?? "—" }
        func pts(_ v: Double?) -> String { v.map { String(format: "%.2f", $0) } ?? "—" }
        let periodText = from == nil && to == nil ? "all dossiers" : "\(from ?? "…") to \(to ?? "…")"
        print("MotCua scorecard (Decision 766/QĐ-TTg), \(periodText), as of \(CLI.local(period.asOf)) "
              + "(Asia/Ho_Chi_Minh)")
        let header = ["unit", "indicator", "max", "points", "rate", "numerator", "denominator", "note"]
        var lines: [[String]] = []
        for card in cards {
            for i in card.indicators where i.status != .notComputable {
                lines.append([
                    TerminalText.escape(card.unit), i.group.rawValue, pts(i.maxPoints), pts(i.points), pct(i.rate),
                    i.numerator.map(String.init) ?? "—", i.denominator.map(String.init) ?? "—", i.reason ?? "",
                ])
            }
            lines.append([
                TerminalText.escape(card.unit), "computed total", pts(card.computedMaxPoints), pts(card.points), "", "",
                "", "\(card.progressDetail.lateBySupplements) late by a second supplement request",
            ])
        }
        for card in cards {
            let s = card.syncedToPortal
            lines.append([
                TerminalText.escape(card.unit), "synced-to-portal", "—", "—", pct(s.rate), String(s.numerator),
                String(s.denominator), "accepted by the national portal; no points (part of transparency)",
            ])
        }
        for card in cards {
            let f = card.feesCollected ?? Scorecard.Fees()
            lines.append([
                TerminalText.escape(card.unit), "fees-collected", "—", "—", "", String(f.payments), "",
                "\(f.amountVND) đồng paid in the period, \(f.onlineAmountVND) of them online; no points",
            ])
        }
        for card in cards {
            let r = card.electronicResults ?? .init(0, 0)
            lines.append([
                TerminalText.escape(card.unit), "electronic-results", "—", "—", pct(r.rate), String(r.numerator),
                String(r.denominator), "approvals with a result file; no points (one part of digitisation)",
            ])
        }
        for card in cards {
            let r = card.digitisedAtReception
            lines.append([
                TerminalText.escape(card.unit), "digitised-at-reception", "—", "—", pct(r.rate), String(r.numerator),
                String(r.denominator),
                "received with documents digitised at reception (\(card.digitisedNotSaid) not said); no points (one part "
                    + "of digitisation)",
            ])
        }
        for card in cards {
            let r = card.ratings ?? Scorecard.Ratings()
            let means = r.means.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.2f", $0.value))" }
            lines.append([
                TerminalText.escape(card.unit), "ratings", "—", "—", "", String(r.count), "",
                means.isEmpty
                    ? "no ratings"
                    : "mean of 1–5: " + means.joined(separator: ", ")
                        + "; rated ≤ \(Scorecard.dissatisfiedAtMost) counts as a complaint in satisfaction",
            ])
        }
        print(CLI.table(header, lines))
        print("Not computable from MotCua's data (no value is guessed):")
        let computed = Set(cards.flatMap(\.indicators).filter { $0.status != .notComputable }.map(\.group))
        for group in Scorecard.Group.allCases where !computed.contains(group) {
            if let reason = Scorecard.missingData[group] {
                print("  \(group.rawValue) (\(pts(group.maxPoints)) points): \(reason)")
            }
        }
    }
}
