import Authority
import EffectivelyOnce
import Foundation
import Kafka
import Logging
import Messages
import Postgres
import Services
import Store
import Synchronization

/// `motcua audit replay`: reads department topics over a range with its own consumer (no group, no commits),
/// re-evaluates every decision with the rule version and delegation snapshot it recorded, and reports every
/// decision that does not re-derive from its inputs. Read-only towards Kafka and PostgreSQL.
public struct AuditReplay: Sendable {
    public struct Settings: Sendable {
        /// Departments whose topics to replay. Default: every department with rules in the bundle.
        public var departments: [DepartmentID] = []
        /// The topic names of the system replayed. Default: production names.
        public var topics = Topics()
        /// Offsets per partition (`[start, end)`); only with one department. Empty: the whole topic.
        public var offsets: [Int32: (start: Int64, end: Int64)] = [:]
        /// Business time: step messages received in `[from, to)`, decisions made in it.
        public var from: Date?
        public var to: Date?
        /// `--what-if`: the other bundle to evaluate with, and its name for the report.
        public var whatIf: (name: String, ruleSets: [DepartmentID: RuleSet], delegations: DelegationRegistry?)?
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
        var settings = settings
        if settings.departments.isEmpty { settings.departments = bundle.ruleSets.keys.sorted() }
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

    typealias Source = AuditStore.Source
    typealias StoredDecision = AuditStore.Decision

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
        try AuditStore.readOnly(connection)
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
        // PostgreSQL loads the decisions, and what re-deriving them needs, on a thread of its own while this thread
        // reads the topics. The messages are decoded on the other cores as they arrive and, once the decisions are
        // there, each step is compared with the decision citing it at once: nothing waits for the whole range, and
        // only the few messages needed again at the end (supplemented steps, messages cited twice) are kept.
        let loading = Loading<ReplayIndex>()
        Thread.detachNewThread {
            loading.set(Result { try ReplayIndex(replay: self, ranges: ranges, connection: connection) })
        }
        let read: Streamed
        do {
            read = try readAndCompare(ranges, loading: loading, report: &report, progress: progress)
        } catch {
            _ = try? loading.wait()  // the loading thread uses the connection: let it finish first
            throw error
        }
        phase("read and compare")
        let index = try loading.wait()
        var streamed = read
        try finish(&streamed, index: index, report: &report)
        phase("the rest (supplements, duplicates, missing)")
        try verifySignatures(streamed.signCommands, connection: connection, report: &report)
        phase("signatures")
        try verifyStageActions(streamed.stageCommands, connection: connection, report: &report)
        phase("stage actions")
        try verifyDrafts(streamed.draftCommands, connection: connection, report: &report)
        phase("drafts")
        try verifyApologies(streamed.apologyCommands, connection: connection, report: &report)
        phase("apologies")
        report.findings.append(contentsOf: try missedDeadlines(index.dossiers(scoped: streamed.scoped), connection))
        phase("deadlines")
        let dueDates = try rederiveDueDates(of: index.dossiers(scoped: streamed.scoped), connection)
        report.dueDatesRederived = dueDates.rederived
        report.findings.append(contentsOf: dueDates.findings)
        phase("due dates")
        // In topic order, then by kind: the same report for the same inputs.
        report.findings.sort {
            ($0.topic ?? "", $0.partition ?? -1, $0.offset ?? -1, $0.kind.rawValue, $0.dossierId, $0.field ?? "")
                < ($1.topic ?? "", $1.partition ?? -1, $1.offset ?? -1, $1.kind.rawValue, $1.dossierId, $1.field ?? "")
        }
        // Findings name dossiers by the code on the applicant's receipt too.
        for i in report.findings.indices {
            report.findings[i].code = index.receipts[report.findings[i].dossierId]?.code
        }
        report.seconds = (ContinuousClock.now - started).seconds
        return report
    }

