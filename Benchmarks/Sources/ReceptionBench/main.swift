import Authority
import BenchSupport
import EffectivelyOnce
import Foundation
import Kafka
import Logging
import Messages
import Postgres
import Services
import Simulation

/// Reception's writer on its own, without Kafka: `--dossiers N` (default 20,000) simulated intake dossiers, as
/// `motcua simulate dossiers` sends them, handed to ``Reception/write(_:into:)`` in batches of `--batch N` (500, the
/// services' default), one transaction each, on a database of the bench's own. Reports dossiers/s and where the time
/// goes: this process's CPU, the PostgreSQL backend's CPU (its /proc entry), and the rest (waits), per dossier;
/// `--rounds N` rounds (default 3), each on a fresh database. Needs `DATABASE_URL` and `--rules` (the deploy directory).
let arguments = Array(CommandLine.arguments.dropFirst())
func option(_ name: String, _ fallback: String) -> String {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return fallback }
    return arguments[index + 1]
}
let count = Int(option("--dossiers", "20000")) ?? 20_000
let batch = Int(option("--batch", "500")) ?? 500
let rounds = Int(option("--rounds", "3")) ?? 3
let rules = option("--rules", "deploy")
let migrations = option("--migrations", URL(fileURLWithPath: rules).deletingLastPathComponent().appendingPathComponent("schemas/postgres").path)

guard let base = ProcessInfo.processInfo.environment["DATABASE_URL"], !base.isEmpty else {
    fail("DATABASE_URL is not set (export the lines of .dev/env)")
}
var logger = Logger(label: "reception-bench")
logger.logLevel = .warning
let bundle = try AuthorityBundle.load(from: URL(fileURLWithPath: rules))

/// CPU seconds (user + system) of a process, from /proc.
func cpuSeconds(_ pid: String) -> Double {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return 0 }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    // After the name: state is field 3, utime 14 and stime 15 (1-based over the whole line).
    return (Double(fields[11]) ?? 0) / 100 + (Double(fields[12]) ?? 0) / 100
}
func loadAverage() -> String {
    ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "?").split(separator: " ").first.map(String.init) ?? "?"
}

// The intake messages, encoded once, as the simulator sends them.
let encoder = JSONEncoder()
encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
func messages(seed: UInt64) throws -> [KafkaMessage] {
    var generator = DossierGenerator(bundle: bundle, seed: seed)
    var result: [KafkaMessage] = []
    result.reserveCapacity(count)
    let now = Date()
    for index in 0..<count {
        let dossier = generator.next(department: nil, submittedAt: now, incompleteShare: 0.05, outsideShare: 0.15)
        result.append(KafkaMessage(
            topic: "dossiers.intake", partition: Int32(index % 12), offset: Int64(index / 12),
            key: Array(dossier.id.utf8), value: Array(try encoder.encode(dossier)),
            headers: CloudEvents.headers(id: dossier.id, type: MessageType.intake, source: "motcua/simulate")))
    }
    return result
}

let head = base.split(separator: "?", maxSplits: 1)[0]
let admin = try PostgresConnection.connect(PostgresConfiguration(connectionString: base), logger: logger)
print("reception alone (no Kafka): \(count) dossiers per round, batches of \(batch), \(rounds) rounds; load average \(loadAverage())")
var rates: [Double] = []
var processMicros: [Double] = []
var backendMicros: [Double] = []
for round in 1...rounds {
    let name = "reception_bench_\(UUID().uuidString.prefix(8).lowercased())"
    try admin.execute("CREATE DATABASE \(name)", [])
    defer { _ = try? admin.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)", []) }
    let url = head[..<head.lastIndex(of: "/")!] + "/" + name
    let database = try PostgresConnection.connect(PostgresConfiguration(connectionString: String(url)), logger: logger)
    try PostgresMigrator(directory: URL(fileURLWithPath: migrations)).migrate(database)
    let backend = try database.query("SELECT pg_backend_pid()::text AS pid", []).first!.decode(String.self, "pid")
    let input = try messages(seed: UInt64(round))
    let reception = Reception(bundle: bundle, clock: SystemClock(), logger: logger)
    let processBefore = cpuSeconds("self")
    let backendBefore = cpuSeconds(backend)
    let started = ContinuousClock.now
    var processed = 0
    for start in stride(from: 0, to: input.count, by: batch) {
        let report = try database.transaction { tx in
            try reception.write(Array(input[start..<min(start + batch, input.count)]), into: tx)
        }
        processed += report.processed + report.deadLetters + report.skippedDuplicates
    }
    let wall = seconds(ContinuousClock.now - started)
    guard processed == count else { fail("round \(round): \(processed) of \(count) processed") }
    let process = (cpuSeconds("self") - processBefore) / Double(count) * 1e6
    let pg = (cpuSeconds(backend) - backendBefore) / Double(count) * 1e6
    let perDossier = wall / Double(count) * 1e6
    rates.append(Double(count) / wall)
    processMicros.append(process)
    backendMicros.append(pg)
    print(String(
        format: "  round %d: %.0f dossiers/s; per dossier %.1f µs: reception's CPU %.1f µs, its PostgreSQL backend's CPU %.1f µs, the rest %.1f µs; load average %@",
        round, Double(count) / wall, perDossier, process, pg, max(0, perDossier - process - pg), loadAverage()))
}
print(String(
    format: "RESULT reception alone (no Kafka) median %.0f dossiers/s; per dossier: reception CPU %.1f µs, PostgreSQL backend CPU %.1f µs",
    median(rates), median(processMicros), median(backendMicros)))
