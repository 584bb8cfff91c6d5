import ArgumentParser
import Audit
import Authority
import EffectivelyOnce
import Foundation
import Kafka
import Logging
import Messages
import Pages
import Postgres
import ServiceCommands
import Services
import Simulation
import Store
import Synchronization

/// `motcua audit`: auditors' tools.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Auditors' tools: replay topics and report every decision that does not re-derive.",
        subcommands: [AuditReplayCommand.self])
}

/// `motcua audit replay`: re-derive every decision of a range from the topics and report what differs.
struct AuditReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Re-evaluate the decisions of department topics and report every difference (exit 1 if any).",
        discussion: """
            Reads the department topics with its own consumer (assigned partitions: it never joins the workers' \
            groups and commits nothing), re-evaluates every decision with the rule version and delegation snapshot \
            it recorded (from PostgreSQL), and reports: stored decisions that differ from the re-derivation \
            (outcome, rule, delegation), dossier steps with no decision, decisions with no message behind them, \
            decisions made while their delegation was not valid (as known now, revocations included), duplicates; \
            and, as notes that do not count as differences, officials' signatures that override the rules and \
            deadlines missed. Read-only: it runs with the auditor's read-only database role.

            Exit status: 0 nothing differs, 1 differences found, 2 error (like diff).
            Needs KAFKA_BOOTSTRAP and DATABASE_URL.

            Examples:
              motcua audit replay                                     # every department, whole topics
              motcua audit replay --department labour --format html --output audit.html
              motcua audit replay --department culture --offsets 0=0-5000 --offsets 1=0-5000
              motcua audit replay --from 2026-11-23 --to 2026-11-28 --format json
              motcua audit replay --department environment --what-if ./proposed   # ./proposed/rules/*.yaml or ./proposed/*.yaml
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json, html }

    @OptionGroup var topicOptions: TopicOptions

    @Option(name: .customLong("department"), help: "A department to replay (repeat; default: all five).")
    var departments: [DepartmentID] = []

    @Option(name: .customLong("offsets"), help: "PARTITION=START-END, end exclusive (repeat; one department only).")
    var offsets: [String] = []

    @Option(help: "Business time from: an ISO-8601 instant, or a day YYYY-MM-DD (00:00 in Asia/Ho_Chi_Minh).")
    var from: String?

    @Option(help: "Business time to (exclusive), like --from.")
    var to: String?

    @Option(name: .customLong("what-if"), help: "A directory of other rules to evaluate with: report what would change.")
    var whatIf: String?

    @Option(help: "Output: table (terminal), json (stable field names) or html (a self-contained report file).")
    var format: Format = .table

    @Option(help: "Write the report to this file instead of standard output (html default: audit-report.html).")
    var output: String?

    @Option(help: "The deploy directory (catalogue, delegation files, calendar).")
    var rules = "deploy"

    @Flag(help: "With --from: scan from the start instead of seeking by Kafka timestamps (automatic under a simulated MOTCUA_CLOCK).")
    var scan = false

    @Flag(help: "No progress output.")
    var quiet = false

    func parsedOffsets() throws -> [Int32: (start: Int64, end: Int64)] {
        var result: [Int32: (start: Int64, end: Int64)] = [:]
        for text in offsets {
            let parts = text.split(separator: "=", maxSplits: 1)
            let bounds = parts.count == 2 ? parts[1].split(separator: "-", maxSplits: 1) : []
            guard parts.count == 2, bounds.count == 2, let partition = Int32(parts[0]), let start = Int64(bounds[0]),
                let end = Int64(bounds[1]), partition >= 0, start >= 0, end > start
            else {
                throw ValidationError("--offsets '\(text)': expected PARTITION=START-END with START < END, e.g. 0=100-2000")
            }
            result[partition] = (start, end)
        }
        return result
    }

    static func instant(_ text: String, option: String) throws -> Date {
        if let day = LocalDate(text) {
            return day.startInstant
        }
        guard let instant = ISO8601Instant.parse(text) else {
            throw ValidationError("\(option) '\(text)': expected an ISO-8601 instant with offset or a day YYYY-MM-DD")
        }
        return instant
    }

    func validate() throws {
        for department in departments { try CLI.checkDepartment(department, rules: rules) }
        if !offsets.isEmpty && departments.count != 1 {
            throw ValidationError("--offsets needs exactly one --department (partitions are per topic)")
        }
        _ = try parsedOffsets()
        if let from, let to, try Self.instant(to, option: "--to") <= Self.instant(from, option: "--from") {
            throw ValidationError("--to must be after --from")
        }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        guard !(environment["KAFKA_BOOTSTRAP"] ?? "").isEmpty else {
            throw ValidationError("KAFKA_BOOTSTRAP is not set: export the broker list (./tools/dev-up writes .dev/env)")
        }
        guard ["DATABASE_URL", "PGHOST", "PGDATABASE"].contains(where: { !(environment[$0] ?? "").isEmpty }) else {
            throw ValidationError("DATABASE_URL is not set: export the PostgreSQL URL (a read-only role is enough)")
        }
        var settings = AuditReplay.Settings()
        settings.topics = topicOptions.topics
        if !departments.isEmpty { settings.departments = departments }
        settings.offsets = try parsedOffsets()
        settings.from = try from.map { try Self.instant($0, option: "--from") }
        settings.to = try to.map { try Self.instant($0, option: "--to") }
        // Kafka timestamps are wall-clock times: seeking by them is right only when the services used it too.
        settings.seekByTimestamp = ["", "system"].contains(environment["MOTCUA_CLOCK"] ?? "") && !scan
        let bundle = try CLI.bundle(rules)
        if let whatIf { settings.whatIf = try Self.whatIfRules(whatIf) }
        var logger = Logger(label: "motcua.audit")
        logger.logLevel = .warning
        let replay = AuditReplay(
            settings: settings, bundle: bundle, kafka: .fromEnvironment(environment),
            postgres: .fromEnvironment(environment), logger: logger)
        let progress = quiet ? nil : Self.progressReporter()
        let report = try await Task.detached { try replay.run(progress: progress) }.value
        if !quiet {
            let clear = isatty(2) != 0 ? "\r\u{1B}[K" : ""
            let rate = String(format: "%.2f s (%d decisions/s)", report.seconds, Int(report.rate))
            let line = "\(clear)replayed \(report.messages) messages, compared \(report.compared) decisions in \(rate)\n"
            FileHandle.standardError.write(Data(line.utf8))
        }
        let text: String
        switch format {
        case .table: text = report.table()
        case .json: text = try report.json()
        case .html: text = report.html(generatedAt: Date())
        }
        let destination = output ?? (format == .html ? "audit-report.html" : nil)
        if let destination {
            do {
                try text.write(toFile: destination, atomically: true, encoding: .utf8)
            } catch {
                throw ValidationError("cannot write the report to '\(destination)': \(error.localizedDescription)")
            }
            if format != .json { print(report.table(limit: 0)) }
            print("report written to \(destination)")
        } else {
            print(text, terminator: "")
        }
        if report.differences > 0 { throw ExitCode(1) }
    }

    /// Rule sets from `directory/rules/*.yaml` (a whole deploy directory: its delegations too) or `directory/*.yaml`.
    static func whatIfRules(
        _ directory: String
    ) throws -> (name: String, ruleSets: [DepartmentID: RuleSet], delegations: DelegationRegistry?) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("--what-if '\(directory)' is not a directory of rule files")
        }
        let url = URL(fileURLWithPath: directory, isDirectory: true)
        if FileManager.default.fileExists(atPath: url.appendingPathComponent("rules").path) {
            let bundle = try CLI.bundle(directory)
            return (directory, bundle.ruleSets, bundle.delegations)
        }
        var ruleSets: [DepartmentID: RuleSet] = [:]
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names.sorted() where name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
            let path = url.appendingPathComponent(name).path
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ValidationError("--what-if: cannot read \(path) as UTF-8 text")
            }
            do {
                let ruleSet = try RuleSet(yaml: text, file: path)
                ruleSets[ruleSet.department] = ruleSet
            } catch {
                throw ValidationError("--what-if: \(path) is not a valid rule file:\n\(error)")
            }
        }
        guard !ruleSets.isEmpty else {
            throw ValidationError("--what-if '\(directory)' has no rule files (<department>.yaml, or rules/<department>.yaml)")
        }
        return (directory, ruleSets, nil)
    }

    /// A progress bar on a terminal; a line every 5 s otherwise.
    static func progressReporter() -> AuditReplay.Progress {
        let terminal = isatty(2) != 0
        let last = Mutex(ContinuousClock.now)
        let started = ContinuousClock.now
        return { read, total in
            let now = ContinuousClock.now
            let due = last.withLock { last -> Bool in
                guard now - last >= (terminal ? .milliseconds(200) : .seconds(5)) else { return false }
                last = now
                return true
            }
            guard due, total > 0 else { return }
            let share = Double(read) / Double(total)
            let elapsed = Double((now - started).components.seconds) + 1e-9
            let rate = Int(Double(read) / max(elapsed, 0.001))
            let line: String
            if terminal {
                let filled = Int(share * 30)
                line = "\r[" + String(repeating: "#", count: filled) + String(repeating: ".", count: 30 - filled)
                    + "] \(read)/\(total) messages (\(rate)/s)"
            } else {
                line = "audit replay: \(read)/\(total) messages read (\(Int(share * 100))%, \(rate)/s)\n"
            }
            FileHandle.standardError.write(Data(line.utf8))
        }
    }
}