    /// What the stream left for the end.
    struct Streamed {
        /// Per decision (index in ``ReplayIndex/decisions``): whether it is in scope (compared in the stream, or
        /// decided at the end); decisions dealt with in the stream are marked `handled`.
        var scoped: [Bool]
        var handled: [Bool]
        /// Messages needed at the end: supplements, the steps they supplement, messages several decisions cite.
        var kept: [Source: Input] = [:]
        /// Business time: steps received outside the window, and the dossiers with a step inside it.
        var outside = Set<Source>()
        /// Officials' signature commands read (few: checked at the end against the stored signatures).
        var signCommands: [ReadCommand] = []
        /// Officials' stage actions read (checked at the end against the processing-control slip).
        var stageCommands: [ReadCommand] = []
        /// Officials' draft actions read (checked at the end against the sent drafts).
        var draftCommands: [ReadCommand] = []
        /// Officials' signed apology slips read (checked at the end against the recorded apologies).
        var apologyCommands: [ReadCommand] = []
        var windowDossiers = Set<String>()
        /// Steps whose decision does not cite them: looked up by identity at the end.
        var unmatched: [(identity: Identity, source: Source, department: DepartmentID)] = []
    }

    /// What one chunk of messages gave.
    struct Chunk: Sendable {
        var findings: [AuditFinding] = []
        var steps = 0
        var compared = 0
        var invalid = 0
        var scoped: [Int32] = []
        var skipped: [Int32] = []
        var kept: [(Source, Input)] = []
        var outside: [Source] = []
        var windowDossiers: [String] = []
        var unmatched: [(identity: Identity, source: Source, department: DepartmentID)] = []
        var failure: String?
    }

    /// Compares the decoded messages of a chunk with the decisions citing them.
    func process(_ decoded: [Decoded], index: ReplayIndex) -> Chunk {
        var out = Chunk()
        let encoder = MessageCoding.encoder()
        var cursor = HistoryCursor(index.history)
        let window = settings.from != nil || settings.to != nil
        for item in decoded {
            switch item {
            case .invalid:
                out.invalid += 1
            case .outside(let source):
                out.outside.append(source)
                if let i = index.decision(at: source) { out.skipped.append(i) }
            case .input(let source, .supplement(let supplement)):
                out.kept.append((source, .supplement(supplement)))
            case .input(let source, .step(let step)):
                let task = step.task
                out.steps += 1
                if window { out.windowDossiers.append(task.dossier.id) }
                if index.keeps(source, task) { out.kept.append((source, .step(step))) }
                let identity = Identity(dossierId: task.dossier.id, step: task.step, round: task.round)
                guard let i = index.decision(at: source) else {
                    out.unmatched.append((identity, source, task.department))
                    continue
                }
                out.scoped.append(i)
                let decision = index.decisions[Int(i)]
                guard decision.identity == identity else {
                    out.findings.append(Self.finding(
                        decision, .decisionWithoutMessage,
                        detail: "the message at its source offset is dossier step \(identity.text)"))
                    out.unmatched.append((identity, source, task.department))
                    continue
                }
                if let problem = index.provenanceProblem(task, decidedBy: decision.department, encoder: encoder) {
                    out.findings.append(Self.finding(decision, .notReceived, detail: problem))
                }
                do {
                    if try rederive(decision, task.dossier, index: index, cursor: &cursor, findings: &out.findings) {
                        out.compared += 1
                    }
                } catch {
                    out.failure = "\(decision.identity.text): \(error)"
                    return out
                }
            }
        }
        return out
    }

