import Authority
import Foundation
import Kafka
import Logging
import Postgres

/// `motcua audit replay`: reads department topics over a range with its own consumer (no group, no commits),
/// re-evaluates every decision with the rule version and delegation snapshot it recorded, and reports every
/// decision that does not re-derive from its inputs. Read-only towards Kafka and PostgreSQL.
public struct AuditReplay: Sendable {
    public struct Settings: Sendable {
        /// Departments whose topics to replay.
        public var departments: [String] = Topics.departments
        /// Offsets per partition (`[start, end)`); only with one department. Empty: the whole topic.
        public var offsets: [Int32: (start: Int64, end: Int64)] = [:]
        /// Business time: step messages received in `[from, to)`, decisions made in it.
        public var from: Date?
        public var to: Date?
        /// `--what-if`: the other bundle to evaluate with, and its name for the report.
        public var whatIf: (name: String, ruleSets: [String: RuleSet], delegations: DelegationRegistry?)?
        public var batchSize = 2_000
        /// With `from`: seek the start by the messages' Kafka timestamps (offsets-for-times). Safe only when the
        /// services ran on the system clock (a step is produced after its receipt, so its timestamp is later);
        /// under a simulated `MOTCUA_CLOCK` the replay scans instead.
        public var seekByTimestamp = true
        public init() {}
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    /// Called now and then with messages read so far and the total to read.
    public typealias Progress = @Sendable (_ read: Int, _ total: Int) -> Void

    let settings: Settings
    let bundle: AuthorityBundle
    let kafka: KafkaClientOptions
    let postgres: PostgresConfiguration
    let logger: Logger

    public init(
        settings: Settings, bundle: AuthorityBundle, kafka: KafkaClientOptions, postgres: PostgresConfiguration,
        logger: Logger
    ) {
        self.settings = settings
        self.bundle = bundle
        self.kafka = kafka
        self.postgres = postgres
        self.logger = logger
    }

    // MARK: - What was read

    /// A step message, or a supplement that produced a later round.
    enum Input {
        case step(StepTask)
        case supplement(ApplicantSupplement)
    }

    struct Source: Hashable {
        var topic: String
        var partition: Int32
        var offset: Int64
    }

    struct StoredDecision {
        var dossierId: String
        var step: Int
        var round: Int
        var department: String
        var outcome: String
        var ruleId: String?
        var ruleVersion: String
        var delegationId: String?
        var delegationVersion: String?
        var decidedAt: Date
        var source: Source
        var signedOutcome: String?
        var signedAt: Date?

        var identity: String { "\(dossierId)/\(step)/\(round)" }
    }

    // MARK: - Run

