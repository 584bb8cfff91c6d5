import Authority
import Foundation
import Kafka
import Messages
import Operations
import Postgres
import Store

/// The operators' and department heads' status page: per department, open dossiers, overdue ones, the on-time
/// rate, open escalations by level and the consumer lag of the department's workers.
///
/// The figures come from the step deadlines (`on_time_statistics`), `escalations` and `consumer_offsets`, read in
/// one read-only snapshot; the lag also needs the topics' high watermarks from Kafka.
public struct StatusReport: Codable, Sendable, Hashable {
    public struct Row: Codable, Sendable, Hashable {
        /// Department id, `unassigned` for steps no department holds, or `all` for the totals.
        public var department: String
        public var name: String
        /// Open steps held by the department (a dossier holds one step at a time; paused ones count).
        public var openDossiers: Int
        /// Open steps past their due instant (the overdue timer has fired).
        public var overdueOpen: Int
        /// Steps closed (decided or forwarded) on time, and late.
        public var closedOnTime: Int
        public var closedLate: Int
        /// `closedOnTime / (closedOnTime + closedLate + overdueOpen)`: open overdue steps count as late (the
        /// Decision 766 progress rule); nil when nothing closed and nothing is overdue.
        public var onTimeRate: Double?
        /// `closedOnTime / (closedOnTime + closedLate)`, nil when nothing closed (the page's old "on time").
        public var closedOnTimeRate: Double?
        public var escalationsLevel1: Int
        public var escalationsLevel2: Int
        /// In-department escalations of stages still open (issue 20): to the head of the division, and to the
        /// director. They never go to the City and are counted apart from the step escalations (L1, L2).
        public var stageEscalationsHead = 0
        public var stageEscalationsDirector = 0
        /// Messages of `dossiers.<department>` the department's worker group has not consumed yet.
        public var consumerLag: Int64?
        /// `ok`, `unknown` (Kafka unreachable) or `no-worker` (the delegator).
        public var consumerLagStatus: String
    }

    /// ISO-8601 with the Hanoi offset.
    public var generatedAt: String
    public var departments: [Row]
    public var totals: Row
    /// Each department's progress indicator week by week; nil when not asked for.
    public var scorecard: ScorecardPanel? = nil
}

/// High watermarks of the department topics, as far as Kafka answered.
public struct TopicWatermarks: Sendable {
    /// topic → partition → (low, high); a topic missing here is unknown.
    public var topics: [String: [Int32: (low: Int64, high: Int64)]]

    public init(topics: [String: [Int32: (low: Int64, high: Int64)]] = [:]) { self.topics = topics }

    /// Asks Kafka for every partition of `topics`; a topic whose metadata or watermarks fail is left out, and after
    /// a metadata failure (broker unreachable) the remaining topics are not tried, so a page waits one timeout at most.
    public static func query(
        _ topics: [String], admin: KafkaAdmin, timeout: Duration = .seconds(2)
    ) -> TopicWatermarks {
        var result = TopicWatermarks()
        for topic in topics {
            guard let metadata = try? admin.metadata(topic: topic, timeout: timeout).first(where: { $0.name == topic })
            else { break }
            var partitions: [Int32: (low: Int64, high: Int64)] = [:]
            var complete = true
            for partition in metadata.partitions {
                guard let marks = try? admin.watermarks(TopicPartition(topic, partition.id), timeout: timeout) else {
                    complete = false
                    break
                }
                partitions[partition.id] = marks
            }
            if complete && !partitions.isEmpty { result.topics[topic] = partitions }
        }
        return result
    }
}

public enum StatusPage {
    /// The consumer group of a department's workers when operators keep the default (`WorkerCommand`).
    public static func defaultWorkerGroup(_ department: DepartmentID) -> String { "motcua.\(department)" }

    /// Lag of one group on one topic: for each partition, the high watermark minus the next offset the group
    /// stored in `consumer_offsets` (a partition without a stored offset, or one below the low watermark, is read
    /// from the low watermark, as the worker does).
    public static func lag(partitions: [Int32: (low: Int64, high: Int64)], stored: [Int32: Int64]) -> Int64 {
        partitions.reduce(0) { sum, entry in
            let (low, high) = entry.value
            let next = max(stored[entry.key] ?? low, low)
            return sum + max(0, high - next)
        }
    }

