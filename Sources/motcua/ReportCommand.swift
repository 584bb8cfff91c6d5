import ArgumentParser
import Audit
import Authority
import EffectivelyOnce
import Foundation
import Messages
import Pages
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
            department head, level 2 to the delegator; authority = outside the delegation); apart from them, "stage \
            head" and "stage dir" count the in-department escalations of stages (to the head of the division, then \
            the director), which never go to the City. The on-time rate is decided on time of decided + open overdue \
            (an open dossier past its due date is already late, as on the status page and in Decision 766's progress \
            rule); "closed on time" is decided on time of decided. Needs DATABASE_URL.

            Examples:
              motcua report
              motcua report --from 2026-11-23 --to 2026-11-27 --json
              motcua report --scorecard --from 2026-11-01 --to 2026-11-30 --department industry-trade

            --scorecard prints the Decision 766/QĐ-TTg indicators MotCua has data for (progress of processing, \
            online service), per department and for the City, with points, numerator and denominator, and lists \
            the indicators it cannot compute; formulas in docs/scorecard.md.
            """)

    @Option(help: "First local day (YYYY-MM-DD) of submission.")
    var from: String?

    @Option(help: "Last local day (YYYY-MM-DD) of submission.")
    var to: String?

    @Option(help: "The deploy directory (the catalogue: which department owns which procedure).")
    var rules: String = "deploy"

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @Flag(help: "Print the City's scorecard (Decision 766/QĐ-TTg indicators) instead of the submissions report.")
    var scorecard = false

    @Option(help: "With --scorecard: only this department's card (and the City's).")
    var department: DepartmentID?

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
        var stopped = 0
        var approved = 0
        var refused = 0
        var escalationsLevel1 = 0
        var escalationsLevel2 = 0
        var escalationsAuthority = 0
        /// In-department escalations of stages (issue 20): to the head of the division, to the director.
        var stageEscalationsHead = 0
        var stageEscalationsDirector = 0
        var online = 0
        var desk = 0
        var post = 0
        /// Decided on time of decided and open overdue (an open dossier past its due date is already late), as on
        /// the status page.
        var onTimeRate: Double?
        /// Decided on time of decided only.
        var closedOnTimeRate: Double?
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
            stopped += other.stopped
            approved += other.approved
            refused += other.refused
            escalationsLevel1 += other.escalationsLevel1
            escalationsLevel2 += other.escalationsLevel2
            escalationsAuthority += other.escalationsAuthority
            stageEscalationsHead += other.stageEscalationsHead
            stageEscalationsDirector += other.stageEscalationsDirector
            online += other.online
            desk += other.desk
            post += other.post
        }

        mutating func rates() {
            onTimeRate = StatusPage.onTimeRate(onTime: decidedOnTime, late: decidedLate, overdueOpen: openOverdue)
            closedOnTimeRate = StatusPage.onTimeRate(onTime: decidedOnTime, late: decidedLate, overdueOpen: 0)
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
        if department != nil && !scorecard { throw ValidationError("--department needs --scorecard") }
    }

    func run() async throws {
        if scorecard { return try printScorecard() }
        let catalogue = try CLI.bundle(rules).catalogue
        let db = try CLI.database()
        let clock = try CLI.clock()
        // One row per procedure and category; the department comes from the catalogue.
        let rows = try DepartmentReport.submissions(
            from: from.flatMap { LocalDate($0) }, to: to.flatMap { LocalDate($0) }, in: db)
        var byDepartment: [String: Figures] = [:]
        for row in rows {
            let department = catalogue.procedure(row.procedure)?.department.rawValue ?? "unknown"
            let n = row.count
            var f = byDepartment[department] ?? Figures(department: department)
            f.submitted += n
            switch row.category {
            case .notReceived: f.notReceived += n
            case .withdrawn: f.withdrawn += n
            case .stopped: f.stopped += n
            case .decidedOnTime: f.decidedOnTime += n
            case .decidedLate: f.decidedLate += n
            case .openOverdue: f.openOverdue += n
            case .openOnTime: f.openOnTime += n
            }
            if row.category != .notReceived {
                f.received += n
                switch row.channel {
                case .online: f.online += n
                case .counter: f.desk += n
                case .post: f.post += n
                }
                switch row.outcome {
                case .approve: f.approved += n
                case .refuse: f.refused += n
                default: break
                }
            }
            f.escalationsLevel1 += row.escalationsLevel1
            f.escalationsLevel2 += row.escalationsLevel2
            f.escalationsAuthority += row.escalationsAuthority
            f.stageEscalationsHead += row.stageEscalationsHead
            f.stageEscalationsDirector += row.stageEscalationsDirector
            byDepartment[department] = f
        }
        let order = catalogue.departments.map(\.id).filter { $0 != Catalogue.delegatorId }.map(\.rawValue)
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
            "department", "received", "on time", "late", "open", "overdue", "withdrawn", "stopped", "esc L1", "esc L2",
            "authority", "stage head", "stage dir", "online", "desk", "post", "on-time rate", "closed on time",
            "online share",
        ]
        let lines = (departments + [total]).map { (f: Figures) -> [String] in
            [f.department, String(f.received), String(f.decidedOnTime), String(f.decidedLate), String(f.openOnTime),
             String(f.openOverdue), String(f.withdrawn), String(f.stopped), String(f.escalationsLevel1),
             String(f.escalationsLevel2), String(f.escalationsAuthority), String(f.stageEscalationsHead),
             String(f.stageEscalationsDirector), String(f.online), String(f.desk), String(f.post), pct(f.onTimeRate),
             pct(f.closedOnTimeRate), pct(f.onlineShare)]
        }
        let period = from == nil && to == nil ? "all dossiers" : "submitted \(from ?? "…") to \(to ?? "…")"
        print("MotCua report, \(period), as of \(CLI.local(output.generatedAt)) (Asia/Ho_Chi_Minh)")
        print(CLI.table(header, lines))
        print("submitted \(total.submitted) = received \(total.received) + not received at intake \(total.notReceived); "
              + "received = on time + late + open + overdue + withdrawn + stopped; approved \(total.approved), refused \(total.refused)")
    }
}
