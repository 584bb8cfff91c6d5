import BenchSupport
import CPostgresRaw
import Foundation
import Logging
import Postgres

/// Rows shaped like a department worker's decision row, written through the `Postgres` module in every way it
/// offers, against raw libpq COPY in C on the same rows and the same text, in the same run.
///
/// Every measurement writes into a fresh table (unique name, no index, default durability) that is dropped
/// afterwards; raw and module COPY alternate within each round; medians are reported.
@main
struct PostgresBench {
    static let columns = [
        "dossier_id", "department", "step", "outcome", "review", "rule_id", "rule_version", "delegation_id",
        "decided_at", "source_topic", "source_partition", "source_offset", "explanation",
    ]

    static func main() throws {
        let options = Options.parse(Array(CommandLine.arguments.dropFirst()))
        guard let url = ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty else {
            fail("DATABASE_URL is not set (run through ./tools/bench, or export the lines of .dev/env)")
        }
        var logger = Logger(label: "postgres-bench")
        logger.logLevel = .warning
        let connection = try PostgresConnection.connect(PostgresConfiguration(connectionString: url), logger: logger)
        let server = try connection.query("SHOW server_version").first?.decode(String.self, at: 0) ?? "?"
        let rows = (0..<options.maxRows).map(DecisionRow.init(index:))
        let averageText = rows.prefix(1000).map { $0.textFields.reduce(12) { $0 + ($1?.utf8.count ?? 2) } }.reduce(0, +) / 1000
        print("""
            PostgresBench: decision rows of 13 columns (~\(averageText) bytes of COPY text, explanation jsonb \
            ~\(rows[0].explanation.text.utf8.count) bytes), \(options.rounds) rounds, PostgreSQL \(server)
            """)
        let prefix = "bench_\(getpid())_\(UInt32.random(in: 0...UInt32.max))"
        var tableNumber = 0
        func freshTable() throws -> String {
            tableNumber += 1
            let name = "\(prefix)_\(tableNumber)"
            try connection.executeScript("""
                CREATE TABLE \(name) (
                    dossier_id text NOT NULL, department text NOT NULL, step integer NOT NULL, outcome text NOT NULL,
                    review text NOT NULL, rule_id text, rule_version text NOT NULL, delegation_id text,
                    decided_at timestamptz NOT NULL, source_topic text NOT NULL, source_partition integer NOT NULL,
                    source_offset bigint NOT NULL, explanation jsonb NOT NULL)
                """)
            return name
        }
        func finish(_ table: String, expecting count: Int) throws {
            let stored = try connection.query("SELECT count(*) FROM \(table)", []).first?.decode(Int.self, at: 0) ?? -1
            try connection.executeScript("DROP TABLE \(table)")
            if stored != count { fail("\(table): \(stored) rows stored, expected \(count)") }
        }
        let insertSQL = { (table: String) in
            "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES (\((1...13).map { "$\($0)" }.joined(separator: ", ")))"
        }
        let copySQL = { (table: String) in "COPY \(table) (\(columns.joined(separator: ", "))) FROM STDIN" }

        // The raw side gets the same rows as C strings, made before the clock starts (as the module's rows are).
        let rawCopyRows = rows.prefix(options.copyRows)
        let fields = rawCopyRows.flatMap { row in row.textFields.map { $0.map { strdup($0) } ?? nil } }
        defer { fields.forEach { free($0) } }

        var results: [Measure: [Double]] = [:]
        var cpuPerRow: [Measure: [Double]] = [:]
        var copyRatios: [Double] = []
        for round in 1...options.rounds {
            var line: [String] = []
            var roundRates: [Measure: Double] = [:]
            func record(_ measure: Measure, _ count: Int, seconds: Double, cpu: Double) {
                let rate = Double(count) / seconds
                results[measure, default: []].append(rate)
                cpuPerRow[measure, default: []].append(cpu / Double(count) * 1e6)
                roundRates[measure] = rate
                line.append(String(format: "%@ %.0f (%.2f µs CPU/row)", measure.short as NSString, rate, cpu / Double(count) * 1e6))
            }
            /// Times `body` (wall clock and this thread's CPU) on a fresh table, then checks and drops the table.
            func measure(_ measure: Measure, rows count: Int, _ body: (String) throws -> Void) throws {
                let table = try freshTable()
                let cpu = raw_pg_thread_cpu_seconds()
                let start = now()
                try body(table)
                record(measure, count, seconds: now() - start, cpu: raw_pg_thread_cpu_seconds() - cpu)
                try finish(table, expecting: count)
            }
            if !options.copyOnly {
                // Single INSERT, autocommit: one round trip and one commit (WAL flush) per row.
                try measure(.insert, rows: options.insertRows) { table in
                    let sql = insertSQL(table)
                    for row in rows.prefix(options.insertRows) { try connection.execute(sql, row.parameters) }
                }
                // Prepared INSERT in one transaction: one round trip per row, one commit.
                try measure(.prepared, rows: options.preparedRows) { table in
                    let name = "\(table)_insert"
                    try connection.prepare(name, insertSQL(table))
                    try connection.transaction { connection in
                        for row in rows.prefix(options.preparedRows) { try connection.executePrepared(name, row.parameters) }
                    }
                }
                // Pipeline of prepared INSERTs in one transaction (the module syncs every 1,000 statements).
                try measure(.pipeline, rows: options.pipelineRows) { table in
                    let name = "\(table)_insert"
                    try connection.prepare(name, insertSQL(table))
                    try connection.transaction { connection in
                        let statements = rows.prefix(options.pipelineRows).map { PipelineStatement.prepared(name, $0.parameters) }
                        try connection.pipeline(statements)
                    }
                }
            }
            // COPY: raw C, module with typed values, module with text values — in an order that turns every round.
            let copies: [Measure] = [.rawCopy, .moduleCopy, .moduleCopyText]
            for index in 0..<copies.count {
                switch copies[(index + round - 1) % copies.count] {
                case .rawCopy:
                    let table = try freshTable()
                    var seconds = 0.0, cpu = 0.0
                    var error = [CChar](repeating: 0, count: 512)
                    let copied = fields.withUnsafeBufferPointer { buffer in
                        buffer.withMemoryRebound(to: UnsafePointer<CChar>?.self) { pointers in
                            raw_pg_copy(url, copySQL(table), pointers.baseAddress, Int64(rawCopyRows.count), 13,
                                        &seconds, &cpu, &error, error.count)
                        }
                    }
                    if copied != rawCopyRows.count {
                        fail("raw COPY: \(copied) rows: \(String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))")
                    }
                    record(.rawCopy, options.copyRows, seconds: seconds, cpu: cpu)
                    try finish(table, expecting: options.copyRows)
                case .moduleCopy:
                    try measure(.moduleCopy, rows: options.copyRows) { table in
                        let copied = try connection.copyIn(copySQL(table)) { writer in
                            for row in rows.prefix(options.copyRows) { try writer.row(row.parameters) }
                        }
                        if copied != options.copyRows { fail("module COPY: \(copied) rows") }
                    }
                default:
                    try measure(.moduleCopyText, rows: options.copyRows) { table in
                        let copied = try connection.copyIn(copySQL(table)) { writer in
                            for row in rows.prefix(options.copyRows) { try writer.row(text: row.textFields) }
                        }
                        if copied != options.copyRows { fail("module COPY (text): \(copied) rows") }
                    }
                }
            }
            copyRatios.append(roundRates[.moduleCopy]! / roundRates[.rawCopy]!)
            print("round \(round): " + line.joined(separator: ", ") + " rows/s")
            fflush(nil)
        }

        let raw = median(results[.rawCopy]!)
        print("")
        print("| PostgreSQL (\(options.rounds) rounds, medians) | rows per round | rows/s | / raw COPY | client CPU per row |")
        print("|---|---:|---:|---:|---:|")
        for measure in Measure.allCases {
            guard let values = results[measure] else { continue }
            let value = median(values)
            let count = switch measure {
            case .insert: options.insertRows
            case .prepared: options.preparedRows
            case .pipeline: options.pipelineRows
            default: options.copyRows
            }
            print(String(format: "| %@ | %d | %.0f | %.2f | %.2f µs |", measure.title as NSString, count, value, value / raw,
                         median(cpuPerRow[measure]!)))
        }
        let module = median(results[.moduleCopy]!), moduleText = median(results[.moduleCopyText]!)
        print(String(format: "(module COPY / raw COPY per round: median %.2f, range %.2f–%.2f; client CPU is this process's "
                     + "calling thread — the server's work is not in it)", median(copyRatios), copyRatios.min()!, copyRatios.max()!))
        print(String(format: "RESULT postgres copy raw=%.0f module=%.0f ratio=%.3f module-text=%.0f ratio-text=%.3f",
                     raw, module, module / raw, moduleText, moduleText / raw))
        if !options.copyOnly {
            print(String(format: "RESULT postgres insert=%.0f prepared=%.0f pipeline=%.0f", median(results[.insert]!),
                         median(results[.prepared]!), median(results[.pipeline]!)))
        }
    }
}