    /// The decisions the stream did not settle: those citing a supplement, a message that is not there (or not a
    /// step), a message another decision cited first; duplicates; steps with no decision.
    private func finish(_ streamed: inout Streamed, index: ReplayIndex, report: inout AuditReport) throws {
        let window = settings.from != nil || settings.to != nil
        let inputs = streamed.kept
        func inScope(_ decision: StoredDecision) -> Bool {
            guard window else { return true }
            if streamed.outside.contains(decision.source) { return false }
            switch inputs[decision.source] {
            case .step?: return true
            case .supplement?: return streamed.windowDossiers.contains(decision.dossierId)
            case nil:
                return (settings.from.map { decision.decidedAt >= $0 } ?? true)
                    && (settings.to.map { decision.decidedAt < $0 } ?? true)
            }
        }
        var left: [Int32] = []
        for i in index.placed where !streamed.handled[Int(i)] { left.append(i) }
        left.append(contentsOf: index.extras)
        left.sort()
        var remaining: [StoredDecision] = []
        for i in left where inScope(index.decisions[Int(i)]) {
            streamed.scoped[Int(i)] = true
            remaining.append(index.decisions[Int(i)])
        }
        report.decisions = streamed.scoped.lazy.filter { $0 }.count

        // Duplicates: several decisions in scope citing one source message.
        if !index.shared.isEmpty {
            var bySource: [Source: [Int32]] = [:]
            for i in index.placed + index.extras where streamed.scoped[Int(i)] {
                let source = index.decisions[Int(i)].source
                if index.shared.contains(source) { bySource[source, default: []].append(i) }
            }
            for (source, indices) in bySource where indices.count > 1 {
                // The decision of the very step at that offset counts as the original (then the earliest), whatever
                // order PostgreSQL returned the rows in; the others are the duplicates.
                var message: Identity?
                if case .step(let step)? = inputs[source] {
                    message = Identity(dossierId: step.task.dossier.id, step: step.task.step, round: step.task.round)
                }
                let rows = indices.map { index.decisions[Int($0)] }.sorted {
                    ($0.identity == message ? 0 : 1, $0.decidedAt, $0.identity.text)
                        < ($1.identity == message ? 0 : 1, $1.decidedAt, $1.identity.text)
                }
                for row in rows.dropFirst() {
                    report.findings.append(AuditFinding(
                        kind: .duplicate, dossierId: row.dossierId, step: row.step, round: row.round,
                        department: row.department, topic: source.topic, partition: Int(source.partition),
                        offset: source.offset,
                        detail: "\(rows.count) decisions cite this message: \(rows.map(\.identity.text).joined(separator: ", "))"))
                }
            }
        }

        // Every step on the topic has its decision (unless withdrawn first, or a republished copy of a decided one).
        if !streamed.unmatched.isEmpty {
            let identities = Set(index.decisions.lazy.map(\.identity))
            for (identity, source, department) in streamed.unmatched
            where !identities.contains(identity) && !index.withdrawn.contains(identity.dossierId) {
                report.findings.append(AuditFinding(
                    kind: .missingDecision, dossierId: identity.dossierId, step: identity.step, round: identity.round,
                    department: department, topic: source.topic, partition: Int(source.partition),
                    offset: source.offset, detail: "no decision row for this dossier step"))
            }
        }

        // The rest, each from the message it cites.
        let dossiers = DossierHistory(inputs: inputs)
        let encoder = MessageCoding.encoder()
        var cursor = HistoryCursor(index.history)
        for decision in remaining {
            guard let input = inputs[decision.source] else {
                let range = report.ranges.first {
                    $0.topic == decision.source.topic && $0.partition == Int(decision.source.partition)
                }
                let gone = range.map { decision.source.offset < $0.start } ?? false
                report.findings.append(Self.finding(
                    decision, .decisionWithoutMessage,
                    detail: gone
                        ? "its message is no longer on the topic (before the low watermark: retention)"
                        : "no MotCua message at its source offset"))
                continue
            }
            let dossier: Dossier
            switch input {
            case .step(let step):
                let task = step.task
                guard task.dossier.id == decision.dossierId, task.step == decision.step, task.round == decision.round
                else {
                    report.findings.append(Self.finding(
                        decision, .decisionWithoutMessage,
                        detail: "the message at its source offset is dossier step \(task.dossier.id)/\(task.step)/\(task.round)"))
                    continue
                }
                if let problem = index.provenanceProblem(task, decidedBy: decision.department, encoder: encoder) {
                    report.findings.append(Self.finding(decision, .notReceived, detail: problem))
                }
                dossier = task.dossier
            case .supplement(let supplement):
                guard supplement.dossierId == decision.dossierId, supplement.step == decision.step else {
                    report.findings.append(Self.finding(
                        decision, .decisionWithoutMessage, detail: "the supplement at its source offset is another dossier's"))
                    continue
                }
                guard let supplemented = dossiers.dossier(at: decision.source) else {
                    report.notRederived += 1
                    continue
                }
                dossier = supplemented
            }
            if try rederive(decision, dossier, index: index, cursor: &cursor, findings: &report.findings) {
                report.compared += 1
            }
        }
    }

