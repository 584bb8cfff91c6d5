import Authority
import EffectivelyOnce
import Foundation
import Kafka
import Logging
import Messages
import Operations
import Postgres
import Store
import Synchronization

/// The batch writer of a department worker: evaluates dossier steps, applies officials' signatures and requests,
/// resumes supplemented dossiers, and writes decisions and their events.
public final class DepartmentWorker: BatchWriter {
    public let department: DepartmentID
    /// The file delegations plus those recorded with `motcua delegations` (reloaded when they change).
    public let delegations: DelegationOverlay
    /// The rules and delegations as of the last batch.
    public var bundle: AuthorityBundle { delegations.bundle }
    public let ruleSet: RuleSet
    public let checks: DepartmentChecks
    let clock: any MotCuaClock
    let logger: Logger
    public var outboxSource: String { department.rawValue }
    let topic: String
    /// The system's topic names (events, other departments' topics for forwarding).
    let topics: Topics

    public struct ConfigurationError: Error, CustomStringConvertible {
        public var description: String
    }

    public init(
        department: DepartmentID, bundle: AuthorityBundle, checks: DepartmentChecks? = nil, clock: any MotCuaClock,
        topics: Topics = Topics(), logger: Logger
    ) throws(ConfigurationError) {
        guard let ruleSet = bundle.ruleSets[department] else {
            throw ConfigurationError(
                description: "no rules for department '\(department)' in the rules directory; "
                    + "known: \(bundle.ruleSets.keys.sorted().map(\.rawValue).joined(separator: ", "))")
        }
        self.department = department
        self.delegations = DelegationOverlay(files: bundle)
        self.ruleSet = ruleSet
        self.checks = checks ?? .builtIn(for: department)
        self.clock = clock
        self.logger = logger
        self.topics = topics
        self.topic = topics.department(department)
    }

    /// The JSON texts of the explanations met so far, shared by every batch.
    let explanationTexts = ExplanationTexts()
    /// The registry of officials as of the last batch that held commands.
    let officials = OfficialRegistryCache()
    /// The catalogue versions dossiers were received under: the documents a dossier must hold, what a supplement may
    /// bring, and the time limit of the step a dossier is forwarded to.
    let catalogueVersions = CatalogueVersionCache()
    /// The ids of stored explanations, so that a batch calls `motcua_explanation_ids` only for texts not met yet.
    let explanationIds = ExplanationIds()

    public func committed() {
        explanationIds.committed()
    }

    public func prepare(_ connection: PostgresConnection) throws {
        try DatabaseSchema.checkTopicPrefix(topics.prefix, on: connection)
        // A new connection may be to a restored database: ids are learned again.
        explanationIds.forget()
        try catalogueVersions.load(on: connection)
        // Store the exact texts every decision will cite, once.
        try DecisionStore.storeRuleVersion(
            ruleSet.version, department: department, canonicalText: ruleSet.canonicalText, on: connection)
        for record in bundle.delegations.records where record.delegatee == department {
            try DecisionStore.storeDelegationVersion(
                record.version, delegationId: record.id, canonicalJSON: record.canonicalJSON, on: connection)
        }
        try enterLastStageOfAwaiting(at: clock.now(), on: connection)
    }

    /// The steps of a batch decided, its decision rows and events built, its commands set aside: all but the
    /// database work. ``stage(_:)`` makes it beside the previous batch's transaction; ``write(_:staged:into:)``
    /// stores it, or decides again when the delegations changed in between.
    struct Staged: Sendable {
        /// The delegation change head the steps were decided under.
        var seq: Int64
        var now: Date
        var rows: [DecisionRow] = []
        var explanations: [String] = []
        var outbox: [OutboxMessage] = []
        var commands: [(message: KafkaMessage, type: String)] = []
        /// Dead letters and events of step tasks refused by the provenance check (added to `outbox` after it).
        var dropped: [OutboxMessage] = []
        /// The step tasks decided, for the provenance check (`rows` and `tasks` are parallel). `sent`: the digest
        /// is of the dossier's bytes as sent (``MessageCoding/decodeStepTaskWithSentDigest(_:decoder:)``), not yet
        /// of its canonical form.
        var tasks: [(task: ProvenanceStore.Task, taskId: UUID, message: KafkaMessage, sent: Bool)] = []
        /// The provenance lookup's arguments for `tasks`, written out by ``decide`` (off the transaction's thread).
        var lookup: ProvenanceStore.Lookup?
        var report = BatchReport()
        /// The dossiers decided, with the catalogue version each was decided under (its step task's, until
        /// reception's record on the dossier is read).
        var versions: [String: String?] = [:]
    }