    public func run(progress: Progress? = nil) throws -> AuditReport {
        let started = ContinuousClock.now
        var report = AuditReport()
        report.from = settings.from
        report.to = settings.to
        report.whatIf = settings.whatIf?.name
        let connection = try PostgresConnection.connect(postgres, logger: logger)
        try connection.execute("SET default_transaction_read_only = on")
        let ranges = try partitionRanges()
        report.ranges = ranges.map {
            AuditReport.PartitionRange(topic: $0.key.topic, partition: Int($0.key.partition), start: $0.value.start,
                                       end: $0.value.end)
        }.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
        let (inputs, outsideWindow) = try read(ranges, report: &report, progress: progress)
        let decisions = try loadDecisions(connection)
        let withdrawn = Set(try connection.query("SELECT dossier_id FROM withdrawals").map {
            try $0.decode(String.self, "dossier_id")
        })
        let history = try DelegationHistory(bundle: bundle, connection: connection)

        // Scope. Whole topics: every decision citing them. Offsets: decisions whose source lies in the range.
        // Business time: decisions of the steps received in the window (and the later rounds of those dossiers),
        // and decisions made in the window whose source holds no MotCua message.
        func inRange(_ source: Source) -> Bool {
            guard let range = ranges[TopicPartition(source.topic, source.partition)] else { return false }
            return source.offset >= range.start && source.offset < range.end
        }
        let window = settings.from != nil || settings.to != nil
        let wholeTopics = settings.offsets.isEmpty && !window
        var inWindow = Set<String>()
        for case .step(let task) in inputs.values { inWindow.insert(task.dossier.id) }
        func inScope(_ decision: StoredDecision) -> Bool {
            guard ranges.keys.contains(where: { $0.topic == decision.source.topic }) else { return false }
            if wholeTopics { return true }
            guard inRange(decision.source) else { return false }
            guard window else { return true }
            if outsideWindow.contains(decision.source) { return false }
            switch inputs[decision.source] {
            case .step?: return true
            case .supplement?: return inWindow.contains(decision.dossierId)
            case nil:
                return (settings.from.map { decision.decidedAt >= $0 } ?? true)
                    && (settings.to.map { decision.decidedAt < $0 } ?? true)
            }
        }
        var scoped: [StoredDecision] = []
        var bySource: [Source: [StoredDecision]] = [:]
        var byIdentity: [String: StoredDecision] = [:]
        for decision in decisions {
            byIdentity[decision.identity] = decision
            guard inScope(decision) else { continue }
            scoped.append(decision)
            bySource[decision.source, default: []].append(decision)
        }
        report.decisions = scoped.count

        // Every step on the topic has its decision (unless withdrawn first, or a republished copy of a decided one).
        for (source, input) in inputs.sorted(by: { ($0.key.topic, $0.key.partition, $0.key.offset) < ($1.key.topic, $1.key.partition, $1.key.offset) }) {
            guard case .step(let task) = input else { continue }
            report.steps += 1
            let identity = "\(task.dossier.id)/\(task.step)/\(task.round)"
            if byIdentity[identity] == nil, !withdrawn.contains(task.dossier.id) {
                report.findings.append(AuditFinding(
                    kind: .missingDecision, dossierId: task.dossier.id, step: task.step, round: task.round,
                    department: task.department, topic: source.topic, partition: Int(source.partition),
                    offset: source.offset, detail: "no decision row for this dossier step"))
            }
        }

        // Duplicates: several decisions citing one source message.
        for (source, rows) in bySource where rows.count > 1 {
            for row in rows.dropFirst() {
                report.findings.append(AuditFinding(
                    kind: .duplicate, dossierId: row.dossierId, step: row.step, round: row.round,
                    department: row.department, topic: source.topic, partition: Int(source.partition),
                    offset: source.offset,
                    detail: "\(rows.count) decisions cite this message: \(rows.map(\.identity).joined(separator: ", "))"))
            }
        }

        // Re-derive and compare.
        var dossiers = DossierHistory(inputs: inputs)
        for decision in scoped.sorted(by: { ($0.source.topic, $0.source.partition, $0.source.offset) < ($1.source.topic, $1.source.partition, $1.source.offset) }) {
            try compare(decision, inputs: inputs, dossiers: &dossiers, history: history, report: &report)
        }
        report.findings.append(contentsOf: try missedDeadlines(Set(scoped.map(\.dossierId)), connection))
        report.seconds = Double((ContinuousClock.now - started).components.attoseconds) / 1e18
            + Double((ContinuousClock.now - started).components.seconds)
        return report
    }

