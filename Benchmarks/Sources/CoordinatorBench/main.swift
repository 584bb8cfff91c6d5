import BenchSupport
import Foundation
import Logging
import Postgres
import Audit
import EffectivelyOnce
import Messages
import Services
import Simulation
import Store

/// The coordinator's timers at scale: open deadlines loaded with COPY into a database of the bench's own, a
/// number of them due at the same instant, then the `DeadlineTimer` (a ManualClock at that instant) fires them
/// all — overdue event, level-1 escalation, timeline entry and outbox message each. Reports the time until all
/// are escalated and the process's RSS (VmRSS) with 100k and with 1M open deadlines.
///
/// `--due N` (default 100000), `--total N` (default 1000000), `--timers N` concurrent timers (default 1),
/// `--batch N` deadlines per transaction (default 1000). Needs `DATABASE_URL`; drops its database at the end.
let arguments = Array(CommandLine.arguments.dropFirst())
func option(_ name: String, _ fallback: Int) -> Int {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count, let value = Int(arguments[index + 1])
    else { return fallback }
    return value
}
let dueCount = option("--due", 100_000)
let total = option("--total", 1_000_000)
let timerCount = option("--timers", 1)
let batch = option("--batch", 1_000)

guard let base = ProcessInfo.processInfo.environment["DATABASE_URL"], !base.isEmpty else {
    FileHandle.standardError.write(Data("DATABASE_URL is not set (export the lines of .dev/env)\n".utf8))
    exit(2)
}
var logger = Logger(label: "coordinator-bench")
logger.logLevel = .warning

func rssMiB() -> Double {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
    return (Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) / 1024
}

let name = "coordinator_bench_\(UUID().uuidString.prefix(8).lowercased())"
let head = base.split(separator: "?", maxSplits: 1)[0]
let url = head[..<head.lastIndex(of: "/")!] + "/" + name
let admin = try PostgresConnection.connect(PostgresConfiguration(connectionString: base), logger: logger)
try admin.execute("CREATE DATABASE \(name)", [])
defer { _ = try? admin.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)", []) }
let database = try PostgresConnection.connect(PostgresConfiguration(connectionString: url), logger: logger)
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
try PostgresMigrator(directory: root.appendingPathComponent("schemas/postgres")).migrate(database)

/// COPYs `count` open step deadlines; due at `dueAt` (all firing then) or far in the future.
func load(_ count: Int, prefix: String, dueAt: Date, dueDate: String) throws -> Double {
    let started = ContinuousClock.now
    let due = PostgresTimestamp.format(dueAt)
    let level2 = PostgresTimestamp.format(dueAt.addingTimeInterval(3 * 86_400))
    let departments = ["industry-trade", "environment", "labour", "culture", "industrial-zones"]
    try database.copyIn(
        """
        COPY deadlines (dossier_id, step, kind, department, procedure, opened_at, due_date, soon_at, due_at, level2_at,
                        fired, next_fire_at) FROM STDIN
        """
    ) { writer in
        for index in 0..<count {
            // due-soon already fired (bit 1): the next firing is the due instant itself.
            try writer.row(text: [
                "\(prefix)-\(index)", "0", "step", departments[index % 5], "P-BENCH", "2026-03-02 02:00:00+00",
                dueDate, "2026-03-05 01:00:00+00", due, level2, "1", due,
            ])
        }
    }
    try database.execute("ANALYZE deadlines")
    return seconds(ContinuousClock.now - started)
}


/// Fires everything due at `instant` with `timerCount` timers; returns the seconds taken.
func fire(
    at instant: Date, url: String, timerCount: Int, batch: Int, logger: Logger
) async throws -> (seconds: Double, fired: Int) {
    let clock = ManualClock(instant)
    var settings = DeadlineTimer.Settings()
    settings.batchSize = batch
    let timers = (0..<timerCount).map { _ in
        DeadlineTimer(
            settings: settings, postgres: PostgresConfiguration(connectionString: url), clock: clock,
            recipients: EscalationRecipients(heads: [:], delegator: "city"), logger: logger)
    }
    let started = ContinuousClock.now
    let fired = try await withThrowingTaskGroup(of: Int.self) { group in
        for timer in timers { group.addTask { try await onThread("timer") { try timer.fireDue() } } }
        return try await group.reduce(0, +)
    }
    return (seconds(ContinuousClock.now - started), fired)
}

let t1 = Date(timeIntervalSince1970: 1_773_050_400)  // 2026-03-09 17:00 +07
let t2 = t1.addingTimeInterval(86_400)
print("CoordinatorBench: \(dueCount) deadlines due at once; \(timerCount) timer(s), \(batch) per transaction")
let firstLoad = try load(dueCount, prefix: "a", dueAt: t1, dueDate: "2026-03-09")
let small = try await fire(at: t1, url: url, timerCount: timerCount, batch: batch, logger: logger)
let rssSmall = rssMiB()
let escalatedSmall = try database.query("SELECT count(*) FROM escalations")[0].decode(Int.self, at: 0)
print(String(format: "  %7d open: COPY %.1f s; fired %d, escalated %d in %.2f s (%.0f/s); RSS %.1f MiB",
             dueCount, firstLoad, small.fired, escalatedSmall, small.seconds, Double(small.fired) / small.seconds, rssSmall))
let future = Date(timeIntervalSince1970: 1_798_740_000)  // 2027-01-01
let secondLoad = try load(total - dueCount, prefix: "f", dueAt: future, dueDate: "2027-01-01")
    + load(dueCount, prefix: "b", dueAt: t2, dueDate: "2026-03-10")
let open = try database.query("SELECT count(*) FROM deadlines WHERE status = 'open' AND fired & 2 = 0")[0].decode(Int.self, at: 0)
let large = try await fire(at: t2, url: url, timerCount: timerCount, batch: batch, logger: logger)
let rssLarge = rssMiB()
let escalatedLarge = try database.query("SELECT count(*) FROM escalations")[0].decode(Int.self, at: 0) - escalatedSmall
print(String(format: "  %7d open: COPY %.1f s; fired %d, escalated %d in %.2f s (%.0f/s); RSS %.1f MiB",
             open, secondLoad, large.fired, escalatedLarge, large.seconds, Double(large.fired) / large.seconds, rssLarge))