    /// Reads the figures in one read-only snapshot. `departments` with workers get a lag from `watermarks`; the
    /// others (the delegator) show `no-worker`.
    public static func report(
        database: PostgresConnection, catalogue: Catalogue, calendar: WorkingCalendar, watermarks: TopicWatermarks,
        workerDepartments: [DepartmentID], topics: Topics = Topics(),
        workerGroup: ((DepartmentID) -> String)? = nil, now: Date = Date(), scorecardWeeks: Int = 8
    ) throws -> StatusReport {
        let workerGroup = workerGroup ?? { topics.group(defaultWorkerGroup($0)) }
        let groups = workerDepartments.map(workerGroup)
        let figures = try DepartmentReport.statusFigures(consumerGroups: groups, in: database)
        var rows: [String: StatusReport.Row] = [:]
        var order = catalogue.departments.map(\.id.rawValue)
        func row(_ id: DepartmentID?) -> StatusReport.Row {
            let key = id?.rawValue ?? "unassigned"
            if let existing = rows[key] { return existing }
            if !order.contains(key) { order.append(key) }
            return StatusReport.Row(
                department: key, name: id.flatMap { catalogue.department($0)?.name } ?? (id?.rawValue ?? "Unassigned"),
                openDossiers: 0, overdueOpen: 0, closedOnTime: 0, closedLate: 0, onTimeRate: nil,
                closedOnTimeRate: nil, escalationsLevel1: 0, escalationsLevel2: 0, consumerLag: nil, consumerLagStatus: "no-worker")
        }
        for id in order { rows[id] = row(DepartmentID(id)) }
        for steps in figures.steps {
            var r = row(steps.department)
            r.openDossiers = steps.open
            r.overdueOpen = steps.openOverdue
            r.closedOnTime = steps.onTime
            r.closedLate = steps.late
            rows[r.department] = r
        }
        for escalations in figures.openEscalations {
            var r = row(escalations.department)
            if escalations.level == 1 {
                r.escalationsLevel1 += escalations.count
            } else {
                r.escalationsLevel2 += escalations.count
            }
            rows[r.department] = r
        }
        for escalations in figures.openStageEscalations {
            var r = row(escalations.department)
            if escalations.level == "head" {
                r.stageEscalationsHead += escalations.count
            } else {
                r.stageEscalationsDirector += escalations.count
            }
            rows[r.department] = r
        }
        var stored: [String: [Int32: Int64]] = [:]
        for offset in figures.offsets {
            stored["\(offset.consumerGroup)\u{0}\(offset.topic)", default: [:]][offset.partition] = offset.nextOffset
        }
        for department in workerDepartments {
            var r = row(department)
            let topic = topics.department(department)
            let group = workerGroup(department)
            if let partitions = watermarks.topics[topic] {
                r.consumerLag = lag(partitions: partitions, stored: stored["\(group)\u{0}\(topic)"] ?? [:])
                r.consumerLagStatus = "ok"
            } else {
                r.consumerLag = nil
                r.consumerLagStatus = "unknown"
            }
            rows[department.rawValue] = r
        }
        var departments = order.compactMap { rows[$0] }
        for index in departments.indices {
            departments[index].onTimeRate = rate(departments[index])
            departments[index].closedOnTimeRate = closedRate(departments[index])
        }
        var totals = StatusReport.Row(
            department: "all", name: "All departments",
            openDossiers: departments.reduce(0) { $0 + $1.openDossiers },
            overdueOpen: departments.reduce(0) { $0 + $1.overdueOpen },
            closedOnTime: departments.reduce(0) { $0 + $1.closedOnTime },
            closedLate: departments.reduce(0) { $0 + $1.closedLate }, onTimeRate: nil, closedOnTimeRate: nil,
            escalationsLevel1: departments.reduce(0) { $0 + $1.escalationsLevel1 },
            escalationsLevel2: departments.reduce(0) { $0 + $1.escalationsLevel2 },
            consumerLag: nil, consumerLagStatus: "ok")
        totals.stageEscalationsHead = departments.reduce(0) { $0 + $1.stageEscalationsHead }
        totals.stageEscalationsDirector = departments.reduce(0) { $0 + $1.stageEscalationsDirector }
        totals.onTimeRate = rate(totals)
        totals.closedOnTimeRate = closedRate(totals)
        let withWorkers = departments.filter { $0.consumerLagStatus != "no-worker" }
        if withWorkers.contains(where: { $0.consumerLagStatus == "unknown" }) {
            totals.consumerLagStatus = "unknown"
        } else {
            totals.consumerLag = withWorkers.reduce(0) { $0 + ($1.consumerLag ?? 0) }
        }
        let scorecard = scorecardWeeks > 0
            ? try ScorecardPanel.read(
                database: database, catalogue: catalogue, calendar: calendar, now: now, weeks: scorecardWeeks) : nil
        return StatusReport(
            generatedAt: HTML.localISO(now), departments: departments, totals: totals, scorecard: scorecard)
    }

    /// On time of closed and open overdue steps: an open step past its due date is already late.
    static func rate(_ row: StatusReport.Row) -> Double? {
        onTimeRate(onTime: row.closedOnTime, late: row.closedLate, overdueOpen: row.overdueOpen)
    }

    static func closedRate(_ row: StatusReport.Row) -> Double? {
        onTimeRate(onTime: row.closedOnTime, late: row.closedLate, overdueOpen: 0)
    }