enum Measure: CaseIterable, Hashable {
    case insert, prepared, pipeline, moduleCopy, moduleCopyText, rawCopy

    var short: String {
        switch self {
        case .insert: "insert"
        case .prepared: "prepared"
        case .pipeline: "pipeline"
        case .moduleCopy: "copy"
        case .moduleCopyText: "copy-text"
        case .rawCopy: "raw-copy"
        }
    }

    var title: String {
        switch self {
        case .insert: "single INSERT, autocommit (`execute`)"
        case .prepared: "prepared INSERT, one transaction (`prepare` + `executePrepared`)"
        case .pipeline: "pipeline of prepared INSERTs, one transaction (`pipeline`)"
        case .moduleCopy: "COPY through the module, typed values (`copyIn` + `row(_:)`)"
        case .moduleCopyText: "COPY through the module, text values (`copyIn` + `row(text:)`)"
        case .rawCopy: "**raw COPY in C** (libpq `PQputCopyData`, same rows and text) — baseline"
        }
    }
}

/// A decision row as a worker writes it.
struct DecisionRow {
    static let departments = ["industry-trade", "environment", "labour", "culture", "industrial-zones"]
    static let outcomes = ["approve", "refuse", "supplement", "escalate", "forward"]

    let dossierID: String
    let department: String
    let step: Int32
    let outcome: String
    let review: String
    let ruleID: String?
    let ruleVersion: String
    let delegationID: String?
    let decidedAt: Date
    let sourceTopic: String
    let sourcePartition: Int32
    let sourceOffset: Int64
    let explanation: PostgresJSON