    private func compare(
        _ decision: StoredDecision, inputs: [Source: Input], dossiers: inout DossierHistory,
        history: DelegationHistory, report: inout AuditReport
    ) throws {
        func finding(_ kind: AuditFinding.Kind, field: String? = nil, stored: String? = nil, rederived: String? = nil,
                     detail: String? = nil) -> AuditFinding {
            AuditFinding(
                kind: kind, dossierId: decision.dossierId, step: decision.step, round: decision.round,
                department: decision.department, topic: decision.source.topic,
                partition: Int(decision.source.partition), offset: decision.source.offset, field: field,
                stored: stored, rederived: rederived, detail: detail)
        }
        guard let input = inputs[decision.source] else {
            let range = report.ranges.first {
                $0.topic == decision.source.topic && $0.partition == Int(decision.source.partition)
            }
            let gone = range.map { decision.source.offset < $0.start } ?? false
            report.findings.append(finding(
                .decisionWithoutMessage,
                detail: gone
                    ? "its message is no longer on the topic (before the low watermark: retention)"
                    : "no MotCua message at its source offset"))
            return
        }
        let dossier: Dossier
        switch input {
        case .step(let task):
            guard task.dossier.id == decision.dossierId, task.step == decision.step, task.round == decision.round else {
                report.findings.append(finding(
                    .decisionWithoutMessage,
                    detail: "the message at its source offset is dossier step \(task.dossier.id)/\(task.step)/\(task.round)"))
                return
            }
            dossier = task.dossier
        case .supplement(let supplement):
            guard supplement.dossierId == decision.dossierId, supplement.step == decision.step else {
                report.findings.append(finding(
                    .decisionWithoutMessage, detail: "the supplement at its source offset is another dossier's"))
                return
            }
            guard let supplemented = dossiers.dossier(at: decision.source) else {
                report.notRederived += 1
                return
            }
            dossier = supplemented
        }

        // Re-derive with exactly what the decision recorded: its rule version and its delegation snapshot.
        guard let ruleSet = try history.ruleSet(decision.ruleVersion) else {
            report.findings.append(finding(
                .differs, field: "rule_version", stored: decision.ruleVersion,
                detail: "the rule version is not in rule_versions"))
            return
        }
        let registry: DelegationRegistry
        do {
            registry = try history.registry(at: decision.decidedAt, snapshot: decision.delegationVersion)
        } catch let failure as Failure {
            report.findings.append(finding(.differs, field: "delegation_version", stored: decision.delegationVersion,
                                           detail: failure.description))
            return
        }
        let checks = DepartmentChecks.builtIn(for: decision.department)
        let rederived = Decider.decide(
            dossier, department: decision.department, bundle: bundle.replacingDelegations(registry), ruleSet: ruleSet,
            checks: checks, at: decision.decidedAt)
        report.compared += 1
        let pairs: [(String, String?, String?)] = [
            ("outcome", decision.outcome, rederived.outcome.rawValue),
            ("rule", decision.ruleId, rederived.evaluation.ruleId),
            ("delegation", decision.delegationId, rederived.evaluation.delegationId),
        ]
        for (field, stored, again) in pairs where stored != again {
            report.findings.append(finding(.differs, field: field, stored: stored ?? "—", rederived: again ?? "—"))
        }

        // Was the delegation valid when the decision was made, and when it was signed (what is known now)?
        if let id = decision.delegationId, decision.outcome != "escalate" {
            let current = history.latest[id: id]
            for (what, instant) in [("decided", decision.decidedAt), ("signed", decision.signedAt)] {
                guard let instant else { continue }
                if let current, let problem = current.status(at: instant) {
                    report.findings.append(finding(
                        .delegationNotValid, field: "delegation", stored: id, rederived: problem.rawValue,
                        detail: "\(what) at \(ISO8601Instant.format(instant)) while delegation \(id) was \(problem.rawValue)"))
                    break
                }
            }
        }
        if let signed = decision.signedOutcome, signed != decision.outcome {
            report.findings.append(finding(
                .signatureOverride, field: "outcome", stored: decision.outcome, rederived: signed,
                detail: "an official signed '\(signed)' where the rules prepared '\(decision.outcome)'"))
        }
        if let whatIf = settings.whatIf {
            guard let otherRules = whatIf.ruleSets[decision.department] else { return }
            let other = Decider.decide(
                dossier, department: decision.department,
                bundle: bundle.replacingDelegations(whatIf.delegations ?? registry), ruleSet: otherRules,
                checks: checks, at: decision.decidedAt)
            if other.outcome != rederived.outcome || other.evaluation.ruleId != rederived.evaluation.ruleId {
                report.findings.append(finding(
                    .wouldChange, field: other.outcome != rederived.outcome ? "outcome" : "rule",
                    stored: "\(rederived.outcome.rawValue) (\(rederived.evaluation.ruleId ?? "—"))",
                    rederived: "\(other.outcome.rawValue) (\(other.evaluation.ruleId ?? "—"))"))
            }
        }
    }