    /// The on-time rate as the status page and `motcua report` publish it: what ended on time, of what ended and what
    /// is open past its due date (Decision 766's progress rule counts an open overdue one as late); with
    /// `overdueOpen` 0, the "closed on time" rate. Nil when there is nothing to judge.
    public static func onTimeRate(onTime: Int, late: Int, overdueOpen: Int) -> Double? {
        let judged = onTime + late + overdueOpen
        return judged == 0 ? nil : Double(onTime) / Double(judged)
    }

    /// The rate as shown on the page: one decimal, `—` when nothing closed.
    public static func percent(_ rate: Double?) -> String {
        guard let rate else { return "—" }
        return String(format: "%.1f%%", rate * 100)
    }

    /// The lag as shown on the page.
    public static func lagText(_ row: StatusReport.Row) -> String {
        switch row.consumerLagStatus {
        case "ok": return row.consumerLag.map(String.init) ?? "—"
        case "unknown": return "unknown"
        default: return "—"
        }
    }

    public static func json(_ report: StatusReport) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(report))
    }

    /// The page: one table, a row per department and a totals row; every cell carries `data-field`, every row
    /// `data-department`, so that scripts (and the browser tests) can read it.
    public static func html(_ report: StatusReport, refreshSeconds: Int = 10) -> String {
        func e(_ text: String) -> String { HTML.escape(text) }
        func cells(_ row: StatusReport.Row) -> String {
            let late = row.overdueOpen > 0 ? " late" : ""
            let closed = row.closedOnTime + row.closedLate
            var html = "<tr data-department=\"\(e(row.department))\">"
            html += "<th scope=\"row\" data-field=\"name\">\(e(row.name))</th>"
            html += "<td class=\"num\" data-field=\"open\">\(row.openDossiers)</td>"
            html += "<td class=\"num\(late)\" data-field=\"overdue\">\(row.overdueOpen)</td>"
            html += "<td class=\"num\" data-field=\"on-time-rate\" "
                + "title=\"\(row.closedOnTime) on time of \(closed) closed and \(row.overdueOpen) open overdue\">"
            html += e(percent(row.onTimeRate)) + "</td>"
            html += "<td class=\"num\" data-field=\"closed-on-time-rate\" "
                + "title=\"\(row.closedOnTime) on time of \(closed) closed\">"
            html += e(percent(row.closedOnTimeRate)) + "</td>"
            html += "<td class=\"num\" data-field=\"escalations-1\">\(row.escalationsLevel1)</td>"
            html += "<td class=\"num\" data-field=\"escalations-2\">\(row.escalationsLevel2)</td>"
            html += "<td class=\"num\" data-field=\"stage-escalations-head\">\(row.stageEscalationsHead)</td>"
            html += "<td class=\"num\" data-field=\"stage-escalations-director\">\(row.stageEscalationsDirector)</td>"
            html += "<td class=\"num\" data-field=\"lag\">\(e(lagText(row)))</td></tr>\n"
            return html
        }
        var body = "<h1>MotCua — status</h1>\n"
        body += "<p class=\"meta\">As of <time id=\"generated\">\(e(CitizenLookup.shortTime(report.generatedAt)))</time> "
            + "(Hanoi time); refreshes every \(refreshSeconds) s.</p>\n"
        body += "<div class=\"scroll\"><table id=\"departments\">\n<thead><tr><th>Department</th><th>Open</th>"
            + "<th>Over&shy;due</th><th>On time</th><th>Closed on time</th><th>Esc.<br>L1</th><th>Esc.<br>L2</th>"
            + "<th>Stage<br>head</th><th>Stage<br>dir.</th><th>Lag</th></tr></thead>\n<tbody>\n"
        for row in report.departments { body += cells(row) }
        body += "</tbody>\n<tfoot>\n" + cells(report.totals) + "</tfoot>\n</table></div>\n"
        body += """
            <h2>What the columns mean</h2>
            <dl>
            <dt>Open</dt><dd>dossier steps the department holds now (paused ones included)</dd>
            <dt>Overdue</dt><dd>open steps past their due date</dd>
            <dt>On time</dt><dd>steps closed (decided or forwarded) on time, of all closed and all open overdue (an open
            step past its due date counts as late, as in the Decision 766 progress indicator)</dd>
            <dt>Closed on time</dt><dd>steps closed on time, of all closed</dd>
            <dt>Esc. L1, L2</dt><dd>open escalations to the department head (1) and to the delegator (2)</dd>
            <dt>Stage head, Stage dir.</dt><dd>inside the department: escalations of stages still open (due soon or
            overdue) to the head of the division, then to the director; never sent to the City</dd>
            <dt>Lag</dt><dd>messages of the department topic its workers have not consumed yet</dd>
            </dl>
            """
        if let scorecard = report.scorecard { body += scorecard.html() }
        return HTML.page(title: "MotCua status", refreshSeconds: refreshSeconds, body: body)
    }
}
