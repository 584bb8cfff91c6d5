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
        let decided = try bench.workerRound(tasks, batchSize: 1000, label: "audit")
        out.line("  decided by one worker round at \(grouped(decided.rate))/s")
        var settings = AuditReplay.Settings()
        settings.departments = [Workload.department]
        for (partition, start) in tasks.start {
            settings.offsets[partition] = (start, tasks.end[partition] ?? start)
        }
        let replay = AuditReplay(
            settings: settings, bundle: runtime.bundle, kafka: runtime.kafka, postgres: runtime.postgres,
            logger: logger)
        var rates: [Double] = []
        var whole: [Double] = []
        var raw: [Double] = []
        for round in 1...options.rounds {
            raw.append(try bench.rawConsume(tasks, batchSize: 1000))
            let started = ContinuousClock.now
            let report = try replay.run()
            let seconds = (ContinuousClock.now - started).seconds
            guard report.compared == tasks.count, report.differences == 0 else {
                fail("audit round \(round): compared \(report.compared) of \(tasks.count), \(report.differences) differences")
            }
            rates.append(report.rate)
            out.line("    phases: " + report.phases.sorted { $0.key < $1.key }.map { "\($0.key) \(format($0.value, 3)) s" }.joined(separator: ", "))
            whole.append(Double(report.compared) / seconds)
            out.line(
                "  round \(round): \(grouped(report.rate)) decisions/s re-derived and compared "
                    + "(\(grouped(Double(report.compared) / seconds))/s including connecting); raw consume \(grouped(raw.last!))/s")
        }
        out.line(
            "  median: audit replay \(grouped(median(rates)))/s, raw consume \(grouped(median(raw)))/s, "
                + "ratio \(format(median(rates) / median(raw), 2)) (target ≥ 50,000/s)")
        out.markdown.append(
            "| audit replay (\(tasks.count) decisions, \(options.rounds) rounds) | \(grouped(median(rates)))/s "
                + "| raw consume \(grouped(median(raw)))/s | \(format(median(rates) / median(raw), 2)) |")
    }
}
