import Authority
import Foundation
import Operations
import Store

/// The printable processing-control slip (form 06) of a dossier for signed-in officials.
enum SlipPage {
    static func html(
        _ lines: [ProcessingSlip.Line], code: String, workflows: [DepartmentID: DepartmentWorkflow], now: Date
    ) -> String {
        func e(_ text: String) -> String { HTML.escape(text) }
        var body = "<style>@media print{form,.noprint{display:none}body{max-width:none}}"
            + "td.early{color:#1a7f37}td.on-time{color:#1b1f23}td.late{color:#b42318;font-weight:600}</style>\n"
        body += "<h1>Processing-control slip (form 06) — <code id=\"code\">\(e(code))</code></h1>\n"
        body += "<p class=\"meta\">As of \(e(HTML.localTime(now))), Hanoi time. Every hand-over inside the departments, "
            + "with the verdict of the stage left against its quota.</p>\n"
        guard !lines.isEmpty else { return HTML.page(title: "Slip \(code)", body: body + "<p>No hand-over yet.</p>") }
        body += "<div class=\"scroll\"><table id=\"slip\">\n<thead><tr><th>Step</th><th>#</th><th>Unit</th><th>Action</th>"
            + "<th>From</th><th>To</th><th>At</th><th>Stage due</th><th>Verdict</th><th>Note</th></tr></thead>\n<tbody>\n"
        for line in lines {
            let from = [line.fromStage, line.fromOfficial].compactMap { $0 }.joined(separator: " ")
            let to = [line.toStage, line.toOfficial].compactMap { $0 }.joined(separator: " ")
            let note = [line.actedAs.map { "as \($0)" }, line.reason].compactMap { $0 }.joined(separator: "; ")
            let verdict = line.verdict ?? ""
            body += "<tr data-line=\"\(line.step).\(line.round).\(line.line)\" data-department=\"\(e(line.department))\">"
                + "<td>\(line.step).\(line.round)</td><td class=\"num\">\(line.line)</td>"
                + "<td>\(e(ProcessingSlip.unit(line, workflows: workflows)))</td><td class=\"action\">\(e(line.action))</td>"
                + "<td>\(e(from))</td><td>\(e(to))</td><td class=\"num\">\(e(HTML.localTime(line.at)))</td>"
                + "<td class=\"num\">\(e(line.stageDueAt.map(HTML.localTime) ?? "—"))</td>"
                + "<td class=\"verdict \(e(verdict))\">\(e(verdict.isEmpty ? "—" : verdict))</td><td>\(e(note))</td></tr>\n"
        }
        body += "</tbody></table></div>\n"
        body += "<p id=\"summary\">\(lines.count) hand-overs; <span id=\"late\">\(ProcessingSlip.lateCount(lines))</span> "
            + "stage(s) finished late.</p>\n"
        return HTML.page(title: "Slip \(code)", body: body)
    }
}
