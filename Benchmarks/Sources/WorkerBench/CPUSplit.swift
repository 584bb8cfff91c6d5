import BenchSupport
import Authority
import Foundation
import Postgres
import Audit
import EffectivelyOnce
import Messages
import Services
import Simulation
import Store

/// The worker's per-dossier CPU work without the database, stage by stage, on one thread: what each dossier costs
/// before PostgreSQL sees a byte. Mirrors `DepartmentWorker.write` with the public API (the row text and event
/// building are close copies, not the same code).
///
/// Times are the thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`), not the wall clock: on a shared machine the wall
/// clock also counts the time other processes held the core.
struct CPUSplit {
    var stages: [(name: String, microseconds: Double)]
    /// Stages the worker no longer runs, shown for comparison (JSONDecoder/JSONEncoder, unmemoized explanations).
    static let comparisons: Set<String> = [
        "decode StepTask (JSONDecoder)", "encode explanation (JSONEncoder, each dossier)",
        "build + encode event (JSONEncoder)",
    ]
    /// The worker's path: every stage but the comparisons.
    var total: Double {
        stages.filter { !CPUSplit.comparisons.contains($0.name) }.reduce(0) { $0 + $1.microseconds }
    }

    static func threadCPUTime() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    static func measure(_ values: [[UInt8]], bundle: AuthorityBundle, clock: any MotCuaClock) throws -> CPUSplit {
        let department = Workload.department
        let ruleSet = bundle.ruleSets[department]!
        let checks = DepartmentChecks.builtIn(for: department)
        let decoder = MessageCoding.decoder()
        let encoder = MessageCoding.encoder()
        let now = clock.now()
        let n = Double(values.count)
        func time(_ body: () throws -> Void) rethrows -> Double {
            let start = threadCPUTime()
            try body()
            return (threadCPUTime() - start) / n * 1e6
        }
        var tasks: [StepTask] = []
        tasks.reserveCapacity(values.count)
        let decodeFoundation = try time {
            for value in values { tasks.append(try decoder.decode(StepTask.self, from: Data(value))) }
        }
        var fastTasks: [StepTask] = []
        fastTasks.reserveCapacity(values.count)
        let decode = try time {
            for value in values { fastTasks.append(try MessageCoding.decodeStepTask(value, decoder: decoder)) }
        }
        precondition(fastTasks == tasks)
        var decisions: [StepDecision] = []
        decisions.reserveCapacity(values.count)
        let decide = time {
            for task in tasks {
                decisions.append(
                    Decider.decide(
                        task.dossier, department: department, bundle: bundle, ruleSet: ruleSet, checks: checks, at: now)
                )
            }
        }
        var explanations: [String] = []
        explanations.reserveCapacity(values.count)
        let explain = try time {
            for decision in decisions {
                explanations.append(
                    String(decoding: try encoder.encode(Decider.explanation(of: decision)), as: UTF8.self))
            }
        }
        // What the worker does since its per-batch memo (DepartmentWorker's ExplanationMemo): encode each distinct
        // explanation of a batch once.
        var memoized: [String] = []
        memoized.reserveCapacity(values.count)
        let explainMemo = try time {
            var kinds: [String: [(StoredExplanation, String)]] = [:]
            for (i, decision) in decisions.enumerated() {
                if i % 500 == 0 { kinds.removeAll(keepingCapacity: true) }
                let explanation = Decider.explanation(of: decision)
                let evaluation = explanation.evaluation
                let key =
                    "\(evaluation.stage.rawValue)/\(evaluation.firedRule ?? "")/\(evaluation.delegation?.id ?? "")"
                if let known = kinds[key]?.first(where: { $0.0 == explanation }) {
                    memoized.append(known.1)
                } else {
                    let text = String(decoding: try encoder.encode(explanation), as: UTF8.self)
                    kinds[key, default: []].append((explanation, text))
                    memoized.append(text)
                }
            }
        }
        precondition(memoized == explanations)
        var rows: [[String?]] = []
        rows.reserveCapacity(values.count)
        let row = time {
            for (i, task) in tasks.enumerated() {
                let decision = decisions[i]
                let delegationId = decision.evaluation.delegationId
                rows.append([
                    task.dossier.id, String(task.step), String(task.round), department.rawValue, task.dossier.procedure,
                    decision.outcome.rawValue, decision.review.rawValue, decision.evaluation.ruleId, ruleSet.version,
                    delegationId, delegationId.flatMap { bundle.delegations.snapshot(id: $0)?.version },
                    decision.evaluation.escalationReason?.rawValue, decision.forwardTo?.rawValue, PostgresTimestamp.format(now),
                    // The explanation itself is stored once per kind (`explanations`); the row cites its id.
                    "dossiers.industrial-zones", "3", String(i), String(explanations[i].utf8.count),
                ])
            }
        }
        var payloads: [[UInt8]] = []
        payloads.reserveCapacity(values.count)
        let eventFoundation = try time {
            for (i, task) in tasks.enumerated() {
                let decision = decisions[i]
                let identity = "\(task.dossier.id)/\(task.step)/\(task.round)"
                let data = DossierEvent.Data(
                    outcome: decision.outcome, review: decision.review,
                    ruleId: decision.evaluation.ruleId, delegationId: decision.evaluation.delegationId,
                    reason: decision.reason, escalationReason: decision.evaluation.escalationReason,
                    forwardTo: decision.forwardTo, procedure: task.dossier.procedure)
                let kind: DossierEvent.Kind =
                    decision.outcome == .approve && decision.review == .auto ? .decided : .prepared
                let event = DossierEvent(
                    eventId: StableID.make("event", kind.rawValue, identity), dossierId: task.dossier.id,
                    code: task.code,
                    type: kind, department: department, step: task.step, round: task.round, at: now, data: data)
                payloads.append(Array(try encoder.encode(event)))
            }
        }
        var fastPayloads: [[UInt8]] = []
        fastPayloads.reserveCapacity(values.count)
        let event = time {
            for (i, task) in tasks.enumerated() {
                let decision = decisions[i]
                let identity = "\(task.dossier.id)/\(task.step)/\(task.round)"
                let data = DossierEvent.Data(
                    outcome: decision.outcome, review: decision.review,
                    ruleId: decision.evaluation.ruleId, delegationId: decision.evaluation.delegationId,
                    reason: decision.reason, escalationReason: decision.evaluation.escalationReason,
                    forwardTo: decision.forwardTo, procedure: task.dossier.procedure)
                let kind: DossierEvent.Kind =
                    decision.outcome == .approve && decision.review == .auto ? .decided : .prepared
                let event = DossierEvent(
                    eventId: StableID.make("event", kind.rawValue, identity), dossierId: task.dossier.id,
                    code: task.code,
                    type: kind, department: department, step: task.step, round: task.round, at: now, data: data)
                fastPayloads.append(MessageCoding.encode(event))
            }
        }
        precondition(fastPayloads == payloads)
        var copyBytes = 0
        let copyText = time {
            // What the COPY writer escapes and the outbox writer hex-encodes.
            for (i, fields) in rows.enumerated() {
                for field in fields { copyBytes += field?.utf8.count ?? 2 }
                copyBytes += PostgresBytes(payloads[i]).postgresText.utf8.count
            }
        }
        precondition(copyBytes > 0)
        return CPUSplit(stages: [
            ("decode StepTask (JSONDecoder)", decodeFoundation),
            ("decode StepTask (FastJSON, JSONDecoder fallback), as the worker does", decode),
            ("Decider.decide (rules, delegation, checks)", decide),
            ("encode explanation (JSONEncoder, each dossier)", explain),
            ("… memoized per batch of 500, as the worker does", explainMemo), ("build decision row text", row),
            ("build + encode event (JSONEncoder)", eventFoundation),
            ("build + encode event (hand-written writer), as the worker does", event),
            ("COPY text: field bytes + bytea hex", copyText),
        ])
    }
}