    // MARK: - Kafka

    /// `[start, end)` per partition of every replayed topic.
    func partitionRanges() throws -> [TopicPartition: (start: Int64, end: Int64)] {
        let admin = try KafkaAdmin(options: kafka, logger: logger)
        var ranges: [TopicPartition: (start: Int64, end: Int64)] = [:]
        for department in settings.departments {
            let topic = Topics.department(department)
            guard let metadata = try admin.metadata(topic: topic).first, !metadata.partitions.isEmpty else {
                throw Failure("topic \(topic) does not exist on the broker: check KAFKA_BOOTSTRAP and --department")
            }
            for partition in metadata.partitions {
                let id = TopicPartition(topic, partition.id)
                let (low, high) = try admin.watermarks(id)
                if !settings.offsets.isEmpty {
                    guard let asked = settings.offsets[partition.id] else { continue }
                    ranges[id] = (max(asked.start, low), min(asked.end, high))
                } else {
                    ranges[id] = (low, high)
                }
            }
            for partition in settings.offsets.keys where !metadata.partitions.contains(where: { $0.id == partition }) {
                throw Failure("--offsets names partition \(partition), but \(topic) has partitions 0–\(metadata.partitions.count - 1)")
            }
        }
        // Business time: seek the start where the broker can find it by timestamp; otherwise scan from the start.
        if let from = settings.from, settings.offsets.isEmpty, settings.seekByTimestamp {
            let times = Dictionary(uniqueKeysWithValues: ranges.keys.map { ($0, Int64(from.timeIntervalSince1970 * 1000)) })
            if let found = try? admin.offsetsForTimes(times) {
                for (partition, offset) in found where offset >= 0 {
                    if let range = ranges[partition] { ranges[partition] = (max(range.start, offset), range.end) }
                }
            }
        }
        return ranges.filter { $0.value.end > $0.value.start }
    }

    /// Reads every range to its end with an assigned (never subscribed, never committing) consumer.
    func read(
        _ ranges: [TopicPartition: (start: Int64, end: Int64)], report: inout AuditReport, progress: Progress?
    ) throws -> (inputs: [Source: Input], outsideWindow: Set<Source>) {
        guard !ranges.isEmpty else { return ([:], []) }
        var configuration = KafkaConsumerConfiguration(client: kafka, groupID: nil)
        configuration.autoCommit = false
        let consumer = try KafkaConsumer(configuration: configuration, logger: logger)
        defer { consumer.close() }
        try consumer.assign(ranges.mapValues { KafkaOffset($0.start) })
        let total = ranges.values.reduce(0) { $0 + Int($1.end - $1.start) }
        var remaining = Set(ranges.keys)
        var inputs: [Source: Input] = [:]
        var outsideWindow = Set<Source>()
        inputs.reserveCapacity(total)
        let decoder = MessageCoding.decoder()
        var read = 0
        var idle = ContinuousClock.now
        while !remaining.isEmpty {
            let batch = try consumer.pollBatch(maxMessages: settings.batchSize, timeout: .milliseconds(200))
            if batch.isEmpty {
                guard ContinuousClock.now - idle < .seconds(30) else {
                    throw Failure("no messages for 30 s while \(remaining.sorted { $0.description < $1.description }.map(\.description).joined(separator: ", ")) had more to read: is the broker up?")
                }
                continue
            }
            idle = ContinuousClock.now
            for message in batch {
                let partition = message.topicPartition
                guard let range = ranges[partition], message.offset < range.end else {
                    remaining.remove(partition)
                    continue
                }
                if message.offset + 1 >= range.end { remaining.remove(partition) }
                read += 1
                let source = Source(topic: message.topic, partition: message.partition, offset: message.offset)
                let type = message.header("ce_type") ?? MessageType.step
                do {
                    switch type {
                    case MessageType.step:
                        let task = try MessageCoding.decodeStepTask(message.value, decoder: decoder)
                        if let from = settings.from, task.receivedAt < from {
                            outsideWindow.insert(source)
                            continue
                        }
                        if let to = settings.to, task.receivedAt >= to {
                            outsideWindow.insert(source)
                            continue
                        }
                        inputs[source] = .step(task)
                    case MessageType.supplement:
                        inputs[source] = .supplement(try decoder.decode(ApplicantSupplement.self, from: Data(message.value)))
                    default:
                        continue
                    }
                } catch {
                    report.invalidMessages += 1
                }
            }
            progress?(read, total)
        }
        report.messages = read
        return (inputs, outsideWindow)
    }

