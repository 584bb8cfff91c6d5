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

/// `motcua report`: the figures the administration publishes, per department.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Per department: received, decided on time, late, overdue, escalations, one-stop desk vs online.",
        discussion: """
            Dossiers count for the department that owns their procedure (the last step of an interconnected \
            procedure), by the local day they were submitted. Every received dossier is in exactly one of: decided \
            on time, decided late, open within its time, open overdue, withdrawn — so those add up to received, and \
            online + desk + post add up to received too. Escalations count the escalation records (level 1 to the \
            department head, level 2 to the delegator; authority = outside the delegation). Needs DATABASE_URL.

            Examples:
              motcua report
              motcua report --from 2026-11-23 --to 2026-11-27 --json
            """)

    @Option(help: "First local day (YYYY-MM-DD) of submission.")
    var from: String?

    @Option(help: "Last local day (YYYY-MM-DD) of submission.")
    var to: String?

    @Option(help: "The deploy directory (the catalogue: which department owns which procedure).")
    var rules: String = "deploy"

    @Flag(help: "Print JSON instead of text.")
    var json = false

    struct Figures: Encodable {
        var department: String
        var submitted = 0
        var notReceived = 0
        var received = 0
        var decidedOnTime = 0
        var decidedLate = 0
        var openOnTime = 0
        var openOverdue = 0
        var withdrawn = 0
        var approved = 0
        var refused = 0
        var escalationsLevel1 = 0
        var escalationsLevel2 = 0
        var escalationsAuthority = 0
        var online = 0
        var desk = 0
        var post = 0
        var onTimeRate: Double?
        var onlineShare: Double?

        mutating func add(_ other: Figures) {
            submitted += other.submitted
            notReceived += other.notReceived
            received += other.received
            decidedOnTime += other.decidedOnTime
            decidedLate += other.decidedLate
            openOnTime += other.openOnTime
            openOverdue += other.openOverdue
            withdrawn += other.withdrawn
            approved += other.approved
            refused += other.refused
            escalationsLevel1 += other.escalationsLevel1
            escalationsLevel2 += other.escalationsLevel2
            escalationsAuthority += other.escalationsAuthority
            online += other.online
            desk += other.desk
            post += other.post
        }

        mutating func rates() {
            let decided = decidedOnTime + decidedLate
            onTimeRate = decided > 0 ? Double(decidedOnTime) / Double(decided) : nil
            onlineShare = received > 0 ? Double(online) / Double(received) : nil
        }
    }

    struct Output: Encodable {
        var from: String?
        var to: String?
        var generatedAt: Date
        var departments: [Figures]
        var total: Figures
    }

    func validate() throws {
        if let from, LocalDate(from) == nil { throw ValidationError("--from: expected YYYY-MM-DD, got '\(from)'") }
        if let to, LocalDate(to) == nil { throw ValidationError("--to: expected YYYY-MM-DD, got '\(to)'") }
        if let from, let to, let a = LocalDate(from), let b = LocalDate(to), b < a {
            throw ValidationError("--to \(to) is before --from \(from)")
        }
    }

    func run() async throws {
        let catalogue = try CLI.bundle(rules).catalogue
        let db = try CLI.database()
        let clock = try CLI.clock()
        // One row per procedure and category; the department comes from the catalogue.
        let rows = try db.query(
            """
            WITH d AS (
                SELECT d.id, d.procedure, d.channel, d.status AS intake, s.status, s.outcome, s.overdue,
                       o.closed_on_time, o.status AS overall, o.fired AS overall_fired, s.decided_at, s.due_date
                FROM dossiers d
                LEFT JOIN dossier_status s ON s.dossier_id = d.id
                LEFT JOIN deadlines o ON o.dossier_id = d.id AND o.kind = 'overall'
                WHERE ($1::date IS NULL OR (d.submitted_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date >= $1::date)
                  AND ($2::date IS NULL OR (d.submitted_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date <= $2::date)
            ), c AS (
                SELECT d.*,
                    CASE
                        WHEN d.intake <> 'received' THEN 'not-received'
                        WHEN d.status = 'withdrawn' THEN 'withdrawn'
                        WHEN d.outcome IS NOT NULL THEN
                            CASE WHEN COALESCE(d.closed_on_time,
                                    (d.decided_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date <= d.due_date, true)
                                 THEN 'decided-on-time' ELSE 'decided-late' END
                        WHEN COALESCE(d.overdue, false) OR COALESCE(d.overall_fired, 0) & 2 <> 0
                             OR EXISTS (SELECT 1 FROM deadlines x WHERE x.dossier_id = d.id AND x.status <> 'closed'
                                        AND x.fired & 2 <> 0) THEN 'open-overdue'
                        ELSE 'open-on-time'
                    END AS category
                FROM d
            )
            SELECT procedure, category, channel, COALESCE(outcome, '') AS outcome, count(*) AS n,
                   sum((SELECT count(*) FROM escalations e WHERE e.dossier_id = c.id AND e.kind = 'deadline'
                        AND e.level = 1)) AS level1,
                   sum((SELECT count(*) FROM escalations e WHERE e.dossier_id = c.id AND e.kind = 'deadline'
                        AND e.level = 2)) AS level2,
                   sum((SELECT count(*) FROM escalations e WHERE e.dossier_id = c.id AND e.kind = 'authority'))
                       AS authority
            FROM c GROUP BY 1, 2, 3, 4
            """, [from, to])
        var byDepartment: [String: Figures] = [:]
        for row in rows {
            let procedure = try row.decode(String.self, "procedure")
            let department = catalogue.procedure(procedure)?.department ?? "unknown"
            let n = try row.decode(Int.self, "n")
            var f = byDepartment[department] ?? Figures(department: department)
            f.submitted += n
            switch try row.decode(String.self, "category") {
            case "not-received": f.notReceived += n
            case "withdrawn": f.withdrawn += n
            case "decided-on-time": f.decidedOnTime += n
            case "decided-late": f.decidedLate += n
            case "open-overdue": f.openOverdue += n
            default: f.openOnTime += n
            }
            if try row.decode(String.self, "category") != "not-received" {
                f.received += n
                switch try row.decode(String.self, "channel") {
                case "online": f.online += n
                case "counter": f.desk += n
                default: f.post += n
                }
                switch try row.decode(String.self, "outcome") {
                case "approve": f.approved += n
                case "refuse": f.refused += n
                default: break
                }
            }
            f.escalationsLevel1 += try row.decode(Int.self, "level1")
            f.escalationsLevel2 += try row.decode(Int.self, "level2")
            f.escalationsAuthority += try row.decode(Int.self, "authority")
            byDepartment[department] = f
        }
        let order = catalogue.departments.map(\.id).filter { $0 != Catalogue.delegatorId }
        var departments = order.map { byDepartment[$0] ?? Figures(department: $0) }
        departments += byDepartment.keys.filter { !order.contains($0) }.sorted().map { byDepartment[$0]! }
        var total = Figures(department: "total")
        for i in departments.indices {
            departments[i].rates()
            total.add(departments[i])
        }
        total.rates()
        let output = Output(from: from, to: to, generatedAt: clock.now(), departments: departments, total: total)
        if json { return try CLI.printJSON(output) }
        func pct(_ v: Double?) -> String { v.map { String(format: "%.1f%%", $0 * 100) } ?? "—" }
        let header = [
            "department", "received", "on time", "late", "open", "overdue", "withdrawn", "esc L1", "esc L2",
            "authority", "online", "desk", "post", "on-time rate", "online share",
        ]
        let lines = (departments + [total]).map { f in
            [f.department, String(f.received), String(f.decidedOnTime), String(f.decidedLate), String(f.openOnTime),
             String(f.openOverdue), String(f.withdrawn), String(f.escalationsLevel1), String(f.escalationsLevel2),
             String(f.escalationsAuthority), String(f.online), String(f.desk), String(f.post), pct(f.onTimeRate),
             pct(f.onlineShare)]
        }
        let period = from == nil && to == nil ? "all dossiers" : "submitted \(from ?? "…") to \(to ?? "…")"
        print("MotCua report, \(period), as of \(CLI.local(output.generatedAt)) (Asia/Ho_Chi_Minh)")
        print(CLI.table(header, lines))
        print("submitted \(total.submitted) = received \(total.received) + not received at intake \(total.notReceived); "
              + "received = on time + late + open + overdue + withdrawn; approved \(total.approved), refused \(total.refused)")
    }
}
