import Authority
import Foundation
import Kafka
import Messages
import Operations
import Postgres
import Services
import Store

/// One thing the audit replay found about one decision or message.
public struct AuditFinding: Codable, Sendable, Hashable {
    public enum Kind: String, Codable, Sendable, Hashable, CaseIterable {
        /// The stored decision differs from its re-derivation (`field`: outcome, rule, delegation).
        case differs
        /// A dossier step on the topic has no decision.
        case missingDecision = "missing-decision"
        /// A decision cites a source message that is not there (or is another dossier's).
        case decisionWithoutMessage = "decision-without-message"
        /// The decision (or its signature) was made while its delegation was not valid.
        case delegationNotValid = "delegation-not-valid"
        /// More than one decision cites the same source message.
        case duplicate
        /// `--what-if`: the other rules would decide differently.
        case wouldChange = "would-change"
        /// An official signed an outcome other than the one the rules prepared (reported, not a difference).
        case signatureOverride = "signature-override"
        /// The step was decided late or is open past its due date (reported, not a difference).
        case deadlineMissed = "deadline-missed"
        /// A decided step task matches neither reception's receipt (step 0: the dossier it received and routed to
        /// that department, same digest) nor a forward to that department at the step before.
        case notReceived = "not-received"
        /// A stored signature with no command on the topic whose signature verifies for it.
        case forged
        /// A stored signature whose verified command's signer lacked the authority at the signing instant.
        case unauthorised
        /// A stored signature that differs from the verified command for its step (signer, outcome or round).
        case signatureMismatch = "signature-mismatch"
        /// A signature recorded before the registry of officials was in force: nothing to verify it against
        /// (reported, not a difference).
        case unsignedBeforeRegistry = "unsigned-before-registry"
        /// A received dossier's due date differs from the one its recorded catalogue version gives (or that version
        /// is not stored): `stored` is reception's due date, `rederived` the version's.
        case dueDateDiffers = "due-date-differs"

        /// Whether this kind makes the replay exit 1. Signature overrides, missed deadlines and signatures from
        /// before the registry are facts of a lawful run, reported for the auditor, not differences.
        public var isDifference: Bool {
            self != .signatureOverride && self != .deadlineMissed && self != .unsignedBeforeRegistry
        }
    }

    public var kind: Kind
    public var dossierId: String
    /// The dossier's code (`AGENCY-yymmdd-NNNNNN`), when reception recorded one.
    public var code: String?
    public var step: Int?
    public var round: Int?
    public var department: DepartmentID?
    public var topic: String?
    public var partition: Int?
    public var offset: Int64?
    /// What differs: `outcome`, `rule`, `delegation`, … (nil when the whole decision or message is concerned).
    public var field: String?
    public var stored: String?
    public var rederived: String?
    public var detail: String?

    public init(
        kind: Kind, dossierId: String, step: Int? = nil, round: Int? = nil, department: DepartmentID? = nil,
        topic: String? = nil, partition: Int? = nil, offset: Int64? = nil, field: String? = nil, stored: String? = nil,
        rederived: String? = nil, detail: String? = nil
    ) {
        self.kind = kind
        self.dossierId = dossierId
        self.step = step
        self.round = round
        self.department = department
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.field = field
        self.stored = stored
        self.rederived = rederived
        self.detail = detail
    }
}

/// The result of an audit replay: what was read, what was compared, and every finding.
public struct AuditReport: Codable, Sendable {
    public struct PartitionRange: Codable, Sendable, Hashable {
        public var topic: String
        public var partition: Int
        /// First offset read.
        public var start: Int64
        /// One past the last offset read.
        public var end: Int64
    }

    public var ranges: [PartitionRange] = []
    public var from: Date?
    public var to: Date?
    public var whatIf: String?
    /// Messages read from the topics.
    public var messages = 0
    /// Dossier steps (step messages in scope).
    public var steps = 0
    /// Stored decisions in scope.
    public var decisions = 0
    /// Decisions re-evaluated and compared.
    public var compared = 0
    /// Received dossiers whose due date was re-derived with the catalogue version they recorded.
    public var dueDatesRederived = 0
    /// Messages that are not valid MotCua messages (they went to the dead-letter topic).
    public var invalidMessages = 0
    /// Decisions that could not be re-derived (their inputs are outside the range), with why.
    public var notRederived = 0
    /// Stored signatures checked against the signed commands and the registry (nil: not checked, the replay read
    /// part of the topics).
    public var signaturesChecked: Int?
    public var findings: [AuditFinding] = []
    public var seconds: Double = 0
    /// Seconds spent per phase: read (Kafka + decoding), load (decisions from PostgreSQL), scope, compare, deadlines.
    public var phases: [String: Double] = [:]