    public func stage(_ messages: [KafkaMessage]) -> (any Sendable)? {
        let (seq, bundle) = delegations.snapshot
        return try? decide(messages, bundle: bundle, seq: seq, now: clock.now())
    }

    public func write(_ messages: [KafkaMessage], into tx: PostgresConnection) throws -> BatchReport {
        try write(messages, staged: nil, into: tx)
    }

    public func write(_ messages: [KafkaMessage], staged: (any Sendable)?, into tx: PostgresConnection) throws
        -> BatchReport
    {
        // What an earlier write learned belongs to its own transaction, committed or not: this one starts afresh.
        explanationIds.begin()
        // A revocation recorded meanwhile waits for this batch (the head is held FOR SHARE), or this batch sees it:
        // steps staged under an older head are decided again, and "now" is taken after the head was read.
        let (seq, bundle) = try delegations.refresh(in: tx)
        var batch: Staged
        if let ready = staged as? Staged, ready.seq == seq {
            batch = ready
        } else {
            batch = try decide(messages, bundle: bundle, seq: seq, now: clock.now())
        }
        // A step is decided under the catalogue version reception recorded on the dossier
        // (`dossiers.catalogue_version`): its required documents, and a forward's next-step time limit. Not the one
        // its step task names (not covered by the provenance digest): the provenance lookup (one statement for the
        // batch) answers the record of every task's dossier it vouches for, and the batch is decided again if a task
        // named another version or one stored after `prepare` (a reception started with a corrected catalogue). The
        // tasks it does not vouch for are dropped after (dropNotReceived): their versions do not matter.
        var received = Set<Int>()
        if !batch.tasks.isEmpty {
            let receipts = try receipts(of: batch, in: tx)
            received = receipts.received
            let recorded = receipts.versions
            let differs = batch.versions.contains { id, named in recorded[id].map { $0 != named } ?? false }
            let unknown = recorded.values.contains { version in
                version.map { $0 != bundle.catalogueVersion.version && !catalogueVersions.knows($0) } ?? false
            }
            if unknown { try catalogueVersions.load(on: tx) }
            if differs || unknown {
                batch = try decide(messages, bundle: bundle, seq: seq, now: clock.now(), recorded: recorded)
            }
        }
        try dropNotReceived(&batch, received: received)
        try dropWithdrawn(&batch.rows, outbox: &batch.outbox, report: &batch.report, in: tx)
        do {
            // The rows kept are those this transaction copied: their stages are new too (enterStages).
            batch.rows = try insert(
                batch.rows, explanations: batch.explanations, outbox: &batch.outbox, report: &batch.report, into: tx)
        } catch let error as PostgresError where error.sqlState == "23503" {
            // A cited explanation is missing: the ids learned are not this database's any more (the batch fails
            // and is retried message by message, learning them again).
            explanationIds.forget()
            throw error
        }
        batch.outbox += try enterStages(batch.rows, at: batch.now, into: tx)
        try OutboxWriter.write(batch.outbox, source: outboxSource, limits: topics.messageSizeLimits, into: tx)
        let decoder = MessageCoding.decoder()
        let encoder = MessageCoding.encoder()
        // The registry is read only for batches holding commands (steps never need it).
        let registry = try batch.commands.isEmpty ? OfficialRegistry.empty : officials.current(in: tx)
        for (message, type) in batch.commands {
            var commandOutbox: [OutboxMessage] = []
            try handleCommand(message, type: type, at: batch.now, registry: registry, into: tx, outbox: &commandOutbox,
                              report: &batch.report, decoder: decoder, encoder: encoder)
            try OutboxWriter.write(commandOutbox, source: outboxSource, limits: topics.messageSizeLimits, into: tx)
        }
        return batch.report
    }

