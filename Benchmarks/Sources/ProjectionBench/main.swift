import Authority
import BenchSupport
import CProjectionRaw
import EffectivelyOnce
import Foundation
import Kafka
import Logging
import Messages
import Postgres
import Services

/// The status projection in release mode, without Kafka: the coordinator's projection by sets (``StatusProjection``)
/// writing the system's events into a fresh database per round, beside its same-run limit: **the C replay** — the
/// very calls the projection made on its connection for the same batches (statements with their parameters, COPY
/// data, BEGIN/COMMIT; recorded once by ``PostgresRecorder`` in a capture round that is not measured), sent again
/// through raw libpq into a fresh database, with nothing decoded or computed. The C replay's rate is what the
/// projection's statements cost PostgreSQL and the round trips alone. (The per-event path the sets replaced survives
/// only as the test-only `ReferenceStatusProjection`, on the Store's package-level statements, which this separate
/// package cannot call.)
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
let sides = ["sets", "C replay"]

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

/// What every side's database must hold after the events (ProjectionDifferentialTests checks the projection's
/// tables against the per-event reference; here the sides and rounds must agree).
let tablesQuery = """
    SELECT (SELECT count(*) FROM dossier_timeline)::text || ' timeline rows, ' \
    || (SELECT count(*) FROM deadlines WHERE status = 'open')::text || ' open deadlines, ' \
    || (SELECT count(*) FROM dossier_status)::text || ' status rows, ' \
    || (SELECT count(*) FROM outbox)::text || ' outbox rows, ' \
    || (SELECT count(*) FROM processed_events)::text || ' event ids, status digest ' \
    || (SELECT coalesce(md5(string_agg(s::text, ',' ORDER BY dossier_id)), '-') FROM dossier_status s) AS n
    """

