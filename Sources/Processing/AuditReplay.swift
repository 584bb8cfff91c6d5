import Authority
import Foundation
import Kafka
import Logging
import Postgres
import Synchronization

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
    enum Input: Sendable {
        case step(Step)
        case supplement(ApplicantSupplement)
    }

    /// A decoded step task behind one reference: the replay moves it through dictionaries and switches, and a
    /// `StepTask` copied by value retains every string, array and dictionary of its dossier each time.
    final class Step: Sendable {
        let task: StepTask
        init(_ task: StepTask) { self.task = task }
    }

    struct Source: Hashable {
        var topic: String
        var partition: Int32
        var offset: Int64

        /// Partition and offset only: a replay reads a handful of topics, and hashing their names for every message
        /// costs more than the rare collision between topics (which `==` still tells apart).
        func hash(into hasher: inout Hasher) {
            hasher.combine(partition)
            hasher.combine(offset)
        }
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

        var identity: Identity { Identity(dossierId: dossierId, step: step, round: round) }
    }

    /// A dossier step's round: what a decision is unique by.
    struct Identity: Hashable {
        var dossierId: String
        var step: Int
        var round: Int
        var text: String { "\(dossierId)/\(step)/\(round)" }
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
        var mark = ContinuousClock.now
        func phase(_ name: String) {
            let now = ContinuousClock.now
            report.phases[name, default: 0] += (now - mark).seconds
            mark = now
        }
        // PostgreSQL loads the decisions while this thread reads the topics.
        let loaded = Mutex<Result<[StoredDecision], any Error>?>(nil)
        let loading = DispatchSemaphore(value: 0)
        let load = { @Sendable in
            let result = Result { try self.loadDecisions(connection) }
            loaded.withLock { $0 = result }
            loading.signal()
        }
        Thread.detachNewThread(load)
        let (inputs, outsideWindow) = try read(ranges, report: &report, progress: progress)
        phase("read")
        loading.wait()
        let decisions = try loaded.withLock { $0! }.get()
        phase("load (beyond the read)")
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
        if window {
            for case .step(let step) in inputs.values { inWindow.insert(step.task.dossier.id) }
        }
        let topics = Set(ranges.keys.map(\.topic))
        func inScope(_ decision: StoredDecision) -> Bool {
            guard topics.contains(decision.source.topic) else { return false }
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
        scoped.reserveCapacity(decisions.count)
        var citing: [Source: Int] = [:]
        citing.reserveCapacity(decisions.count)
        var byIdentity: [Identity: StoredDecision] = [:]
        byIdentity.reserveCapacity(decisions.count)
        for decision in decisions {
            byIdentity[decision.identity] = decision
            guard inScope(decision) else { continue }
            scoped.append(decision)
            citing[decision.source, default: 0] += 1
        }
        report.decisions = scoped.count

        // Every step on the topic has its decision (unless withdrawn first, or a republished copy of a decided one).
        for (source, input) in inputs {
            guard case .step(let step) = input else { continue }
            let task = step.task
            report.steps += 1
            let identity = Identity(dossierId: task.dossier.id, step: task.step, round: task.round)
            if byIdentity[identity] == nil, !withdrawn.contains(task.dossier.id) {
                report.findings.append(AuditFinding(
                    kind: .missingDecision, dossierId: task.dossier.id, step: task.step, round: task.round,
                    department: task.department, topic: source.topic, partition: Int(source.partition),
                    offset: source.offset, detail: "no decision row for this dossier step"))
            }
        }

        // Duplicates: several decisions citing one source message.
        var bySource: [Source: [StoredDecision]] = [:]
        for decision in scoped where citing[decision.source, default: 0] > 1 {
            bySource[decision.source, default: []].append(decision)
        }
        for (source, rows) in bySource {
            for row in rows.dropFirst() {
                report.findings.append(AuditFinding(
                    kind: .duplicate, dossierId: row.dossierId, step: row.step, round: row.round,
                    department: row.department, topic: source.topic, partition: Int(source.partition),
                    offset: source.offset,
                    detail: "\(rows.count) decisions cite this message: \(rows.map(\.identity.text).joined(separator: ", "))"))
            }
        }

        // Re-derive and compare.
        phase("scope")
        var dossiers = DossierHistory(inputs: inputs)
        for decision in scoped {
            try compare(decision, inputs: inputs, dossiers: &dossiers, history: history, report: &report)
        }
        phase("compare")
        report.findings.append(contentsOf: try missedDeadlines(Set(scoped.map(\.dossierId)), connection))
        phase("deadlines")
        // In topic order, then by kind: the same report for the same inputs.
        report.findings.sort {
            ($0.topic ?? "", $0.partition ?? -1, $0.offset ?? -1, $0.kind.rawValue, $0.dossierId, $0.field ?? "")
                < ($1.topic ?? "", $1.partition ?? -1, $1.offset ?? -1, $1.kind.rawValue, $1.dossierId, $1.field ?? "")
        }
        report.seconds = (ContinuousClock.now - started).seconds
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
        case .step(let step):
            let task = step.task
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
        let decisionBundle: AuthorityBundle
        do {
            decisionBundle = try history.bundle(at: decision.decidedAt, snapshot: decision.delegationVersion)
        } catch let failure as Failure {
            report.findings.append(finding(.differs, field: "delegation_version", stored: decision.delegationVersion,
                                           detail: failure.description))
            return
        }
        let checks = history.checks(decision.department)
        let rederived = Decider.decide(
            dossier, department: decision.department, bundle: decisionBundle, ruleSet: ruleSet, checks: checks,
            at: decision.decidedAt)
        report.compared += 1
        if decision.outcome != rederived.outcome.rawValue {
            report.findings.append(finding(
                .differs, field: "outcome", stored: decision.outcome, rederived: rederived.outcome.rawValue))
        }
        if decision.ruleId != rederived.evaluation.ruleId {
            report.findings.append(finding(
                .differs, field: "rule", stored: decision.ruleId ?? "—", rederived: rederived.evaluation.ruleId ?? "—"))
        }
        if decision.delegationId != rederived.evaluation.delegationId {
            report.findings.append(finding(
                .differs, field: "delegation", stored: decision.delegationId ?? "—",
                rederived: rederived.evaluation.delegationId ?? "—"))
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
                bundle: whatIf.delegations.map { bundle.replacingDelegations($0) } ?? decisionBundle,
                ruleSet: otherRules,
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
        // This thread polls (librdkafka); chunks of messages are decoded meanwhile on the other cores.
        let from = settings.from
        let to = settings.to
        let decoding = DispatchQueue(label: "motcua.audit.decode", attributes: .concurrent)
        let decoded = DispatchGroup()
        let results = Mutex<[[Decoded]]>([])
        var chunk: [Pending] = []
        func dispatch() {
            guard !chunk.isEmpty else { return }
            let work = chunk
            chunk = []
            decoded.enter()
            decoding.async {
                let out = Self.decode(work, from: from, to: to)
                results.withLock { $0.append(out) }
                decoded.leave()
            }
        }
        var read = 0
        var idle = ContinuousClock.now
        while !remaining.isEmpty {
            let batch = try consumer.pollBatch(maxMessages: settings.batchSize, timeout: .milliseconds(200))
            if batch.isEmpty {
                guard ContinuousClock.now - idle < .seconds(30) else {
                    decoded.wait()
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
                switch message.header("ce_type") ?? MessageType.step {
                case MessageType.step: chunk.append(Pending(source: source, supplement: false, value: message.value))
                case MessageType.supplement: chunk.append(Pending(source: source, supplement: true, value: message.value))
                default: continue
                }
            }
            if chunk.count >= 2_000 { dispatch() }
            progress?(read, total)
        }
        dispatch()
        decoded.wait()
        report.messages = read
        var inputs: [Source: Input] = [:]
        inputs.reserveCapacity(read)
        var outsideWindow = Set<Source>()
        for decoded in results.withLock({ $0 }).joined() {
            switch decoded {
            case .input(let source, let input): inputs[source] = input
            case .outside(let source): outsideWindow.insert(source)
            case .invalid: report.invalidMessages += 1
            }
        }
        return (inputs, outsideWindow)
    }

    struct Pending: Sendable {
        var source: Source
        var supplement: Bool
        var value: [UInt8]
    }

    enum Decoded: Sendable {
        case input(Source, Input)
        case outside(Source)
        case invalid
    }

    /// Decodes read messages: step tasks through the hand-written reader, supplements through JSONDecoder; steps
    /// received outside the business-time window are only noted.
    static func decode(_ work: [Pending], from: Date?, to: Date?) -> [Decoded] {
        let decoder = MessageCoding.decoder()
        var out: [Decoded] = []
        out.reserveCapacity(work.count)
        for item in work {
            do {
                if item.supplement {
                    out.append(.input(item.source, .supplement(
                        try decoder.decode(ApplicantSupplement.self, from: Data(item.value)))))
                    continue
                }
                let task = try MessageCoding.decodeStepTask(item.value, decoder: decoder)
                if let from, task.receivedAt < from {
                    out.append(.outside(item.source))
                } else if let to, task.receivedAt >= to {
                    out.append(.outside(item.source))
                } else {
                    out.append(.input(item.source, .step(Step(task))))
                }
            } catch {
                out.append(.invalid)
            }
        }
        return out
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
        // The missed ones are few; filtering them here is far cheaper than sending every id in scope.
        return try connection.query(
            """
            SELECT dossier_id, step, department, due_date::text AS due, closed_at, status FROM deadlines
            WHERE kind = 'step'
              AND ((status = 'closed' AND closed_on_time = false) OR (status <> 'closed' AND fired & 2 <> 0))
            ORDER BY dossier_id, step
            """
        ).filter { dossiers.contains(try $0.decode(String.self, "dossier_id")) }.map { row in
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
            if case .supplement(let supplement) = input {
                supplements["\(supplement.dossierId)/\(supplement.step)", default: []].append((source, supplement))
            }
        }
        // Only the steps that were supplemented are needed (most dossiers never are).
        guard !supplements.isEmpty else { return }
        for (source, input) in inputs {
            guard case .step(let step) = input, step.task.round == 0 else { continue }
            let key = "\(step.task.dossier.id)/\(step.task.step)"
            if supplements[key] != nil { steps[key] = (source, step.task.dossier) }
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
    private let byEffectiveInstant: [DelegationChanges.Change]
    private var bundles: [BundleKey: AuthorityBundle] = [:]
    private var departmentChecks: [String: DepartmentChecks] = [:]
    /// Consecutive decisions mostly share their rule version and delegation snapshot.
    private var lastRuleSet: RuleSet?
    private var lastBundle: (key: BundleKey, bundle: AuthorityBundle)?

    init(bundle: AuthorityBundle, connection: PostgresConnection) throws {
        self.bundle = bundle
        changes = try DelegationChanges.load(from: connection)
        latest = DelegationRegistry(records: try DelegationChanges.overlay(bundle.delegations.records, changes))
        byEffectiveInstant = changes.sorted { ($0.effectiveAt, $0.seq) < ($1.effectiveAt, $1.seq) }
        ruleTexts = Dictionary(uniqueKeysWithValues: try connection.query(
            "SELECT version, canonical_text FROM rule_versions"
        ).map { (try $0.decode(String.self, "version"), try $0.decode(String.self, "canonical_text")) })
        snapshots = Dictionary(uniqueKeysWithValues: try connection.query(
            "SELECT version, canonical_json FROM delegation_versions"
        ).map { (try $0.decode(String.self, "version"), try $0.decode(String.self, "canonical_json")) })
    }

    /// The rule set of a recorded version, compiled once.
    func ruleSet(_ version: String) throws -> RuleSet? {
        if let last = lastRuleSet, last.version == version { return last }
        if let known = ruleSets[version] {
            lastRuleSet = known
            return known
        }
        guard let text = ruleTexts[version] else { return nil }
        let compiled = try RuleSet(canonicalText: text)
        ruleSets[version] = compiled
        return compiled
    }

    private struct BundleKey: Hashable {
        /// How many changes (in order of their effective instants) had taken effect.
        var changes: Int
        var snapshot: String?
    }

    /// The bundle a worker had at `instant` (files + changes effective by then), with the decision's recorded
    /// delegation snapshot in place of the record of the same id. Cached: a replay meets a handful of them.
    func bundle(at instant: Date, snapshot version: String?) throws -> AuthorityBundle {
        var effective = 0
        while effective < byEffectiveInstant.count, byEffectiveInstant[effective].effectiveAt <= instant { effective += 1 }
        let key = BundleKey(changes: effective, snapshot: version)
        if let last = lastBundle, last.key == key { return last.bundle }
        if let known = bundles[key] {
            lastBundle = (key, known)
            return known
        }
        let applied = byEffectiveInstant.prefix(effective).sorted { $0.seq < $1.seq }
        var records = try DelegationChanges.overlay(bundle.delegations.records, Array(applied))
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
        let made = bundle.replacingDelegations(DelegationRegistry(records: records))
        bundles[key] = made
        return made
    }

    /// A department's own checks, made once.
    func checks(_ department: String) -> DepartmentChecks {
        if let known = departmentChecks[department] { return known }
        let made = DepartmentChecks.builtIn(for: department)
        departmentChecks[department] = made
        return made
    }
}