    static func finding(
        _ decision: StoredDecision, _ kind: AuditFinding.Kind, field: String? = nil, stored: String? = nil,
        rederived: String? = nil, detail: String? = nil
    ) -> AuditFinding {
        AuditFinding(
            kind: kind, dossierId: decision.dossierId, step: decision.step, round: decision.round,
            department: decision.department, topic: decision.source.topic, partition: Int(decision.source.partition),
            offset: decision.source.offset, field: field, stored: stored, rederived: rederived, detail: detail)
    }

    /// Re-derives a decision from the dossier it was made on, with exactly what it recorded (its rule version and
    /// delegation snapshot) and the catalogue version reception recorded on the dossier (its required documents, as
    /// the worker decided), and appends what differs. Returns whether it was compared.
    func rederive(
        _ decision: StoredDecision, _ dossier: Dossier, index: ReplayIndex, cursor: inout HistoryCursor,
        findings: inout [AuditFinding]
    ) throws -> Bool {
        guard let ruleSet = try cursor.ruleSet(decision.ruleVersion) else {
            findings.append(Self.finding(
                decision, .differs, field: "rule_version", stored: decision.ruleVersion,
                detail: "the rule version is not in rule_versions"))
            return false
        }
        let decisionBundle: AuthorityBundle
        do {
            decisionBundle = try cursor.bundle(at: decision.decidedAt, snapshot: decision.delegationVersion)
        } catch let failure as Failure {
            findings.append(Self.finding(
                decision, .differs, field: "delegation_version", stored: decision.delegationVersion,
                detail: failure.description))
            return false
        }
        let checks = index.checks(decision.department)
        // The current catalogue when the dossier recorded no version (or one not stored: `due-date-differs` says so).
        let catalogue = index.catalogues.catalogue(
            for: index.receipts[decision.dossierId]?.catalogueVersion, current: decisionBundle)
        let rederived = Decider.decide(
            dossier, department: decision.department, bundle: decisionBundle, ruleSet: ruleSet, checks: checks,
            at: decision.decidedAt, catalogue: catalogue)
        if decision.outcome != rederived.outcome.rawValue {
            findings.append(Self.finding(
                decision, .differs, field: "outcome", stored: decision.outcome, rederived: rederived.outcome.rawValue))
        }
        if decision.ruleId != rederived.evaluation.ruleId {
            findings.append(Self.finding(
                decision, .differs, field: "rule", stored: decision.ruleId ?? "—",
                rederived: rederived.evaluation.ruleId ?? "—"))
        }
        if decision.delegationId != rederived.evaluation.delegationId {
            findings.append(Self.finding(
                decision, .differs, field: "delegation", stored: decision.delegationId ?? "—",
                rederived: rederived.evaluation.delegationId ?? "—"))
        }

        // Was the delegation valid when the decision was made, and when it was signed (what is known now)?
        if let id = decision.delegationId, decision.outcome != "escalate", let current = index.history.latest[id: id] {
            if let problem = current.status(at: decision.decidedAt) {
                findings.append(Self.finding(
                    decision, .delegationNotValid, field: "delegation", stored: id, rederived: problem.rawValue,
                    detail: "decided at \(ISO8601Instant.format(decision.decidedAt)) while delegation \(id) was \(problem.rawValue)"))
            } else if let signed = decision.signedAt, let problem = current.status(at: signed) {
                findings.append(Self.finding(
                    decision, .delegationNotValid, field: "delegation", stored: id, rederived: problem.rawValue,
                    detail: "signed at \(ISO8601Instant.format(signed)) while delegation \(id) was \(problem.rawValue)"))
            }
        }
        if let signed = decision.signedOutcome, signed != decision.outcome {
            findings.append(Self.finding(
                decision, .signatureOverride, field: "outcome", stored: decision.outcome, rederived: signed,
                detail: "an official signed '\(signed)' where the rules prepared '\(decision.outcome)'"))
        }
        if let whatIf = settings.whatIf, let otherRules = whatIf.ruleSets[decision.department] {
            let other = Decider.decide(
                dossier, department: decision.department,
                bundle: index.whatIfBundle ?? decisionBundle,
                ruleSet: otherRules,
                checks: checks, at: decision.decidedAt, catalogue: catalogue)
            if other.outcome != rederived.outcome || other.evaluation.ruleId != rederived.evaluation.ruleId {
                findings.append(Self.finding(
                    decision, .wouldChange, field: other.outcome != rederived.outcome ? "outcome" : "rule",
                    stored: "\(rederived.outcome.rawValue) (\(rederived.evaluation.ruleId ?? "—"))",
                    rederived: "\(other.outcome.rawValue) (\(other.evaluation.ruleId ?? "—"))"))
            }
        }
        return true
    }