    // MARK: - PostgreSQL

    func loadDecisions(_ connection: PostgresConnection) throws -> [StoredDecision] {
        let topics = settings.departments.map(Topics.department)
        return try connection.query(
            """
            SELECT dossier_id, step, round, department, outcome, rule_id, rule_version, delegation_id,
                   delegation_version, decided_at, source_topic, source_partition, source_offset, signed_outcome, signed_at
            FROM decisions WHERE source_topic = ANY($1::text[])
            """, [topics]
        ).map { row in
            StoredDecision(
                dossierId: try row.decode(String.self, "dossier_id"), step: try row.decode(Int.self, "step"),
                round: try row.decode(Int.self, "round"), department: try row.decode(String.self, "department"),
                outcome: try row.decode(String.self, "outcome"), ruleId: try row.decodeIfPresent(String.self, "rule_id"),
                ruleVersion: try row.decode(String.self, "rule_version"),
                delegationId: try row.decodeIfPresent(String.self, "delegation_id"),
                delegationVersion: try row.decodeIfPresent(String.self, "delegation_version"),
                decidedAt: try row.decode(Date.self, "decided_at"),
                source: Source(
                    topic: try row.decode(String.self, "source_topic"),
                    partition: Int32(try row.decode(Int.self, "source_partition")),
                    offset: try row.decode(Int64.self, "source_offset")),
                signedOutcome: try row.decodeIfPresent(String.self, "signed_outcome"),
                signedAt: try row.decodeIfPresent(Date.self, "signed_at"))
        }
    }

    /// Steps of the dossiers in scope decided late or still open past their due date (from the coordinator).
    func missedDeadlines(_ dossiers: Set<String>, _ connection: PostgresConnection) throws -> [AuditFinding] {
        guard !dossiers.isEmpty else { return [] }
        return try connection.query(
            """
            SELECT dossier_id, step, department, due_date::text AS due, closed_at, status FROM deadlines
            WHERE kind = 'step' AND dossier_id = ANY($1::text[])
              AND ((status = 'closed' AND closed_on_time = false) OR (status <> 'closed' AND fired & 2 <> 0))
            ORDER BY dossier_id, step
            """, [Array(dossiers)]
        ).map { row in
            let closed = try row.decodeIfPresent(Date.self, "closed_at")
            return AuditFinding(
                kind: .deadlineMissed, dossierId: try row.decode(String.self, "dossier_id"),
                step: try row.decode(Int.self, "step"), department: try row.decodeIfPresent(String.self, "department"),
                field: "due_date", stored: try row.decode(String.self, "due"),
                rederived: closed.map { DeadlinePolicy.localDay($0).description } ?? "open",
                detail: closed == nil ? "still open past its due date" : "closed after its due date")
        }
    }
}

/// The dossier as each supplement left it: the step message's dossier with the supplements up to that one merged,
/// as the worker merged them.
struct DossierHistory {
    private var steps: [String: (offset: AuditReplay.Source, dossier: Dossier)] = [:]
    private var supplements: [String: [(AuditReplay.Source, ApplicantSupplement)]] = [:]

