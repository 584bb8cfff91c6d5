import Authority
import BenchSupport
import EffectivelyOnce
import Foundation
import Kafka
import Logging
import Messages
import Postgres
import Services

/// The status projection in release mode, without Kafka: the coordinator's projection by sets (``StatusProjection``)
/// writing the system's events into a fresh database per round. (The per-event path it replaced survives only as the
/// test-only `ReferenceStatusProjection`, on the Store's package-level statements, which this separate package
/// cannot call: its figures are the debug ones of `ProjectionDifferentialTests`' timing.)
/// The events are the system's mix: per dossier received, assigned, then decided, prepared (waiting for a signature)
/// or forwarded to a second step (assigned, decided); 5% intake-incomplete. Batches of `--batch` (500, the services'
/// default) events, one transaction each, as the consumer writes them; `--dossiers N` (default 10,000; ≈ 3 events
/// each), `--rounds N` (3). Reports events/s, and the process's and its PostgreSQL
/// backend's CPU per event. Needs `DATABASE_URL` and `--rules` (the deploy directory).
let arguments = Array(CommandLine.arguments.dropFirst())
func option(_ name: String, _ fallback: String) -> String {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return fallback }
    return arguments[index + 1]
}
let dossiers = Int(option("--dossiers", "10000")) ?? 10_000
let batch = Int(option("--batch", "500")) ?? 500
let rounds = Int(option("--rounds", "3")) ?? 3
let rules = option("--rules", "deploy")
let migrations = option(
    "--migrations", URL(fileURLWithPath: rules).deletingLastPathComponent().appendingPathComponent("schemas/postgres").path)
let sides = ["sets"]

guard let base = ProcessInfo.processInfo.environment["DATABASE_URL"], !base.isEmpty else {
    fail("DATABASE_URL is not set (export the lines of .dev/env)")
}
let logger = {
    var logger = Logger(label: "projection-bench")
    logger.logLevel = .warning
    return logger
}()
let bundle = try AuthorityBundle.load(from: URL(fileURLWithPath: rules))

func cpuSeconds(_ pid: String) -> Double {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return 0 }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    return (Double(fields[11]) ?? 0) / 100 + (Double(fields[12]) ?? 0) / 100
}
func loadAverage() -> String {
    ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "?").split(separator: " ").first.map(String.init) ?? "?"
}

/// The events of `dossiers` dossiers, in a plausible order across dossiers (each dossier's own in order), encoded as
/// the topic holds them.
func events(seed: UInt64) throws -> [KafkaMessage] {
    var random = SplitMix64(seed: seed)
    func next(_ bound: Int) -> Int { Int(random.next() % UInt64(bound)) }
    func uuid() -> UUID { UUID(uuid: uuidBytes(&random)) }
    let procedures = bundle.catalogue.procedures.filter { !$0.steps.isEmpty }
    let start = Date(timeIntervalSince1970: 1_796_000_000)  // 2026-11
    var perDossier: [[DossierEvent]] = []
    for index in 0..<dossiers {
        let id = uuid().uuidString.lowercased()
        let procedure = procedures[next(procedures.count)]
        let code = "BENCH-\(100_000 + index)"
        var at = start.addingTimeInterval(Double(index))
        var list: [DossierEvent] = []
        func add(_ kind: DossierEvent.Kind, step: Int?, department: DepartmentID?, _ data: DossierEvent.Data) {
            list.append(DossierEvent(
                eventId: uuid(), dossierId: id, code: code, type: kind, department: department, step: step,
                round: step == nil ? nil : 0, at: at, data: data))
            at = at.addingTimeInterval(60)
        }
        let due = LocalDate(instant: start.addingTimeInterval(Double(10 + next(20)) * 86_400)).description
        let common = DossierEvent.Data(procedure: procedure.code, channel: "online", commune: "00001")
        if next(20) == 0 {
            var data = common
            data.documents = ["missing"]
            data.reason = "missing required documents"
            add(.intakeIncomplete, step: nil, department: nil, data)
            perDossier.append(list)
            continue
        }
        let first = procedure.steps[0].department
        var received = common
        received.dueDate = due
        received.timeLimit = procedure.timeLimit.description
        add(.received, step: 0, department: first, received)
        add(.assigned, step: 0, department: first, received)
        let choice = next(10)
        if choice < 6 {
            add(.decided, step: 0, department: first, .init(outcome: .approve, review: .auto, ruleId: "R1"))
        } else if choice < 9 {
            add(.prepared, step: 0, department: first, .init(outcome: .approve, review: .official, ruleId: "R1"))
        } else {
            let second = procedure.steps.count > 1 ? procedure.steps[1].department : first
            add(.forwarded, step: 0, department: first, .init(forwardTo: second, dueDate: due))
            add(.assigned, step: 1, department: second, received)
            add(.decided, step: 1, department: second, .init(outcome: .approve, review: .auto, ruleId: "R1"))
        }
        perDossier.append(list)
    }
    // Interleave: dossiers in waves of 2,000, the events of a wave in stages (as workers decide after reception).
    var ordered: [DossierEvent] = []
    for wave in stride(from: 0, to: perDossier.count, by: 2_000) {
        let slice = perDossier[wave..<min(wave + 2_000, perDossier.count)]
        let longest = slice.map(\.count).max() ?? 0
        for position in 0..<longest {
            for list in slice where position < list.count { ordered.append(list[position]) }
        }
    }
    let encoder = MessageCoding.encoder()
    return try ordered.enumerated().map { offset, event in
        KafkaMessage(
            topic: Topics().events, partition: Int32(offset % 12), offset: Int64(offset / 12),
            key: Array(event.dossierId.utf8), value: Array(try encoder.encode(event)),
            headers: [KafkaHeader("ce_type", MessageType.event)])
    }
}

