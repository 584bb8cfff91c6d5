import ArgumentParser
import Audit
import Authority
import EffectivelyOnce
import Foundation
import Messages
import Pages
import Postgres
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
            var department: String?
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
            id: ref.id, code: ref.code, procedure: ref.procedure, status: ref.status, heldBy: ref.department,
            overdue: false, awaitingSignature: false, deadlines: [], escalations: [], timeline: [])
        if let row = try db.query(
            """
            SELECT status, department, step, received_at, due_date::text AS due_date,
                   step_due_date::text AS step_due_date, overdue, outcome, decided_at
            FROM dossier_status WHERE dossier_id = $1
            """, [ref.id]
        ).first {
            output.status = try row.decodeIfPresent(String.self, "status")
            output.heldBy = try row.decodeIfPresent(String.self, "department")
            output.step = try row.decodeIfPresent(Int.self, "step")
            output.receivedAt = try row.decodeIfPresent(Date.self, "received_at")
            output.dueDate = try row.decodeIfPresent(String.self, "due_date")
            output.stepDueDate = try row.decodeIfPresent(String.self, "step_due_date")
            output.overdue = try row.decode(Bool.self, "overdue")
            output.outcome = try row.decodeIfPresent(String.self, "outcome")
            output.decidedAt = try row.decodeIfPresent(Date.self, "decided_at")
        } else if let row = try db.query(
            "SELECT received_at, due_date::text AS due_date FROM dossiers WHERE id = $1", [ref.id]
        ).first {
            output.receivedAt = try row.decodeIfPresent(Date.self, "received_at")
            output.dueDate = try row.decodeIfPresent(String.self, "due_date")
        }
        for row in try db.query(
            """
            SELECT step, kind, department, due_date::text AS due_date, status, fired, closed_on_time, paused_days
            FROM deadlines WHERE dossier_id = $1 ORDER BY step
            """, [ref.id])
        {
            let deadline = Output.Deadline(
                step: try row.decode(Int.self, "step"), kind: try row.decode(String.self, "kind"),
                department: try row.decodeIfPresent(String.self, "department"),
                dueDate: try row.decode(String.self, "due_date"), status: try row.decode(String.self, "status"),
                overdue: try row.decode(Int.self, "fired") & 2 != 0,
                closedOnTime: try row.decodeIfPresent(Bool.self, "closed_on_time"),
                pausedDays: try row.decode(Int.self, "paused_days"))
            if deadline.overdue && deadline.status != "closed" { output.overdue = true }
            output.deadlines.append(deadline)
        }
        for row in try db.query(
            """
            SELECT step, kind, level, reason, recipient, opened_at, closed_at FROM escalations
            WHERE dossier_id = $1 ORDER BY opened_at, id
            """, [ref.id])
        {
            output.escalations.append(Output.Escalation(
                step: try row.decode(Int.self, "step"), kind: try row.decode(String.self, "kind"),
                level: try row.decode(Int.self, "level"), reason: try row.decode(String.self, "reason"),
                recipient: try row.decode(String.self, "recipient"), openedAt: try row.decode(Date.self, "opened_at"),
                closedAt: try row.decodeIfPresent(Date.self, "closed_at")))
        }
        for row in try db.query(
            """
            SELECT at, type, step, from_department, to_department, due_date::text AS due_date, timing, detail
            FROM dossier_timeline WHERE dossier_id = $1 ORDER BY at, id
            """, [ref.id])
        {
            output.timeline.append(Output.Event(
                at: try row.decode(Date.self, "at"), type: try row.decode(String.self, "type"),
                step: try row.decodeIfPresent(Int.self, "step"),
                from: try row.decodeIfPresent(String.self, "from_department"),
                to: try row.decodeIfPresent(String.self, "to_department"),
                dueDate: try row.decodeIfPresent(String.self, "due_date"),
                timing: try row.decodeIfPresent(String.self, "timing"),
                detail: try row.decodeIfPresent(String.self, "detail")))
        }
        output.awaitingSignature = try db.query(
            """
            SELECT 1 FROM decisions d WHERE d.dossier_id = $1 AND d.review = 'official' AND d.signed_at IS NULL
              AND d.outcome IN ('approve', 'refuse')
              AND NOT EXISTS (SELECT 1 FROM decisions n WHERE n.dossier_id = d.dossier_id
                              AND (n.step > d.step OR (n.step = d.step AND n.round > d.round)))
            """, [ref.id]
        ).count > 0
        if json { return try CLI.printJSON(output) }
        print(render(output))
    }

    func render(_ o: Output) -> String {
        var lines: [String] = []
        lines.append("dossier   \(o.code ?? "(no code yet)")  id \(o.id)")
        lines.append("procedure \(o.procedure ?? "—")")
        var held = o.heldBy ?? "—"
        if let step = o.step { held += " (step \(step))" }
        if o.awaitingSignature { held += ", awaiting an official's signature" }
        lines.append("status    \(o.status ?? "—"), held by \(held)")
        lines.append("received  \(CLI.local(o.receivedAt)) (Asia/Ho_Chi_Minh)")
        var due = "due       \(o.dueDate ?? "—")"
        if let stepDue = o.stepDueDate { due += "  (current step due \(stepDue))" }
        lines.append(due)
        lines.append("overdue   \(o.overdue ? "YES" : "no")")
        lines.append("outcome   \(o.outcome.map { "\($0), decided \(CLI.local(o.decidedAt))" } ?? "not decided yet")")
        if !o.deadlines.isEmpty {
            lines.append("")
            lines.append("deadlines")
            lines.append(CLI.table(
                ["step", "kind", "department", "due", "status", "overdue", "paused"],
                o.deadlines.map {
                    [String($0.step), $0.kind, $0.department ?? "—", $0.dueDate,
                     $0.status + ($0.closedOnTime.map { $0 ? " on time" : " late" } ?? ""), $0.overdue ? "yes" : "no",
                     $0.pausedDays > 0 ? "\($0.pausedDays) working days" : "—"]
                }).split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
        }
        if !o.escalations.isEmpty {
            lines.append("")
            lines.append("escalations")
            for e in o.escalations {
                lines.append("  level \(e.level) \(e.kind) (\(e.reason)) to \(e.recipient), \(CLI.local(e.openedAt))"
                    + (e.closedAt.map { ", closed \(CLI.local($0))" } ?? ", open"))
            }
        }
        lines.append("")
        lines.append("timeline")
        if o.timeline.isEmpty { lines.append("  (no events yet: is the coordinator running?)") }
        for e in o.timeline {
            var text = "  \(CLI.local(e.at))  \(e.type.padding(toLength: 20, withPad: " ", startingAt: 0))"
            text += " \(e.from ?? "—") → \(e.to ?? "—")"
            if let due = e.dueDate { text += "  due \(due)" }
            if let timing = e.timing { text += " (\(timing))" }
            if let detail = e.detail { text += "  \(detail)" }
            lines.append(text)
        }
        return lines.joined(separator: "\n")
    }
}