    /// Decodes and decides the batch's steps (no database); commands are kept for ``write(_:staged:into:)``.
    /// `recorded`: the catalogue version reception recorded on each dossier (by id), used instead of the one its
    /// step task names.
    private func decide(
        _ messages: [KafkaMessage], bundle: AuthorityBundle, seq: Int64, now: Date, recorded: [String: String?] = [:]
    ) throws -> Staged {
        var batch = Staged(seq: seq, now: now)
        batch.versions.reserveCapacity(messages.count)
        batch.rows.reserveCapacity(messages.count)
        batch.tasks.reserveCapacity(messages.count)
        var explanations = ExplanationMemo(encoded: explanationTexts)
        let decoder = MessageCoding.decoder()
        let encoder = MessageCoding.encoder()
        for message in messages {
            let type = CloudEvents.type(of: message) ?? MessageType.step
            guard type == MessageType.step else {
                batch.commands.append((message, type))
                continue
            }
            let task: StepTask
            let sentDigest: [UInt8]?
            do {
                (task, sentDigest) = try MessageCoding.decodeStepTaskWithSentDigest(message.value, decoder: decoder)
            } catch {
                batch.outbox.append(
                    .deadLetter(of: message, error: "not a dossier step: \(describe(error))", consumer: department.rawValue))
                batch.report.deadLetters += 1
                continue
            }
            guard task.department == department else {
                batch.outbox.append(.deadLetter(
                    of: message, error: "step for department '\(task.department)' sent to \(topic)", consumer: department.rawValue))
                batch.report.deadLetters += 1
                continue
            }
            guard StepTask.positions.contains(task.step), StepTask.positions.contains(task.round) else {
                batch.outbox.append(.deadLetter(
                    of: message, error: "step \(task.step), round \(task.round): each must be from 0 to \(StepTask.positions.upperBound)",
                    consumer: department.rawValue))
                batch.report.deadLetters += 1
                continue
            }
            // The version reception recorded, once read; until then the one the task names.
            let version = recorded[task.dossier.id] ?? task.catalogueVersion
            batch.versions[task.dossier.id] = version
            let decision = Decider.decide(
                task.dossier, department: department, bundle: bundle, ruleSet: ruleSet, checks: checks, at: now,
                catalogue: catalogueVersions.catalogue(for: version, current: bundle))
            batch.tasks.append((
                ProvenanceStore.Task(
                    dossierId: task.dossier.id, step: task.step, round: task.round,
                    digest: try sentDigest ?? MessageCoding.digest(of: task.dossier, encoder: encoder)),
                task.taskId, message, sentDigest != nil))
            batch.rows.append(DecisionRow(
                task: task, decision: decision, department: department, ruleSet: ruleSet, registry: bundle.delegations,
                at: now, source: message, explanation: try explanations.index(of: decision, encoder: encoder)))
            var forwarding = task
            if decision.outcome == .forward { forwarding.catalogueVersion = version }
            var caused = try effects(of: decision, task: forwarding, at: now, encoder: encoder)
            let position = "\(message.topic)/\(message.partition)/\(message.offset)"
            for index in caused.indices { caused[index].causeMessage = position }
            batch.outbox += caused
            batch.report.outcomes[decision.outcome.rawValue, default: 0] += 1
            batch.report.processed += 1
        }
        batch.explanations = explanations.texts
        if !batch.tasks.isEmpty { batch.lookup = ProvenanceStore.Lookup(batch.tasks.map(\.task)) }
        return batch
    }

    /// The provenance lookup for a batch's tasks (one statement). A digest of a dossier's bytes as sent that
    /// matched nothing is looked up again by the canonical form's digest (bytes written another way, by spacing,
    /// escapes or another encoder, hold the same dossier): a second statement, for such tasks only.
    private func receipts(of batch: Staged, in tx: PostgresConnection) throws -> ProvenanceStore.Receipts {
        var receipts = try ProvenanceStore.receipts(
            batch.lookup ?? ProvenanceStore.Lookup(batch.tasks.map(\.task)), department: department, in: tx)
        guard receipts.received.count < batch.tasks.count else { return receipts }
        var again: [(index: Int, task: ProvenanceStore.Task)] = []
        let decoder = MessageCoding.decoder()
        let encoder = MessageCoding.encoder()
        for (index, entry) in batch.tasks.enumerated() where entry.sent && !receipts.received.contains(index) {
            let task = try MessageCoding.decodeStepTask(entry.message.value, decoder: decoder)
            var canonical = entry.task
            canonical.digest = try MessageCoding.digest(of: task.dossier, encoder: encoder)
            if canonical.digest != entry.task.digest { again.append((index, canonical)) }
        }
        guard !again.isEmpty else { return receipts }
        let found = try ProvenanceStore.receipts(again.map(\.task), department: department, in: tx)
        for position in found.received { receipts.received.insert(again[position].index) }
        for (id, version) in found.versions { receipts.versions[id] = version }
        return receipts
    }