    // MARK: - Kafka

    /// `[start, end)` per partition of every replayed topic.
    func partitionRanges() throws -> [TopicPartition: (start: Int64, end: Int64)] {
        let admin = try KafkaAdmin(options: kafka, logger: logger)
        var ranges: [TopicPartition: (start: Int64, end: Int64)] = [:]
        for department in settings.departments {
            let topic = settings.topics.department(department)
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

    /// Reads every range to its end with an assigned (never subscribed, never committing) consumer; the messages
    /// are decoded and compared with their decisions on the other cores meanwhile.
    func readAndCompare(
        _ ranges: [TopicPartition: (start: Int64, end: Int64)], loading: Loading<ReplayIndex>,
        report: inout AuditReport, progress: Progress?
    ) throws -> Streamed {
        let chunks = Mutex<[Chunk]>([])
        let pending = DispatchGroup()
        var read = 0
        var signCommands: [ReadCommand] = []
        var stageCommands: [ReadCommand] = []
        var draftCommands: [ReadCommand] = []
        var apologyCommands: [ReadCommand] = []
        if !ranges.isEmpty {
            var configuration = KafkaConsumerConfiguration(client: kafka, groupID: nil)
            configuration.autoCommit = false
            let consumer = try KafkaConsumer(configuration: configuration, logger: logger)
            defer { consumer.close() }
            try consumer.assign(ranges.mapValues { KafkaOffset($0.start) })
            let total = ranges.values.reduce(0) { $0 + Int($1.end - $1.start) }
            var remaining = Set(ranges.keys)
            let from = settings.from
            let to = settings.to
            let workers = DispatchQueue(label: "motcua.audit.compare", attributes: .concurrent)
            var chunk: [Pending] = []
            func dispatch() {
                guard !chunk.isEmpty else { return }
                let work = chunk
                chunk = []
                pending.enter()
                workers.async {
                    // Decoding needs nothing from PostgreSQL; comparing waits for the decisions (loaded by then,
                    // except for the first chunks of a short replay).
                    let decoded = Self.decode(work, from: from, to: to)
                    let result = (try? loading.wait()).map { self.process(decoded, index: $0) } ?? Chunk()
                    chunks.withLock { $0.append(result) }
                    pending.leave()
                }
            }
            var idle = ContinuousClock.now
            while !remaining.isEmpty {
                let batch = try consumer.pollBatch(maxMessages: settings.batchSize, timeout: .milliseconds(200))
                if batch.isEmpty {
                    guard ContinuousClock.now - idle < .seconds(30) else {
                        pending.wait()
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
                    switch CloudEvents.type(of: message) ?? MessageType.step {
                    case MessageType.step: chunk.append(Pending(source: source, supplement: false, value: message.value))
                    case MessageType.supplement: chunk.append(Pending(source: source, supplement: true, value: message.value))
                    case MessageType.sign: signCommands.append(ReadCommand(source: source, value: message.value))
                    case MessageType.stage: stageCommands.append(ReadCommand(source: source, value: message.value))
                    case MessageType.draft: draftCommands.append(ReadCommand(source: source, value: message.value))
                    case MessageType.apology: apologyCommands.append(ReadCommand(source: source, value: message.value))
                    default: continue
                    }
                }
                if chunk.count >= 1_000 { dispatch() }
                progress?(read, total)
            }
            dispatch()
        }
        pending.wait()
        report.messages = read
        let index = try loading.wait()
        var streamed = Streamed(
            scoped: Array(repeating: false, count: index.decisions.count),
            handled: Array(repeating: false, count: index.decisions.count))
        streamed.signCommands = signCommands
        streamed.stageCommands = stageCommands
        streamed.draftCommands = draftCommands
        streamed.apologyCommands = apologyCommands
        for chunk in chunks.withLock({ $0 }) {
            if let failure = chunk.failure { throw Failure("re-deriving \(failure)") }
            report.findings.append(contentsOf: chunk.findings)
            report.steps += chunk.steps
            report.compared += chunk.compared
            report.invalidMessages += chunk.invalid
            for i in chunk.scoped {
                streamed.scoped[Int(i)] = true
                streamed.handled[Int(i)] = true
            }
            for i in chunk.skipped { streamed.handled[Int(i)] = true }
            for (source, input) in chunk.kept { streamed.kept[source] = input }
            streamed.outside.formUnion(chunk.outside)
            streamed.windowDossiers.formUnion(chunk.windowDossiers)
            streamed.unmatched.append(contentsOf: chunk.unmatched)
        }
        return streamed
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
        try AuditStore.decisions(topics: settings.departments.map(settings.topics.department), on: connection)
    }

    /// Steps of the dossiers in scope decided late or still open past their due date (from the coordinator).
    func missedDeadlines(_ dossiers: Set<String>, _ connection: PostgresConnection) throws -> [AuditFinding] {
        guard !dossiers.isEmpty else { return [] }
        // The missed ones are few; filtering them here is far cheaper than sending every id in scope.
        return try AuditStore.missedStepDeadlines(on: connection).filter { dossiers.contains($0.dossierId) }.map { missed in
            AuditFinding(
                kind: .deadlineMissed, dossierId: missed.dossierId, step: missed.step, department: missed.department,
                field: "due_date", stored: missed.dueDate,
                rederived: missed.closedAt.map { DeadlinePolicy.localDay($0).description } ?? "open",
                detail: missed.closedAt == nil ? "still open past its due date" : "closed after its due date")
        }
    }
}

/// The dossier as each supplement left it: the step message's dossier with the supplements up to that one merged,
/// as the worker merged them.
package struct DossierHistory {
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

/// A value one thread loads and others wait for.
package final class Loading<Value: Sendable>: Sendable {
    private let value = Mutex<Result<Value, any Error>?>(nil)
    private let done = DispatchGroup()

    init() { done.enter() }

    func set(_ result: Result<Value, any Error>) {
        value.withLock { $0 = result }
        done.leave()
    }

    func wait() throws -> Value {
        done.wait()
        return try value.withLock { $0! }.get()
    }
}

/// The decisions a replay compares, found by the message they cite, and what re-deriving them needs. Immutable
/// once loaded: the threads comparing chunks of messages share it.
package final class ReplayIndex: Sendable {
    let decisions: [AuditReplay.StoredDecision]
    /// Per partition read: for each offset of its range, the first decision citing it (-1: none).
    private let slots: [TopicPartition: (start: Int64, first: [Int32])]
    /// Decisions citing an offset in the ranges read, first per offset; and those citing one another decision
    /// cited first.
    let placed: [Int32]
    let extras: [Int32]
    /// Sources several decisions cite: their messages are kept for the end.
    let shared: Set<AuditReplay.Source>
    /// Dossier steps decided again in later rounds, after supplements: their step messages are kept for the end.
    private let supplemented: Set<StepKey>
    let withdrawn: Set<String>
    /// Reception's receipts by dossier id, and the forwards recorded (`dossier/step/target`): where each decided
    /// step task must come from, and the catalogue version each dossier was received under.
    let receipts: [String: AuditStore.Receipt]
    let forwards: Set<String>
    /// The stored catalogue versions (read in one statement), each built into a catalogue once, as the workers do.
    let catalogues = CatalogueVersionCache()
    let history: DelegationHistory
    /// `--what-if` with delegation files: the bundle with those delegations, made once.
    let whatIfBundle: AuthorityBundle?
    private let departmentChecks: [DepartmentID: DepartmentChecks]

    private struct StepKey: Hashable {
        var dossierId: String
        var step: Int
    }

    init(
        replay: AuditReplay, ranges: [TopicPartition: (start: Int64, end: Int64)], connection: PostgresConnection
    ) throws {
        decisions = try replay.loadDecisions(connection)
        withdrawn = try AuditStore.withdrawnDossiers(on: connection)
        receipts = try AuditStore.receipts(on: connection)
        forwards = try AuditStore.forwards(on: connection)
        try catalogues.load(on: connection)
        history = try DelegationHistory(bundle: replay.bundle, connection: connection)
        whatIfBundle = replay.settings.whatIf?.delegations.map { replay.bundle.replacingDelegations($0) }
        var partitions: [TopicPartition: Int] = [:]
        var starts: [Int64] = []
        var firsts: [[Int32]] = []
        for (partition, range) in ranges {
            partitions[partition] = firsts.count
            starts.append(range.start)
            firsts.append(Array(repeating: -1, count: Int(range.end - range.start)))
        }
        var placed: [Int32] = []
        placed.reserveCapacity(decisions.count)
        var extras: [Int32] = []
        var shared = Set<AuditReplay.Source>()
        var supplemented = Set<StepKey>()
        var departments = Set<DepartmentID>()
        for (i, decision) in decisions.enumerated() {
            departments.insert(decision.department)
            if decision.round > 0 { supplemented.insert(StepKey(dossierId: decision.dossierId, step: decision.step)) }
            guard let p = partitions[TopicPartition(decision.source.topic, decision.source.partition)] else { continue }
            let k = decision.source.offset - starts[p]
            guard k >= 0, k < firsts[p].count else { continue }  // outside the ranges read: not in scope
            if firsts[p][Int(k)] < 0 {
                firsts[p][Int(k)] = Int32(i)
                placed.append(Int32(i))
            } else {
                extras.append(Int32(i))
                shared.insert(decision.source)
            }
        }
        slots = partitions.mapValues { (starts[$0], firsts[$0]) }
        self.placed = placed
        self.extras = extras
        self.shared = shared
        self.supplemented = supplemented
        departmentChecks = Dictionary(uniqueKeysWithValues: departments.map { ($0, DepartmentChecks.builtIn(for: $0)) })
    }

    /// The first decision citing the message at `source`.
    func decision(at source: AuditReplay.Source) -> Int32? {
        guard let slots = slots[TopicPartition(source.topic, source.partition)] else { return nil }
        let k = source.offset - slots.start
        guard k >= 0, k < slots.first.count else { return nil }
        let i = slots.first[Int(k)]
        return i >= 0 ? i : nil
    }

    /// Whether the step message at `source` is needed again at the end.
    func keeps(_ source: AuditReplay.Source, _ task: StepTask) -> Bool {
        if !shared.isEmpty, shared.contains(source) { return true }
        return !supplemented.isEmpty && task.round == 0
            && supplemented.contains(StepKey(dossierId: task.dossier.id, step: task.step))
    }

    /// Why the step task `decision` was made on did not come from reception or a forward, or nil.
    func provenanceProblem(_ task: StepTask, decidedBy department: DepartmentID, encoder: JSONEncoder) -> String? {
        guard task.step == 0 else {
            if forwards.contains("\(task.dossier.id)/\(task.step - 1)/\(department)") { return nil }
            return "no department forwarded step \(task.step) to \(department): step \(task.step - 1) has no forward to it"
        }
        guard let receipt = receipts[task.dossier.id] else { return "reception has no receipt of this dossier" }
        if receipt.department != department.rawValue {
            return "reception routed this dossier to \(receipt.department ?? "no department"), not \(department)"
        }
        if let digest = receipt.digest, (try? MessageCoding.digest(of: task.dossier, encoder: encoder)) != digest {
            return "the dossier of the step task differs from the one reception received"
        }
        return nil
    }

    /// A department's own checks, made once.
    func checks(_ department: DepartmentID) -> DepartmentChecks {
        departmentChecks[department] ?? DepartmentChecks.builtIn(for: department)
    }

    /// The dossiers of the decisions in scope.
    func dossiers(scoped: [Bool]) -> Set<String> {
        var out = Set<String>()
        for (i, decision) in decisions.enumerated() where scoped[i] { out.insert(decision.dossierId) }
        return out
    }
}

/// A comparing thread's view of the ``DelegationHistory``: consecutive decisions mostly share their rule version and
/// delegation snapshot, so the last ones are at hand without a lock.
package struct HistoryCursor {
    let history: DelegationHistory
    private var lastRuleSet: RuleSet?
    private var lastBundle: (key: DelegationHistory.BundleKey, bundle: AuthorityBundle)?

    init(_ history: DelegationHistory) { self.history = history }

    mutating func ruleSet(_ version: String) throws -> RuleSet? {
        if let last = lastRuleSet, last.version == version { return last }
        let found = try history.ruleSet(version)
        lastRuleSet = found
        return found
    }

    mutating func bundle(at instant: Date, snapshot version: String?) throws -> AuthorityBundle {
        let key = history.key(at: instant, snapshot: version)
        if let last = lastBundle, last.key == key { return last.bundle }
        let found = try history.bundle(key)
        lastBundle = (key, found)
        return found
    }
}

/// Rule versions and delegation records as PostgreSQL recorded them, and the delegation registry as of an instant.
/// Shared by the comparing threads: what it compiles is cached under a lock.
package final class DelegationHistory: Sendable {
    let bundle: AuthorityBundle
    let changes: [DelegationChanges.Change]
    /// Files with every recorded change: what is known now.
    let latest: DelegationRegistry
    private let ruleTexts: [String: String]
    private let snapshots: [String: String]
    private let byEffectiveInstant: [DelegationChanges.Change]
    private let ruleSets = Mutex<[String: RuleSet]>([:])
    private let bundles = Mutex<[BundleKey: AuthorityBundle]>([:])

    init(bundle: AuthorityBundle, connection: PostgresConnection) throws {
        self.bundle = bundle
        changes = try DelegationChanges.load(from: connection)
        latest = DelegationRegistry(records: try DelegationChanges.overlay(bundle.delegations.records, changes))
        byEffectiveInstant = changes.sorted { ($0.effectiveAt, $0.seq) < ($1.effectiveAt, $1.seq) }
        ruleTexts = try AuditStore.ruleTexts(on: connection)
        snapshots = try AuditStore.delegationSnapshots(on: connection)
    }

    /// The rule set of a recorded version, compiled once.
    func ruleSet(_ version: String) throws -> RuleSet? {
        try ruleSets.withLock { compiled -> RuleSet? in
            if let known = compiled[version] { return known }
            guard let text = ruleTexts[version] else { return nil }
            let made = try RuleSet(canonicalText: text)
            compiled[version] = made
            return made
        }
    }

    struct BundleKey: Hashable, Sendable {
        /// How many changes (in order of their effective instants) had taken effect.
        var changes: Int
        var snapshot: String?
    }

    func key(at instant: Date, snapshot version: String?) -> BundleKey {
        var effective = 0
        while effective < byEffectiveInstant.count, byEffectiveInstant[effective].effectiveAt <= instant { effective += 1 }
        return BundleKey(changes: effective, snapshot: version)
    }

    /// The bundle a worker had at `instant` (files + changes effective by then), with the decision's recorded
    /// delegation snapshot in place of the record of the same id. Cached: a replay meets a handful of them.
    func bundle(_ key: BundleKey) throws -> AuthorityBundle {
        try bundles.withLock { made -> AuthorityBundle in
            if let known = made[key] { return known }
            let applied = byEffectiveInstant.prefix(key.changes).sorted { $0.seq < $1.seq }
            var records = try DelegationChanges.overlay(bundle.delegations.records, Array(applied))
            if let version = key.snapshot {
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
            let bundle = bundle.replacingDelegations(DelegationRegistry(records: records))
            made[key] = bundle
            return bundle
        }
    }
}

extension AuditStore.Decision {
    /// What the decision is unique by.
    var identity: AuditReplay.Identity { AuditReplay.Identity(dossierId: dossierId, step: step, round: round) }
}