    public init() {}

    /// Findings that make the replay exit 1.
    public var differences: Int { findings.filter(\.kind.isDifference).count }
    public var rate: Double { seconds > 0 ? Double(compared) / seconds : 0 }

    public func count(_ kind: AuditFinding.Kind) -> Int { findings.filter { $0.kind == kind }.count }

    /// Per department (findings without one under `—`): how many findings of each kind, departments sorted.
    public var byDepartment: [(department: String, counts: [AuditFinding.Kind: Int])] {
        var out: [String: [AuditFinding.Kind: Int]] = [:]
        for finding in findings { out[finding.department?.rawValue ?? "—", default: [:]][finding.kind, default: 0] += 1 }
        return out.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// The kinds a report lists (what-if findings only when asked).
    var listedKinds: [AuditFinding.Kind] { AuditFinding.Kind.allCases.filter { $0 != .wouldChange || whatIf != nil } }

    /// How a finding names its dossier: the code when known, else the id.
    static func dossierName(_ finding: AuditFinding) -> String { finding.code ?? finding.dossierId }

    // MARK: - Output

    /// Machine-readable: stable field names, sorted keys, ISO-8601 instants.
    public func json() throws -> String {
        struct Document: Encodable {
            var differences: Int
            var summary: [String: Int]
            var ranges: [PartitionRange]
            var from: Date?
            var to: Date?
            var whatIf: String?
            var messages, steps, decisions, compared, invalidMessages, notRederived: Int
            var signaturesChecked: Int?
            var dueDatesRederived: Int
            var seconds: Double
            var ratePerSecond: Int
            var findings: [AuditFinding]
        }
        var summary: [String: Int] = [:]
        for kind in AuditFinding.Kind.allCases { summary[kind.rawValue] = count(kind) }
        let document = Document(
            differences: differences, summary: summary, ranges: ranges, from: from, to: to, whatIf: whatIf,
            messages: messages, steps: steps, decisions: decisions, compared: compared,
            invalidMessages: invalidMessages, notRederived: notRederived, signaturesChecked: signaturesChecked,
            dueDatesRederived: dueDatesRederived, seconds: (seconds * 1000).rounded() / 1000,
            ratePerSecond: Int(rate), findings: findings)
        let encoder = MessageCoding.encoder()
        encoder.outputFormatting.insert(.prettyPrinted)
        return String(decoding: try encoder.encode(document), as: UTF8.self) + "\n"
    }

    /// A terminal summary and a table of the findings (at most `limit` rows).
    public func table(limit: Int = 50) -> String {
        var out = "audit replay: \(messages) messages, \(steps) dossier steps, \(decisions) decisions, "
            + "\(compared) re-derived and compared in \(String(format: "%.2f", seconds)) s "
            + "(\(Int(rate)) decisions/s)\n"
        if invalidMessages > 0 { out += "  \(invalidMessages) messages were not valid MotCua messages (dead-lettered)\n" }
        if notRederived > 0 { out += "  \(notRederived) decisions could not be re-derived (inputs outside the range)\n" }
        if dueDatesRederived > 0 {
            out += "  \(dueDatesRederived) due dates re-derived with the catalogue version each dossier recorded\n"
        }
        if let signaturesChecked {
            out += "  \(signaturesChecked) stored signatures checked against the signed commands and the registry\n"
        } else {
            out += "  signatures not checked: only a replay of whole topics (no --offsets, --from, --to) can\n"
        }
        out += "\n" + Self.pad(["finding", "count"], [24, 6])
        for kind in AuditFinding.Kind.allCases where kind != .wouldChange || whatIf != nil {
            out += Self.pad([kind.rawValue, String(count(kind))], [24, 6])
        }
        out += "\n\(differences == 0 ? "no differences" : "\(differences) difference(s)")"
            + (whatIf.map { " (what-if: \($0))" } ?? "") + "\n"
        guard !findings.isEmpty else { return out }
        out += "\nby department\n"
        for (department, counts) in byDepartment {
            let listed = listedKinds.compactMap { kind in counts[kind].map { "\(kind.rawValue) \($0)" } }
            out += "  " + TerminalText.escape(department) + ": " + listed.joined(separator: ", ") + "\n"
        }
        let widths = [22, 38, 9, 22, 10, 16, 16]
        out += "\n" + Self.pad(["finding", "dossier", "step", "partition/offset", "field", "stored", "re-derived"], widths)
        for finding in findings.prefix(limit) {
            let place = finding.partition.map { "\(finding.topic ?? "")[\($0)]@\(finding.offset ?? -1)" } ?? ""
            out += Self.pad(
                [finding.kind.rawValue, TerminalText.escape(Self.dossierName(finding)), finding.step.map { "\($0)/\(finding.round ?? 0)" } ?? "",
                 place, finding.field ?? "", finding.stored ?? "", finding.rederived ?? (finding.detail ?? "")],
                widths)
        }
        if findings.count > limit { out += "… and \(findings.count - limit) more (use --format json or html)\n" }
        return out
    }

    private static func pad(_ cells: [String], _ widths: [Int]) -> String {
        zip(cells, widths).map { cell, width in
            cell.count >= width ? cell + " " : cell + String(repeating: " ", count: width - cell.count)
        }.joined() + "\n"
    }

    /// A self-contained HTML report an auditor can open and send.
    public func html(generatedAt: Date) -> String {
        let title = differences == 0 ? "No differences" : "\(differences) difference(s)"
        var rows = ""
        for finding in findings {
            let place = finding.partition.map { "\(finding.topic ?? "")[\($0)] @ \(finding.offset ?? -1)" } ?? ""
            let cssClass = finding.kind.isDifference ? "difference" : "note"
            rows += "<tr class=\"\(cssClass)\"><td>\(HTML.escape(finding.kind.rawValue))</td>"
                + "<td><code class=\"dossier\">\(HTML.escape(Self.dossierName(finding)))</code>"
                + (finding.code == nil ? "" : "<br><small title=\"dossier id\">\(HTML.escape(finding.dossierId))</small>")
                + "</td>"
                + "<td>\(finding.step.map { "\($0)/\(finding.round ?? 0)" } ?? "")</td>"
                + "<td>\(HTML.escape(place))</td><td>\(HTML.escape(finding.field ?? ""))</td>"
                + "<td>\(HTML.escape(finding.stored ?? ""))</td><td>\(HTML.escape(finding.rederived ?? ""))</td>"
                + "<td>\(HTML.escape(finding.detail ?? ""))</td></tr>\n"
        }
        var summary = ""
        for kind in listedKinds {
            summary += "<tr><td>\(kind.rawValue)</td><td class=\"n\" id=\"count-\(kind.rawValue)\">\(count(kind))</td></tr>"
        }
        // Per department: a column per kind that has findings.
        let kinds = listedKinds.filter { count($0) > 0 }
        var departments = "<table id=\"by-department\"><tr><th>department</th>"
            + kinds.map { "<th>\(HTML.escape($0.rawValue))</th>" }.joined() + "</tr>"
        for (department, counts) in byDepartment {
            departments += "<tr><td>\(HTML.escape(department))</td>"
                + kinds.map { "<td class=\"n\">\(counts[$0] ?? 0)</td>" }.joined() + "</tr>"
        }
        departments += "</table>"
        let ranges = self.ranges.map { "<li>\(HTML.escape($0.topic))[\($0.partition)] \($0.start)–\($0.end)</li>" }.joined()
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>MotCua audit replay: \(HTML.escape(title))</title>
            <style>
            body{font-family:system-ui,sans-serif;margin:1rem;color:#222}
            h1{font-size:1.4rem} h2{font-size:1.1rem;margin-top:1rem} table{border-collapse:collapse;margin:.5rem 0}
            td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;font-size:.9rem;vertical-align:top}
            td.n{text-align:right} tr.difference td{background:#fde8e8} tr.note td{background:#fff8e1}
            .ok{color:#1b5e20} .bad{color:#b71c1c} code{font-size:.85rem}
            </style></head><body>
            <h1 class="\(differences == 0 ? "ok" : "bad")" id="verdict">\(HTML.escape(title))</h1>
            <h2>Per finding</h2>
            <table id="summary"><tr><th>finding</th><th>count</th></tr>\(summary)</table>
            \(findings.isEmpty ? "" : "<h2>Per department</h2>\n" + departments)
            <p>Generated \(HTML.escape(ISO8601Instant.format(generatedAt)))\(whatIf.map { " — what-if rules: " + HTML.escape($0) } ?? "").
            Read <span id="messages">\(messages)</span> messages,
            <span id="steps">\(steps)</span> dossier steps, <span id="decisions">\(decisions)</span> decisions;
            re-derived and compared <span id="compared">\(compared)</span> in \(String(format: "%.2f", seconds)) s.</p>
            <details id="partitions"><summary>\(self.ranges.count) partition range(s) read</summary><ul>\(ranges)</ul></details>
            <h2>Findings</h2>
            <table id="findings"><tr><th>finding</th><th>dossier</th><th>step/round</th><th>topic[partition] @ offset</th>
            <th>field</th><th>stored</th><th>re-derived</th><th>detail</th></tr>
            \(rows)</table>
            </body></html>

            """
    }
}