    /// A step is decided only if reception received it (step 0: a `dossiers` row of the same dossier digest,
    /// assigned to this department) or the previous department forwarded it here: anything else goes to the
    /// department's dead letters with reason `not-received`, and a `step-rejected` event says so. `received`: the
    /// indices of `batch.tasks` the provenance lookup vouched for (one statement for the batch, in `write`).
    private func dropNotReceived(_ batch: inout Staged, received: Set<Int>) throws {
        guard !batch.tasks.isEmpty, received.count < batch.tasks.count else { return }
        // By the consumed message, not the step's identity: a forged copy of a received task (same dossier, step and
        // round, another body) in the same batch must not take the genuine step's events and forward with it.
        var refused = Set<String>()
        var keptRows: [DecisionRow] = []
        var keptTasks: [(task: ProvenanceStore.Task, taskId: UUID, message: KafkaMessage, sent: Bool)] = []
        for (index, (row, entry)) in zip(batch.rows, batch.tasks).enumerated() {
            if received.contains(index) {
                keptRows.append(row)
                keptTasks.append(entry)
                continue
            }
            refused.insert("\(entry.message.topic)/\(entry.message.partition)/\(entry.message.offset)")
            batch.report.outcomes[row.outcome.rawValue, default: 0] -= 1
            batch.report.outcomes["not-received", default: 0] += 1
            batch.report.processed -= 1
            batch.report.deadLetters += 1
            let reason = "not-received: neither reception's receipt nor a forward to \(department) matches this step "
                + "task (step \(entry.task.step), round \(entry.task.round)); it is not decided"
            batch.dropped.append(.deadLetter(of: entry.message, error: reason, consumer: department.rawValue))
            let event = DossierEvent(
                eventId: StableID.make("event", DossierEvent.Kind.stepRejected.rawValue, entry.taskId.uuidString,
                                       entry.message.topic, String(entry.message.partition), String(entry.message.offset)),
                dossierId: entry.task.dossierId, code: nil, type: .stepRejected, department: department,
                step: entry.task.step, round: entry.task.round, at: batch.now,
                data: DossierEvent.Data(reason: "not-received"))
            batch.dropped.append(OutboxMessage(
                eventId: event.eventId, topic: topics.events, key: entry.task.dossierId, type: MessageType.event,
                payload: MessageCoding.encode(event)))
        }
        batch.rows = keptRows
        batch.tasks = keptTasks
        batch.outbox.removeAll { refused.contains($0.causeMessage ?? "") }
        batch.outbox += batch.dropped
        batch.dropped = []
    }

    /// Steps of dossiers the applicant has withdrawn are not decided (one indexed lookup per batch).
    private func dropWithdrawn(
        _ rows: inout [DecisionRow], outbox: inout [OutboxMessage], report: inout BatchReport, in tx: PostgresConnection
    ) throws {
        guard !rows.isEmpty else { return }
        let withdrawn = try DecisionStore.withdrawn(among: rows.map(\.dossierId), in: tx)
        guard !withdrawn.isEmpty else { return }
        var dropped = Set<String>()
        rows.removeAll { row in
            guard withdrawn.contains(row.dossierId) else { return false }
            dropped.insert(row.identity)
            report.outcomes[row.outcome.rawValue, default: 0] -= 1
            report.outcomes["skipped-withdrawn", default: 0] += 1
            report.processed -= 1
            return true
        }
        outbox.removeAll { dropped.contains($0.causeIdentity ?? "") }
    }

