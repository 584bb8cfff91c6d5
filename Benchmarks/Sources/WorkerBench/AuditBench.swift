import BenchSupport
import Foundation
import Kafka
import Logging
import Postgres
import Audit
import EffectivelyOnce
import Messages
import Services
import Simulation
import Store

extension WorkerBench {
    /// Audit replay throughput: the worker decides the produced tasks once (that round's decisions stay), then
    /// `motcua audit replay`'s engine re-reads the same range, re-derives every decision with its recorded rule
    /// version and delegation snapshot and compares — timed over several rounds, next to the raw consume rate of
    /// the same messages measured in the same run.
    static func audit(
        _ options: Options, runtime: Runtime, admin: KafkaAdmin, databaseURL: String, out: inout Report
    ) throws {
        let logger = runtime.logger
        let bench = ThroughputBench(
            runtime: runtime, admin: admin, logger: logger, databaseURL: databaseURL, postgresCPU: nil)
        let tasks = try bench.produce(count: options.messages, seed: options.seed)
        out.line("")
        out.line("audit replay: \(tasks.count) step tasks on \(tasks.topic) (\(tasks.start.count) partitions)")
        // The signed mix is verified by a replay of the whole topic (the replay checks signatures only then: a range
        // could leave a command out), so the topic must hold this run's messages alone: a fresh devbroker.
        let signed = options.signedShare > 0
        if signed && tasks.start.values.contains(where: { $0 != 0 }) {
            fail(
                "--signed-share needs a fresh devbroker (the replay of the whole topic must see this run's messages "
                    + "only; tools/bench audit starts one); or --signed-share 0")
        }
        var mix: SignedMix?
        if signed {
            let connection = try PostgresConnection.connect(runtime.postgres, logger: logger)
            mix = try SignedMix.register(
                options.signer, department: Workload.department, at: runtime.clock.now(), on: connection)
        }
        let decided = try bench.workerRound(tasks, batchSize: 1000, label: "audit")
        out.line("  decided by one worker round at \(grouped(decided.rate))/s")
        if var signing = mix {
            try signing.sign(
                share: options.signedShare, total: tasks.count, tasks: tasks, group: decided.group, runtime: runtime,
                admin: admin, logger: logger)
            mix = signing
            out.line(
                "  signed mix: \(signing.commands) signed sign commands (\(options.signer), director \(signing.signer)) "
                    + "produced after the tasks; the worker stored \(signing.stored) signatures "
                    + "(\(format(100 * Double(signing.stored) / Double(tasks.count)))% of the decisions) in "
                    + "\(format(signing.applySeconds, 1)) s")
        }
        var settings = AuditReplay.Settings()
        settings.departments = [Workload.department]
        for (partition, start) in tasks.start {
            settings.offsets[partition] = (start, tasks.end[partition] ?? start)
        }
        let replay = AuditReplay(
            settings: settings, bundle: runtime.bundle, kafka: runtime.kafka, postgres: runtime.postgres,
            logger: logger)
        var wholeSettings = settings
        wholeSettings.offsets = [:]
        let signedReplay = AuditReplay(
            settings: wholeSettings, bundle: runtime.bundle, kafka: runtime.kafka, postgres: runtime.postgres,
            logger: logger)
        var rates: [Double] = []
        var whole: [Double] = []
        var raw: [Double] = []
        var signedRates: [Double] = []
        var signaturePhase: [Double] = []
        // This process's CPU per decision over each replay (all its threads): steadier than rates on a shared machine.
        var outcomeCPU: [Double] = []
        var signedCPU: [Double] = []
        for round in 1...options.rounds {
            raw.append(try bench.rawConsume(tasks, batchSize: 1000))
            let started = ContinuousClock.now
            let cpuBefore = processCPUSeconds()
            let report = try replay.run()
            let seconds = (ContinuousClock.now - started).seconds
            outcomeCPU.append((processCPUSeconds() - cpuBefore) / Double(tasks.count) * 1e6)
            guard report.compared == tasks.count, report.differences == 0 else {
                fail("audit round \(round): compared \(report.compared) of \(tasks.count), \(report.differences) differences")
            }
            rates.append(report.rate)
            out.line("    phases: " + report.phases.sorted { $0.key < $1.key }.map { "\($0.key) \(format($0.value, 3)) s" }.joined(separator: ", "))
            whole.append(Double(report.compared) / seconds)
            var line =
                "  round \(round): \(grouped(report.rate)) decisions/s re-derived and compared "
                + "(\(grouped(Double(report.compared) / seconds))/s including connecting); raw consume \(grouped(raw.last!))/s"
            if let mix {
                let signedCPUBefore = processCPUSeconds()
                let verified = try signedReplay.run()
                signedCPU.append((processCPUSeconds() - signedCPUBefore) / Double(tasks.count) * 1e6)
                guard verified.compared == tasks.count, verified.differences == 0,
                    verified.signaturesChecked == mix.stored
                else {
                    let checked: String = verified.signaturesChecked.map { String($0) } ?? "no"
                    let findings: [String] = verified.findings.prefix(3).map { finding in
                        finding.kind.rawValue + " " + (finding.detail ?? "")
                    }
                    fail(
                        "signed audit round \(round): compared \(verified.compared) of \(tasks.count), "
                            + "\(verified.differences) differences, \(checked) signatures checked of \(mix.stored): "
                            + findings.joined(separator: "; "))
                }
                signedRates.append(verified.rate)
                signaturePhase.append(verified.phases["signatures"] ?? .nan)
                out.line("    signed phases: " + verified.phases.sorted { $0.key < $1.key }.map { "\($0.key) \(format($0.value, 3)) s" }.joined(separator: ", "))
                line += "; signed mix (whole topic, \(mix.stored) signatures verified) \(grouped(verified.rate))/s"
            }
            out.line(line)
        }
        out.line(
            "  median: audit replay \(grouped(median(rates)))/s, raw consume \(grouped(median(raw)))/s, "
                + "ratio \(format(median(rates) / median(raw), 2)) (target ≥ 50,000/s); the replay's CPU "
                + "\(format(median(outcomeCPU), 1)) µs a decision"
                + (signedCPU.isEmpty ? "" : ", the signed mix's \(format(median(signedCPU), 1)) µs"))
        out.markdown.append(
            "| audit replay (\(tasks.count) decisions, \(options.rounds) rounds) | \(grouped(median(rates)))/s "
                + "| raw consume \(grouped(median(raw)))/s | \(format(median(rates) / median(raw), 2)) |")
        if let mix {
            let cost = try mix.verifyCost(runtime: runtime, logger: logger)
            let micros = cost.authenticate
            out.line(
                "  median: signed mix \(grouped(median(signedRates)))/s (\(mix.stored) of \(tasks.count) decisions signed, "
                    + "every signature verified; its signatures phase \(format(median(signaturePhase), 3)) s)")
            out.line(
                "  one \(options.signer) command checked (registry.authenticate), thread CPU on one core: "
                    + "\(format(micros, 1)) µs — signature member parsed \(format(cost.signatureMember, 1)) µs, canonical "
                    + "form (RFC 8785) \(format(cost.canonicalForm, 1)) µs (through a tree of values, as before: "
                    + "\(format(cost.canonicalTree, 1)) µs), key verification \(format(cost.keyVerify, 1)) µs; "
                    + "\(format(Double(mix.stored) * micros / 1e6, 2)) s of one core for this run's signatures")
            out.markdown.append(
                "| audit replay, signed mix (\(mix.stored) of \(tasks.count) signed) | \(grouped(median(signedRates)))/s "
                    + "| raw consume \(grouped(median(raw)))/s | \(format(median(signedRates) / median(raw), 2)) |")
            print(
                String(
                    format: "RESULT audit outcome-only=%.0f signed=%.0f raw-consume=%.0f signed-share=%.3f verify-us=%.1f",
                    median(rates), median(signedRates), median(raw), Double(mix.stored) / Double(tasks.count), micros))
        }
    }
}
