import ArgumentParser
import Audit
import Authority
import EffectivelyOnce
import Foundation
import Messages
import Operations
import Pages
import ServiceCommands
import Services
import Simulation
import Store

/// `motcua status <dossier id or code>`: where a dossier is, who holds it, its due dates and its timeline.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a dossier: status, who holds it, due dates, overdue, outcome and its timeline.",
        discussion: """
            Reads the coordinator's projection (dossier_status, dossier_timeline, deadlines) in PostgreSQL. Never \
            prints the applicant's personal data. Needs DATABASE_URL.

            Examples:
              motcua status CT-261127-000012
              motcua status 4b3f2a5e-6c1d-4e8f-9a0b-1c2d3e4f5a6b --json
            """)

    @Argument(help: "The dossier's code (as on the receipt) or its id.")
    var dossier: String

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @Option(help: "The deploy directory, to say whether the procedure's time limit is verified (skipped if absent).")
    var rules: String = "deploy"

    struct Output: Encodable {
        struct Event: Encodable {
            var at: Date
            var type: String
            var step: Int?
            var from: String?
            var to: String?
            var dueDate: String?
            var timing: String?
            var detail: String?
        }
        struct Deadline: Encodable {
            var step: Int
            var kind: String
            var department: DepartmentID?
            var dueDate: String
            var status: String
            var overdue: Bool
            var closedOnTime: Bool?
            var pausedDays: Int
        }
        struct Escalation: Encodable {
            var step: Int
            var kind: String
            var level: Int
            var reason: String
            var recipient: String
            var openedAt: Date
            var closedAt: Date?
        }
        var id: String
        var code: String?
        var procedure: String?
        /// Why the procedure's time limit is not verified against its source, when it is not.
        var timeLimitUnverified: String?
        var status: String?
        var heldBy: String?
        var step: Int?
        var receivedAt: Date?
        var dueDate: String?
        var stepDueDate: String?
        var overdue: Bool
        var outcome: String?
        var decidedAt: Date?
        var awaitingSignature: Bool
        var deadlines: [Deadline]
        var escalations: [Escalation]
        var timeline: [Event]
    }

    func run() async throws {
        let db = try CLI.database()
        let ref = try CLI.dossier(dossier, in: db)
        var output = Output(
            id: ref.id, code: ref.code, procedure: ref.procedure, status: ref.status, heldBy: ref.department?.rawValue,
            overdue: false, awaitingSignature: false, deadlines: [], escalations: [], timeline: [])
        if let code = ref.procedure,
            let procedure = (try? AuthorityBundle.load(from: URL(fileURLWithPath: rules, isDirectory: true)))?
                .catalogue.procedure(code), !procedure.verified
        {
            output.timeLimitUnverified = procedure.unverifiedBecause ?? "no source recorded"
        }
        if let found = try DossierStatusRead.find(.id(ref.id), in: db) {
            // The projection's row as it stands, when the coordinator has one; else reception's times.
            if let projection = found.projection {
                output.status = projection.status
                output.heldBy = projection.department?.rawValue
                output.step = projection.step
                output.receivedAt = projection.receivedAt
                output.dueDate = projection.dueDate
                output.stepDueDate = projection.stepDueDate
                output.overdue = projection.overdue
                output.outcome = projection.outcome?.rawValue
                output.decidedAt = projection.decidedAt
            } else if let reception = found.reception {
                output.receivedAt = reception.receivedAt
                output.dueDate = reception.dueDate
            }
        }
        for deadline in try DossierDeadlinesRead.deadlines(of: ref.id, in: db) {
            let row = Output.Deadline(
                step: deadline.step, kind: deadline.kind.rawValue, department: deadline.department,
                dueDate: deadline.dueDate, status: deadline.status, overdue: deadline.fired & 2 != 0,
                closedOnTime: deadline.closedOnTime, pausedDays: deadline.pausedDays)
            if row.overdue && row.status != "closed" { output.overdue = true }
            output.deadlines.append(row)
        }
        output.escalations = try DossierDeadlinesRead.escalations(of: ref.id, in: db).map {
            Output.Escalation(
                step: $0.step, kind: $0.kind, level: $0.level, reason: $0.reason, recipient: $0.recipient,
                openedAt: $0.openedAt, closedAt: $0.closedAt)
        }
        output.timeline = try TimelineRead.entries(of: ref.id, in: db).map {
            Output.Event(
                at: $0.at, type: $0.type, step: $0.step, from: $0.from, to: $0.to, dueDate: $0.dueDate,
                timing: $0.timing, detail: $0.detail)
        }
        output.awaitingSignature = !(try ReviewQueue.awaiting(departments: nil, dossierId: ref.id, limit: 1, in: db))
            .isEmpty
        if json { return try CLI.printJSON(output) }
        print(render(output))
    }

    func render(_ o: Output) -> String {
        // Stored text, escaped: an official's reason or a timeline detail cannot move the cursor, retitle the
        // terminal or reverse the line.
        func e(_ text: String) -> String { TerminalText.escape(text) }
        var lines: [String] = []
        lines.append("dossier   \(e(o.code ?? "(no code yet)"))  id \(e(o.id))")
        lines.append("procedure \(e(o.procedure ?? "—"))"
            + (o.timeLimitUnverified.map { " (time limit unverified: \(e($0)))" } ?? ""))
        var held = e(o.heldBy ?? "—")
        if let step = o.step { held += " (step \(step))" }
        if o.awaitingSignature { held += ", awaiting an official's signature" }
        lines.append("status    \(e(o.status ?? "—")), held by \(held)")
        lines.append("received  \(CLI.local(o.receivedAt)) (Asia/Ho_Chi_Minh)")
        var due = "due       \(e(o.dueDate ?? "—"))"
        if let stepDue = o.stepDueDate { due += "  (current step due \(e(stepDue)))" }
        lines.append(due)
        lines.append("overdue   \(o.overdue ? "YES" : "no")")
        lines.append("outcome   \(o.outcome.map { "\(e($0)), decided \(CLI.local(o.decidedAt))" } ?? "not decided yet")")
        if !o.deadlines.isEmpty {
            lines.append("")
            lines.append("deadlines")
            lines.append(CLI.table(
                ["step", "kind", "department", "due", "status", "overdue", "paused"],
                o.deadlines.map {
                    [String($0.step), $0.kind, $0.department?.rawValue ?? "—", $0.dueDate,
                     $0.status + ($0.closedOnTime.map { $0 ? " on time" : " late" } ?? ""), $0.overdue ? "yes" : "no",
                     $0.pausedDays > 0 ? "\($0.pausedDays) working days" : "—"]
                }).split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
        }
        if !o.escalations.isEmpty {
            lines.append("")
            lines.append("escalations")
            for x in o.escalations {
                lines.append("  level \(x.level) \(e(x.kind)) (\(e(x.reason))) to \(e(x.recipient)), \(CLI.local(x.openedAt))"
                    + (x.closedAt.map { ", closed \(CLI.local($0))" } ?? ", open"))
            }
        }
        lines.append("")
        lines.append("timeline")
        if o.timeline.isEmpty { lines.append("  (no events yet: is the coordinator running?)") }
        for x in o.timeline {
            var text = "  \(CLI.local(x.at))  \(e(x.type).padding(toLength: 20, withPad: " ", startingAt: 0))"
            text += " \(e(x.from ?? "—")) → \(e(x.to ?? "—"))"
            if let due = x.dueDate { text += "  due \(e(due))" }
            if let timing = x.timing { text += " (\(e(timing)))" }
            if let detail = x.detail { text += "  \(e(detail))" }
            lines.append(text)
        }
        return lines.joined(separator: "\n")
    }
}