let head = base.split(separator: "?", maxSplits: 1)[0]
let admin = try PostgresConnection.connect(PostgresConfiguration(connectionString: base), logger: logger)
let recipients = EscalationRecipients(catalogue: bundle.catalogue)
nonisolated(unsafe) var tables: [String: String] = [:]

/// One side's round: a fresh database, every batch in a transaction of its own; events/s and CPU per event.
func run(_ side: String, _ input: [KafkaMessage]) throws -> (rate: Double, process: Double, backend: Double) {
    let name = "projection_bench_\(UUID().uuidString.prefix(8).lowercased())"
    try admin.execute("CREATE DATABASE \(name)", [])
    defer { _ = try? admin.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)", []) }
    let url = head[..<head.lastIndex(of: "/")!] + "/" + name
    let database = try PostgresConnection.connect(PostgresConfiguration(connectionString: String(url)), logger: logger)
    try PostgresMigrator(directory: URL(fileURLWithPath: migrations)).migrate(database)
    let backend = try database.query("SELECT pg_backend_pid()::text AS pid", []).first!.decode(String.self, "pid")
    let writer: any BatchWriter = StatusProjection(
        calendar: bundle.calendar, policy: DeadlinePolicy(), recipients: recipients, catalogue: bundle.catalogue,
        logger: logger)
    try writer.prepare(database)
    let processBefore = cpuSeconds("self")
    let backendBefore = cpuSeconds(backend)
    let started = ContinuousClock.now
    var processed = 0
    for start in stride(from: 0, to: input.count, by: batch) {
        let report = try database.transaction { tx in
            try writer.write(Array(input[start..<min(start + batch, input.count)]), into: tx)
        }
        processed += report.processed + report.skippedDuplicates
    }
    let wall = seconds(ContinuousClock.now - started)
    guard processed == input.count else { fail("\(side): \(processed) of \(input.count) events processed") }
    // What the rounds must agree on (ProjectionDifferentialTests checks the tables against the reference).
    let rows = try database.query(
        "SELECT (SELECT count(*) FROM dossier_timeline)::text || ' timeline rows, ' || (SELECT count(*) FROM deadlines WHERE status = 'open')::text || ' open deadlines' AS n",
        []
    ).first!.decode(String.self, "n")
    // Every round writes the same events: the same rows.
    if let earlier = tables[side], earlier != rows { fail("\(side): \(rows), an earlier round \(earlier)") }
    tables[side] = rows
    return (Double(input.count) / wall, (cpuSeconds("self") - processBefore) / Double(input.count) * 1e6,
            (cpuSeconds(backend) - backendBefore) / Double(input.count) * 1e6)
}

let input = try events(seed: 42)
print("status projection: \(input.count) events of \(dossiers) dossiers, batches of \(batch), \(rounds) rounds, sides \(sides.joined(separator: " and ")); load average \(loadAverage())")
var results: [String: [(rate: Double, process: Double, backend: Double)]] = [:]
for round in 1...rounds {
    let order = round % 2 == 1 ? sides : sides.reversed()
    var line = "  round \(round):"
    for side in order {
        let result = try run(side, input)
        results[side, default: []].append(result)
        line += String(format: " %@ %.0f events/s (CPU per event: process %.1f µs, PostgreSQL backend %.1f µs);",
                       side, result.rate, result.process, result.backend)
    }
    print(line + " load average \(loadAverage())")
}
var summary = "RESULT projection"
for side in sides {
    let list = results[side] ?? []
    summary += String(format: " %@=%.0f events/s (process %.1f µs, backend %.1f µs per event)", side,
                      median(list.map(\.rate)), median(list.map(\.process)), median(list.map(\.backend)))
}
print(summary + " (medians); each round: \(tables["sets"] ?? "?")")