/// A fresh, migrated database: its URL and an open connection (dropped with `drop`).
func freshDatabase() throws -> (url: String, connection: PostgresConnection, drop: () -> Void) {
    let name = "projection_bench_\(UUID().uuidString.prefix(8).lowercased())"
    try admin.execute("CREATE DATABASE \(name)", [])
    let url = String(head[..<head.lastIndex(of: "/")!] + "/" + name)
    let database = try PostgresConnection.connect(PostgresConfiguration(connectionString: url), logger: logger)
    try PostgresMigrator(directory: URL(fileURLWithPath: migrations)).migrate(database)
    return (url, database, { _ = try? admin.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)", []) })
}

func agree(_ side: String, _ rows: String) {
    // Every round writes the same events: the same rows; the C replay the same as the projection.
    if let earlier = tables[side], earlier != rows { fail("\(side): \(rows), an earlier round \(earlier)") }
    tables[side] = rows
}

/// Runs the projection over `input` on `database`, a batch per transaction; the events it counted.
func project(_ input: [KafkaMessage], on database: PostgresConnection) throws -> Int {
    let writer: any BatchWriter = StatusProjection(
        calendar: bundle.calendar, policy: DeadlinePolicy(), recipients: recipients, catalogue: bundle.catalogue,
        logger: logger)
    try writer.prepare(database)
    var processed = 0
    for start in stride(from: 0, to: input.count, by: batch) {
        let report = try database.transaction { tx in
            try writer.write(Array(input[start..<min(start + batch, input.count)]), into: tx)
        }
        processed += report.processed + report.skippedDuplicates
    }
    return processed
}

/// The calls of a capture round, laid out for `raw_projection_replay` (strings duplicated into C memory, freed by
/// `free()`).
final class RawRecording {
    var calls: [raw_call] = []
    var sqls: [UnsafeMutablePointer<CChar>?] = []
    var types: [UInt32] = []
    var values: [UnsafeMutablePointer<CChar>?] = []
    var data: [UInt8] = []
    var statements = 0, copies = 0, transactions = 0, copyBytes = 0

    init(_ recorded: [PostgresRecorder.Call]) {
        var sqlIndex: [String: Int32] = [:]
        func index(_ sql: String) -> Int32 {
            if let known = sqlIndex[sql] { return known }
            sqls.append(strdup(sql))
            sqlIndex[sql] = Int32(sqls.count - 1)
            return Int32(sqls.count - 1)
        }
        for call in recorded {
            switch call {
            case .script(let sql):
                if sql == "COMMIT" { transactions += 1 }
                calls.append(raw_call(kind: Int32(RAW_CALL_SCRIPT), statement: index(sql), param_start: 0, param_count: 0, data_start: 0, data_end: 0))
            case .query(let sql, let parameterTypes, let parameterValues, let prepared):
                statements += 1
                calls.append(raw_call(
                    kind: Int32(prepared ? RAW_CALL_PREPARED : RAW_CALL_PARAMS), statement: index(sql),
                    param_start: Int32(values.count), param_count: Int32(parameterValues.count), data_start: 0, data_end: 0))
                types += parameterTypes
                values += parameterValues.map { $0.map { strdup($0) } ?? nil }
            case .copy(let statement, let bytes):
                copies += 1
                copyBytes += bytes.count
                calls.append(raw_call(
                    kind: Int32(RAW_CALL_COPY), statement: index(statement), param_start: 0, param_count: 0,
                    data_start: Int64(data.count), data_end: Int64(data.count + bytes.count)))
                data += bytes
            case .prepare, .executePrepared, .unsupported:
                fail("the projection made a call the C replay does not reproduce: \(call)")
            }
        }
    }

    deinit {
        sqls.forEach { free($0) }
        values.forEach { free($0) }
    }
}

/// The capture round (not measured): the projection's calls for the whole input, as sent.
func capture(_ input: [KafkaMessage]) throws -> RawRecording {
    let fresh = try freshDatabase()
    defer { fresh.drop() }
    let recorder = PostgresRecorder()
    fresh.connection.record(into: recorder)
    let processed = try project(input, on: fresh.connection)
    fresh.connection.record(into: nil)
    guard processed == input.count else { fail("capture: \(processed) of \(input.count) events processed") }
    agree("capture", try fresh.connection.query(tablesQuery, []).first!.decode(String.self, "n"))
    return RawRecording(recorder.calls)
}

/// One side's round: a fresh database, every batch in a transaction of its own; events/s and CPU per event.
func run(_ side: String, _ input: [KafkaMessage], _ recording: RawRecording) throws
    -> (rate: Double, process: Double, backend: Double)
{
    let fresh = try freshDatabase()
    defer { fresh.drop() }
    let database = fresh.connection
    let processBefore: Double, backendBefore: Double, wall: Double, backend: String
    if side == "C replay" {
        var error = [CChar](repeating: 0, count: 2048)
        let errorSize = error.count
        guard let raw = raw_projection_connect(fresh.url, &error, errorSize) else {
            fail("C replay: \(String(cString: error))")
        }
        defer { raw_projection_finish(raw) }
        backend = String(raw_projection_backend_pid(raw))
        var elapsed = 0.0
        processBefore = cpuSeconds("self")
        backendBefore = cpuSeconds(backend)
        let made = recording.sqls.withUnsafeBufferPointer { sqls in
            recording.values.withUnsafeBufferPointer { values in
                sqls.withMemoryRebound(to: UnsafePointer<CChar>?.self) { sqls in
                    values.withMemoryRebound(to: UnsafePointer<CChar>?.self) { values in
                        raw_projection_replay(
                            raw, recording.calls, Int64(recording.calls.count), sqls.baseAddress,
                            Int32(recording.sqls.count), recording.types, values.baseAddress, recording.data, &elapsed,
                            &error, errorSize)
                    }
                }
            }
        }
        wall = elapsed
        guard made == recording.calls.count else { fail("C replay failed: \(String(cString: error))") }
    } else {
        backend = try database.query("SELECT pg_backend_pid()::text AS pid", []).first!.decode(String.self, "pid")
        processBefore = cpuSeconds("self")
        backendBefore = cpuSeconds(backend)
        let started = ContinuousClock.now
        let processed = try project(input, on: database)
        wall = seconds(ContinuousClock.now - started)
        guard processed == input.count else { fail("\(side): \(processed) of \(input.count) events processed") }
    }
    let process = cpuSeconds("self") - processBefore
    let backendCPU = cpuSeconds(backend) - backendBefore
    agree(side, try database.query(tablesQuery, []).first!.decode(String.self, "n"))
    return (Double(input.count) / wall, process / Double(input.count) * 1e6, backendCPU / Double(input.count) * 1e6)
}

let input = try events(seed: 42)
print("status projection: \(input.count) events of \(dossiers) dossiers, batches of \(batch), \(rounds) rounds, sides \(sides.joined(separator: " and ")); load average \(loadAverage())")
let recording = try capture(input)
print("  capture (not measured): \(recording.transactions) transactions, \(recording.statements) statements with parameters, \(recording.copies) COPY (\(recording.copyBytes / 1024) KiB), \(recording.calls.count) calls in all, \(recording.sqls.count) distinct SQL texts; load average \(loadAverage())")
var results: [String: [(rate: Double, process: Double, backend: Double)]] = [:]
for round in 1...rounds {
    let order = round % 2 == 1 ? sides : sides.reversed()
    var line = "  round \(round):"
    for side in order {
        let result = try run(side, input, recording)
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
if tables["sets"] != tables["C replay"] || tables["sets"] != tables["capture"] {
    fail("the C replay's tables differ from the projection's: \(tables)")
}
let ratio = median(zip(results["sets"] ?? [], results["C replay"] ?? []).map { $0.0.rate / $0.1.rate })
print(summary + String(format: " sets/C=%.2fx (median of the rounds' ratios); load average %@; each round: %@", ratio, loadAverage(), tables["sets"] ?? "?"))