    init(inputs: [AuditReplay.Source: AuditReplay.Input]) {
        for (source, input) in inputs {
            switch input {
            case .step(let task) where task.round == 0:
                steps["\(task.dossier.id)/\(task.step)"] = (source, task.dossier)
            case .supplement(let supplement):
                supplements["\(supplement.dossierId)/\(supplement.step)", default: []].append((source, supplement))
            default:
                break
            }
        }
    }

    /// The dossier evaluated by the decision whose source is the supplement at `source`; nil when its step message
    /// is not in the range read.
    func dossier(at source: AuditReplay.Source) -> Dossier? {
        guard let (key, list) = supplements.first(where: { $0.value.contains { $0.0 == source } }),
            var dossier = steps[key]?.dossier
        else { return nil }
        for (at, supplement) in list.sorted(by: { $0.0.offset < $1.0.offset }) where at.offset <= source.offset {
            for document in supplement.documents where !dossier.documents.contains(document) {
                dossier.documents.append(document)
            }
            if let facts = supplement.facts { dossier.facts.merge(facts) { _, new in new } }
        }
        return dossier
    }
}

/// Rule versions and delegation records as PostgreSQL recorded them, and the delegation registry as of an instant.
final class DelegationHistory {
    let bundle: AuthorityBundle
    let changes: [DelegationChanges.Change]
    /// Files with every recorded change: what is known now.
    let latest: DelegationRegistry
    private let ruleTexts: [String: String]
    private let snapshots: [String: String]
    private var ruleSets: [String: RuleSet] = [:]
    private var registries: [String: DelegationRegistry] = [:]

    init(bundle: AuthorityBundle, connection: PostgresConnection) throws {
        self.bundle = bundle
        changes = try DelegationChanges.load(from: connection)
        latest = DelegationRegistry(records: try DelegationChanges.overlay(bundle.delegations.records, changes))
        ruleTexts = Dictionary(uniqueKeysWithValues: try connection.query(
            "SELECT version, canonical_text FROM rule_versions"
        ).map { (try $0.decode(String.self, "version"), try $0.decode(String.self, "canonical_text")) })
        snapshots = Dictionary(uniqueKeysWithValues: try connection.query(
            "SELECT version, canonical_json FROM delegation_versions"
        ).map { (try $0.decode(String.self, "version"), try $0.decode(String.self, "canonical_json")) })
    }

    /// The rule set of a recorded version, compiled once.
    func ruleSet(_ version: String) throws -> RuleSet? {
        if let known = ruleSets[version] { return known }
        guard let text = ruleTexts[version] else { return nil }
        let compiled = try RuleSet(canonicalText: text)
        ruleSets[version] = compiled
        return compiled
    }

    /// The registry a worker knew at `instant` (files + changes effective by then), with the decision's recorded
    /// delegation snapshot in place of the record of the same id.
    func registry(at instant: Date, snapshot version: String?) throws -> DelegationRegistry {
        let applied = changes.filter { $0.effectiveAt <= instant }
        let key = applied.map { String($0.seq) }.joined(separator: ",") + "|" + (version ?? "")
        if let known = registries[key] { return known }
        var records = try DelegationChanges.overlay(bundle.delegations.records, applied)
        if let version {
            guard let json = snapshots[version] else {
                throw AuditReplay.Failure("delegation version \(version) is not in delegation_versions")
            }
            let snapshot = try Delegation(snapshotJSON: json)
            if let index = records.firstIndex(where: { $0.id == snapshot.id }) {
                records[index] = snapshot
            } else {
                records.append(snapshot)
            }
        }
        let registry = DelegationRegistry(records: records)
        registries[key] = registry
        return registry
    }
}