    init(index: Int) {
        var generator = SplitMix64(seed: UInt64(index) &* 0x2545_F491_4F6C_DD1D &+ 7)
        dossierID = UUID(uuid: uuidBytes(&generator)).uuidString.lowercased()
        department = Self.departments[index % Self.departments.count]
        step = Int32(index % 3)
        outcome = Self.outcomes[(index / 7) % Self.outcomes.count]
        review = index % 4 == 0 ? "official" : "auto"
        ruleID = outcome == "escalate" ? nil : "R-\(department)-\(index % 20)"
        ruleVersion = String(format: "%016llx%016llx%016llx%016llx", generator.next(), generator.next(), generator.next(), generator.next())
        delegationID = index % 5 == 0 ? nil : "UQ-\(2025)-\(department)-\(index % 11)"
        decidedAt = Date(timeIntervalSince1970: 1_795_000_000 + Double(index) * 0.013)
        sourceTopic = "dossiers.\(department)"
        sourcePartition = Int32(index % 12)
        sourceOffset = Int64(index / 12)
        // ~200 bytes of JSON, with a quote, a backslash and a non-ASCII name, as real explanations have.
        explanation = PostgresJSON(#"{"rule":"\#(ruleID ?? "none")","matched":["procedure","documents","capital"],"#
            + #""facts":{"capitalVnd":\#(5_000_000_000 + index),"areaM2":\#(index % 500)},"#
            + #""note":"Phường Hoàn Kiếm \"one-stop\" \\ desk","delegation":"\#(delegationID ?? "none")"}"#)
    }

    var parameters: [(any PostgresEncodable)?] {
        [dossierID, department, step, outcome, review, ruleID, ruleVersion, delegationID, decidedAt, sourceTopic,
         sourcePartition, sourceOffset, explanation]
    }

    /// The same values in PostgreSQL's text form (what the module sends for `parameters`).
    var textFields: [String?] { parameters.map { $0?.postgresText } }
}


struct Options {
    var rounds = 5
    var insertRows = 2_000
    var preparedRows = 5_000
    var pipelineRows = 30_000
    var copyRows = 100_000
    var copyOnly = false
    var maxRows: Int { max(insertRows, preparedRows, pipelineRows, copyRows) }

    static func parse(_ arguments: [String]) -> Options {
        var options = Options()
        var iterator = arguments.makeIterator()
        while let argument = iterator.next() {
            func value() -> Int {
                guard let text = iterator.next(), let value = Int(text), value > 0 else {
                    fail("\(argument) needs a positive integer")
                }
                return value
            }
            switch argument {
            case "--rounds": options.rounds = value()
            case "--insert-rows": options.insertRows = value()
            case "--prepared-rows": options.preparedRows = value()
            case "--pipeline-rows": options.pipelineRows = value()
            case "--copy-rows": options.copyRows = value()
            case "--copy-only": options.copyOnly = true  // for profiling the COPY paths
            case "-h", "--help":
                print("usage: PostgresBench [--rounds 5] [--insert-rows 2000] [--prepared-rows 5000] [--pipeline-rows 30000] [--copy-rows 100000] [--copy-only]")
                exit(0)
            default: fail("unknown argument \(argument)")
            }
        }
        return options
    }
}

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}