    /// COPY the decision rows; if a step was already decided (a republished task), skip those rows and their events.
    /// Returns the rows copied.
    private func insert(
        _ rows: [DecisionRow], explanations: [String], outbox: inout [OutboxMessage], report: inout BatchReport,
        into tx: PostgresConnection
    ) throws -> [DecisionRow] {
        guard !rows.isEmpty else { return [] }
        let explanationIds = try explanationIds.ids(of: explanations, in: tx)
        // The savepoint rides in the COPY's round trip and is never released (a release is one more round trip;
        // the commit ends it anyway).
        do {
            try DecisionRow.copy(rows, explanationIds: explanationIds, into: tx, savepoint: "decisions_copy")
            return rows
        } catch let error as PostgresError where error.sqlState == "23505" {
            try DecisionStore.rollback(to: "decisions_copy", in: tx)
        }
        // Decided by another process (a zombie that woke after its partitions moved, a second group): the steps it
        // stored are skipped as repeats, never dead-lettered. Another process may commit more of them between the
        // read and the copy: the copy then meets the unique key again, and is retried from the savepoint.
        var fresh: [DecisionRow] = []
        var skipped = Set<String>()
        for attempt in 1... {
            var taken = try DecisionStore.decidedSteps(of: rows.map(\.dossierId), in: tx)
            fresh = []
            skipped = []
            for row in rows {
                if taken.insert(row.identity).inserted { fresh.append(row) } else { skipped.insert(row.identity) }
            }
            do {
                try DecisionRow.copy(fresh, explanationIds: explanationIds, into: tx, savepoint: "decisions_copy")
                break
            } catch {
                guard (error as? PostgresError)?.sqlState == "23505", attempt < 5 else { throw error }
                try DecisionStore.rollback(to: "decisions_copy", in: tx)
            }
        }
        // A repeat's messages go; but when the step's first copy is in this batch (a republished task beside its
        // original), that copy's decision is stored and keeps its messages: the same stable event ids, kept once.
        let stored = Set(fresh.map(\.identity))
        var kept = Set<UUID>()
        outbox.removeAll { message in
            guard let cause = message.causeIdentity, skipped.contains(cause) else { return false }
            return !stored.contains(cause) || !kept.insert(message.eventId).inserted
        }
        report.skippedDuplicates += skipped.count
        report.processed -= skipped.count
        return fresh
    }

    /// Events (and, for a forward, the next department's step) that a decision emits.
    ///
    /// An approval of a fee-bearing procedure's last step whose fee is not paid (`feePaid`; a step task of round 0
    /// never is) emits `fee-requested` instead: the approval (`decided` or `prepared`) takes effect when a payment
    /// gateway confirms the fee (`confirmPayment`).
    func effects(
        of decision: StepDecision, task: StepTask, at now: Date, encoder: JSONEncoder, feePaid: Bool = false
    ) throws -> [OutboxMessage] {
        var kind: DossierEvent.Kind
        switch decision.outcome {
        case .approve: kind = decision.review == .auto ? .decided : .prepared
        case .refuse: kind = .prepared
        case .supplement: kind = .supplementRequested
        case .escalate: kind = .escalatedAuthority
        case .forward: kind = .forwarded
        }
        // The bundle once (its getter locks and copies it); its catalogue and calendar are the files', whatever
        // the delegations' head.
        let bundle = self.bundle
        let fee =
            decision.outcome == .approve && !feePaid
            ? feeDue(task.dossier, step: task.step, catalogue: bundle.catalogue) : nil
        if fee != nil { kind = .feeRequested }
        let identity = "\(task.dossier.id)/\(task.step)/\(task.round)"
        var data = DossierEvent.Data(
            outcome: decision.outcome, review: decision.review, ruleId: decision.evaluation.ruleId,
            delegationId: decision.evaluation.delegationId, reason: decision.reason,
            escalationReason: decision.evaluation.escalationReason, forwardTo: decision.forwardTo,
            procedure: task.dossier.procedure)
        if decision.outcome == .supplement {
            data.documents = decision.evaluation.missingDocuments.isEmpty ? nil : decision.evaluation.missingDocuments
        }
        data.amount = fee
        var out: [OutboxMessage] = []
        var next: StepTask?
        if decision.outcome == .forward, let target = decision.forwardTo,
            let limit = catalogueVersions.stepLimit(
                of: task.dossier.procedure, step: task.step + 1, recorded: task.catalogueVersion, current: bundle)
        {
            let due = try? bundle.calendar.dueDate(receivedAt: now, limit: limit)
            data.dueDate = due?.description
            next = StepTask(
                taskId: StableID.make("step", task.dossier.id, String(task.step + 1), "0"), dossier: task.dossier,
                code: task.code, step: task.step + 1, round: 0, department: target, receivedAt: now,
                dueDate: due?.description, catalogueVersion: task.catalogueVersion)
        }
        let event = DossierEvent(
            eventId: StableID.make("event", kind.rawValue, identity), dossierId: task.dossier.id, code: task.code,
            type: kind, department: department, step: task.step, round: task.round, at: now, data: data)
        var eventMessage = OutboxMessage(
            eventId: event.eventId, topic: topics.events, key: task.dossier.id, type: MessageType.event,
            payload: MessageCoding.encode(event))
        eventMessage.causeIdentity = identity
        out.append(eventMessage)
        if let next {
            var stepMessage = OutboxMessage(
                eventId: next.taskId, topic: topics.department(next.department), key: task.dossier.id,
                type: MessageType.step, payload: try MessageCoding.encode(next, encoder: encoder))
            stepMessage.causeIdentity = identity
            out.append(stepMessage)
        }
        return out
    }

    func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return "missing field '\((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))'"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context),
            DecodingError.dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? context.debugDescription : "field '\(path)': \(context.debugDescription)"
        default:
            return "\(error)"
        }
    }
}

/// The encoded explanations of one batch, each kind once.
///
/// Dossiers of one procedure that take the same path through the delegation check, the documents check and the
/// rule table have equal explanations — a few dozen kinds among thousands of dossiers — and JSONEncoder costs far more
/// than comparing two explanations: each kind is listed once per batch (and stored once in PostgreSQL,
/// `explanations`, cited by `decisions.explanation_id`), its text taken from the worker's ``ExplanationTexts``,
/// which encodes it once for all batches. Equal explanations encode to the same text.
package struct ExplanationMemo {
    private var kinds: [String: [(explanation: StoredExplanation, index: Int)]] = [:]
    /// The distinct encoded explanations, in the order first seen.
    private(set) var texts: [String] = []
    let encoded: ExplanationTexts

    init(encoded: ExplanationTexts) {
        self.encoded = encoded
    }

    /// The position in ``texts`` of the decision's encoded explanation.
    mutating func index(of decision: StepDecision, encoder: JSONEncoder) throws -> Int {
        let explanation = Decider.explanation(of: decision)
        let key = ExplanationTexts.kind(of: explanation)
        if let known = kinds[key]?.first(where: { $0.explanation == explanation }) { return known.index }
        texts.append(try encoded.text(of: explanation, kind: key, encoder: encoder))
        kinds[key, default: []].append((explanation, texts.count - 1))
        return texts.count - 1
    }
}

/// Explanations encoded once for every batch of a worker (a batch of 500 had ~40 kinds to encode at ~100 µs each:
/// ~8 µs a dossier, BENCHMARKS.md). Holds at most `capacity` texts; when full it starts over, so a long run of new
/// kinds (new rule versions, new delegations) costs encodings again, never memory.
package final class ExplanationTexts: Sendable {
    private let entries = Mutex<(kinds: [String: [(explanation: StoredExplanation, text: String)]], count: Int)>(
        ([:], 0))
    let capacity: Int

    init(capacity: Int = 4_096) {
        self.capacity = capacity
    }

    /// What explanations are grouped by before they are compared whole.
    static func kind(of explanation: StoredExplanation) -> String {
        let evaluation = explanation.evaluation
        return "\(evaluation.stage.rawValue)/\(evaluation.firedRule ?? "")/\(evaluation.delegation?.id ?? "")"
    }

    /// The JSON text of `explanation` (whose ``kind(of:)`` is `kind`), encoded now if it is not known yet.
    func text(of explanation: StoredExplanation, kind: String, encoder: JSONEncoder) throws -> String {
        if let known = entries.withLock({ $0.kinds[kind]?.first(where: { $0.explanation == explanation })?.text }) {
            return known
        }
        let text = String(decoding: try encoder.encode(explanation), as: UTF8.self)
        entries.withLock { entries in
            if entries.count >= capacity { entries = ([:], 0) }
            entries.kinds[kind, default: []].append((explanation, text))
            entries.count += 1
        }
        return text
    }

    /// How many texts are held.
    var count: Int { entries.withLock { $0.count } }
}

extension DecisionRow {
    /// A row whose explanation is `explanation` of the batch's ``ExplanationMemo``.
    init(
        task: StepTask, decision: StepDecision, department: DepartmentID, ruleSet: RuleSet, registry: DelegationRegistry,
        at now: Date, source: KafkaMessage, explanation: Int
    ) {
        let delegationId = decision.evaluation.delegationId
        self.init(
            dossierId: task.dossier.id, step: task.step, round: task.round, department: department,
            procedure: task.dossier.procedure, outcome: decision.outcome, review: decision.review,
            ruleId: decision.evaluation.ruleId, ruleVersion: ruleSet.version, delegationId: delegationId,
            delegationVersion: delegationId.flatMap { registry.snapshot(id: $0)?.version },
            escalationReason: decision.evaluation.escalationReason, forwardTo: decision.forwardTo,
            decidedAt: now, sourceTopic: source.topic, sourcePartition: source.partition, sourceOffset: source.offset,
            explanation: explanation)
    }

}
