import Authority
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

/// One department worker end to end — consume, decide, write decision + offsets + outbox in one transaction per
/// batch — next to the raw rates of the same run: consuming the same messages (no processing) and a C program
/// replaying the worker's very transactions (same decision and outbox rows, same batches, same offset updates)
/// through libpq. Then the latency intake → decision row with reception and the worker running as in production.
///
/// Needs the devbroker and PostgreSQL with the migrations applied (`./tools/dev-up; set -a; . .dev/env; set +a`).
/// It empties `decisions`, `outbox`, `dossiers` and the benchmark's consumer offsets: never point it at data you
/// want to keep.
@main
struct WorkerBench {
    struct Options {
        var mode = "all"
        var messages = 40_000
        var batchSizes = [500, 1000]
        var rounds = 3
        var latencyRate = 1000
        var latencySeconds = 20.0
        var latencyRounds = 3
        var latencyBatchSize = 500
        /// SQL run between latency rounds (a diagnosis: e.g. `VACUUM outbox` or `TRUNCATE outbox`).
        var latencyBetween: String?
        var fetchWaitMaxMs: Int?
        /// `EffectivelyOnceConsumer.Settings.overlapsTransactions` (off: `--no-overlap`).
        var overlap = true
        /// The throughput rounds' worker connects as a real login of its department's role (every row guard and
        /// policy on, as deployed); `--worker-as-owner` runs it as DATABASE_URL's role (the owner: no guards), as
        /// before 2026-12-07 16:30. The raw C replay always runs as the owner.
        var workerAsOwner = false
        /// `--statements`: pg_stat_statements and rows written per table over each timed worker round (a diagnosis;
        /// the cluster must preload pg_stat_statements, which costs some time of its own).
        var statements = false
        /// `--mode audit`: the share of decisions a director signs with signed commands before the replay verifies
        /// them (0: outcome only), and the signer's key (`--signer p256|rsa2048`).
        var signedShare = 0.5
        var signer = "p256"
        var rules = "deploy"
        var markdown: String?
        var splitSample = 10_000
        var seed: UInt64 = 20_261_127
        var database = "motcua_workerbench"
        var migrations = "schemas/postgres"

        static let usage = """
            usage: WorkerBench [--mode all|throughput|latency|split|audit] [--messages N] [--batch-sizes 500,1000] [--rounds N]
                               [--latency-rate N] [--latency-seconds S] [--latency-rounds N] [--latency-batch-size N]
                               [--latency-between SQL]
                               [--fetch-wait-max-ms MS] [--no-overlap] [--worker-as-owner] [--statements]
                               [--signed-share 0…1] [--signer p256|rsa2048] [--rules DIR] [--markdown FILE] [--seed N]
                               [--database NAME] [--migrations DIR]
            DATABASE_URL names the cluster; the benchmark creates and migrates its own database NAME there
            (default motcua_workerbench) and empties its tables between rounds. The latency run's consumers use
            fetch.wait.max.ms 10 unless --fetch-wait-max-ms or KAFKA_FETCH_WAIT_MAX_MS says otherwise (the
            devbroker holds an empty fetch for that long even when data arrives; librdkafka's default is 500).
            --latency-between runs SQL (no parameters) between latency rounds, to tell what makes later rounds slower.
            """

        static func parse(_ arguments: [String]) -> Options {
            var options = Options()
            var i = 0
            func value() -> String {
                i += 1
                guard i < arguments.count else { fail("\(arguments[i - 1]) needs a value\n\(usage)") }
                return arguments[i]
            }
            func int(_ text: String) -> Int {
                guard let n = Int(text), n > 0 else { fail("expected a positive integer, got '\(text)'") }
                return n
            }
            while i < arguments.count {
                switch arguments[i] {
                case "--mode": options.mode = value()
                case "--messages": options.messages = int(value())
                case "--batch-sizes": options.batchSizes = value().split(separator: ",").map { int(String($0)) }
                case "--rounds": options.rounds = int(value())
                case "--latency-rate": options.latencyRate = int(value())
                case "--latency-seconds": options.latencySeconds = Double(int(value()))
                case "--latency-rounds": options.latencyRounds = int(value())
                case "--latency-batch-size": options.latencyBatchSize = int(value())
                case "--latency-between": options.latencyBetween = value()
                case "--fetch-wait-max-ms": options.fetchWaitMaxMs = int(value())
                case "--no-overlap": options.overlap = false
                case "--worker-as-owner": options.workerAsOwner = true
                case "--statements": options.statements = true
                case "--signed-share":
                    guard let share = Double(value()), share >= 0, share <= 1 else { fail("--signed-share takes 0…1") }
                    options.signedShare = share
                case "--signer":
                    options.signer = value()
                    guard ["p256", "rsa2048"].contains(options.signer) else { fail("--signer takes p256 or rsa2048") }
                case "--rules": options.rules = value()
                case "--markdown": options.markdown = value()
                case "--split-sample": options.splitSample = int(value())
                case "--seed": options.seed = UInt64(int(value()))
                case "--database": options.database = value()
                case "--migrations": options.migrations = value()
                case "-h", "--help":
                    print(usage)
                    exit(0)
                default: fail("unknown argument '\(arguments[i])'\n\(usage)")
                }
                i += 1
            }
            guard ["all", "throughput", "latency", "split", "audit"].contains(options.mode) else { fail(usage) }
            return options
        }
    }

    static func main() throws {
        let options = Options.parse(Array(CommandLine.arguments.dropFirst()))
        let environment = ProcessInfo.processInfo.environment
        guard let developmentURL = environment["DATABASE_URL"], environment["KAFKA_BOOTSTRAP"] != nil else {
            fail("DATABASE_URL and KAFKA_BOOTSTRAP must be set (./tools/dev-up; set -a; . .dev/env; set +a)")
        }
        // A database of its own in the same cluster: the benchmark empties its tables between rounds.
        let databaseURL = try benchDatabase(developmentURL, name: options.database, migrations: options.migrations)
        setenv("DATABASE_URL", databaseURL, 1)
        // The executables' own wiring: environment, deploy directory, logging and the Prometheus metrics factory.
        var configuration = RuntimeConfiguration()
        configuration.rules = options.rules
        configuration.logLevel = .warning
        configuration.topics = Topics(prefix: environment["MOTCUA_TOPIC_PREFIX"] ?? "")
        let runtime = try Runtime.make(configuration, label: "worker-bench")
        let logger = runtime.logger
        let admin = try KafkaAdmin(options: runtime.kafka, logger: logger)
        var out = Report()
        out.line("WorkerBench \(ISO8601DateFormatter().string(from: Date())) on \(machineDescription())")
        out.line(
            "department \(Workload.department) (\(runtime.bundle.ruleSets[Workload.department]!.rules.count)-rule table), "
                + "broker \(environment["KAFKA_BOOTSTRAP"]!), \(postgresVersion(runtime, logger))")

        if options.mode == "split" {
            // The CPU split alone, on generated tasks (for profilers): no broker or database traffic.
            var workload = Workload(bundle: runtime.bundle, seed: options.seed)
            let encoder = MessageCoding.encoder()
            let now = runtime.clock.now()
            let values = try (0..<options.splitSample).map {
                Array(try encoder.encode(workload.stepTask(at: now, sequence: $0)))
            }
            let split = try CPUSplit.measure(values, bundle: runtime.bundle, clock: runtime.clock)
            for stage in split.stages { out.line("  \(stage.name): \(format(stage.microseconds, 1)) µs") }
            out.line("  total: \(format(split.total, 1)) µs")
            return
        }
        if options.mode == "audit" {
            try audit(options, runtime: runtime, admin: admin, databaseURL: databaseURL, out: &out)
        } else if options.mode != "latency" {
            try throughput(options, runtime: runtime, admin: admin, databaseURL: databaseURL, out: &out)
        }
        if options.mode != "throughput" && options.mode != "audit" {
            try latency(options, runtime: runtime, admin: admin, out: &out)
        }
        if let path = options.markdown {
            try out.markdown.joined(separator: "\n").appending("\n").write(
                toFile: path, atomically: true, encoding: .utf8)
            print("markdown written to \(path)")
        }
    }

    static func throughput(
        _ options: Options, runtime: Runtime, admin: KafkaAdmin, databaseURL: String, out: inout Report
    ) throws {
        let logger = runtime.logger
        let probe = try PostgresConnection.connect(runtime.postgres, logger: logger)
        var bench = ThroughputBench(
            runtime: runtime, admin: admin, logger: logger, databaseURL: databaseURL,
            postgresCPU: PostgresCPU(connection: probe))
        bench.overlap = options.overlap
        if options.statements {
            try StatementStatistics.install(probe)
            bench.statements = true
        }
        if !options.workerAsOwner {
            bench.workerPostgres = PostgresConfiguration(
                connectionString: try workerLogin(databaseURL, department: Workload.department))
        }
        out.line(
            "the worker connects as \(options.workerAsOwner ? "the owner (no row guards)" : "a login of its department's role (row guards on)"); "
                + "the raw replay as the owner")
        let tasks = try bench.produce(count: options.messages, seed: options.seed)
        let perPartition = Double(tasks.count) * (tasks.averageBytes + 200) / Double(tasks.start.count) / 1_048_576
        out.line(
            "produced \(tasks.count) step tasks to \(tasks.topic) (\(tasks.start.count) partitions), "
                + "\(format(tasks.averageBytes)) bytes each on average, ~\(format(perPartition, 1)) MiB per partition")

        let split = try CPUSplit.measure(
            Array(tasks.values.prefix(options.splitSample)), bundle: runtime.bundle,
            clock: runtime.clock)
        out.line("")
        out.line(
            "CPU per dossier before PostgreSQL (one thread, \(min(options.splitSample, tasks.count)) tasks, no database):"
        )
        for stage in split.stages {
            out.line(
                "  \(stage.name.padding(toLength: 48, withPad: " ", startingAt: 0)) \(format(stage.microseconds, 1)) µs"
            )
        }
        out.line(
            "  \("total".padding(toLength: 48, withPad: " ", startingAt: 0)) \(format(split.total, 1)) µs "
                + "(≤ \(grouped(1e6 / split.total))/s on one core)")

        struct Row {
            var batch: Int
            var worker: [Double] = []
            var raw: [Double] = []
            var consume: [Double] = []
            var join: [Double] = []
            var write: [Double] = []
            var commit: [Double] = []
            var poll: [Double] = []
            var processCores: [Double] = []
            var machineCores: [Double] = []
            var batches: [Double] = []
            var workerProcess: [Double] = []
            var workerPostgres: [Double] = []
            var rawProcess: [Double] = []
            var rawPostgres: [Double] = []
        }
        var rows: [Row] = []
        var mix: [(String, Int)] = []
        var sizes: (decision: Double, explanation: Double, outbox: Double) = (0, 0, 0)
        for batchSize in options.batchSizes {
            out.line("")
            out.line(
                "batch size \(batchSize): warm-up worker round (its transactions are what the raw C program replays)")
            let warm = try bench.workerRound(tasks, batchSize: batchSize, label: "\(batchSize).warm")
            let replay = try bench.collectReplay(tasks, round: warm)
            if mix.isEmpty {
                mix = try bench.outcomes()
                sizes = try bench.rowSizes()
            }
            out.line(
                "  warm-up \(grouped(warm.rate))/s over \(warm.batches.count) transactions; "
                    + "replay: \(replay.rows) decisions, \(replay.count("stages")) stages, "
                    + "\(replay.count("stage_handovers")) slip lines, \(replay.count("outbox")) outbox rows, "
                    + "\(replay.moves.count) offset updates")
            var row = Row(batch: batchSize)
            for round in 1...options.rounds {
                var worker: WorkerRound?
                var raw = RawRound(rate: 0, processMicros: 0, postgresMicros: 0)
                // Alternate which goes first, so that neither always runs on a fresher database.
                for side in round % 2 == 1 ? ["worker", "raw"] : ["raw", "worker"] {
                    if side == "worker" {
                        worker = try bench.workerRound(tasks, batchSize: batchSize, label: "\(batchSize).\(round)")
                    } else {
                        raw = try bench.rawCopy(tasks, replay: replay)
                    }
                }
                let consume = try bench.rawConsume(tasks, batchSize: batchSize)
                let w = worker!
                row.worker.append(w.rate)
                row.raw.append(raw.rate)
                row.workerProcess.append(w.processMicros)
                row.workerPostgres.append(w.postgresMicros)
                row.rawProcess.append(raw.processMicros)
                row.rawPostgres.append(raw.postgresMicros)
                row.consume.append(consume)
                row.join.append(w.wallWithJoin - w.seconds)
                row.write.append(w.writeSeconds / w.seconds)
                row.commit.append(w.commitSeconds / w.seconds)
                row.poll.append(w.pollSeconds / w.seconds)
                row.processCores.append(w.processCores)
                row.machineCores.append(w.machineCores)
                row.batches.append(Double(w.batches.count))
                if !w.statements.isEmpty {
                    out.line("")
                    out.table(w.statements)
                }
                if !raw.statements.isEmpty {
                    out.line("")
                    out.table(raw.statements)
                }
                out.line(
                    "  round \(round): worker \(grouped(w.rate))/s (\(format(w.seconds, 2)) s, \(w.batches.count) "
                        + "transactions; +\(format(w.wallWithJoin - w.seconds, 1)) s group join before)  raw COPY "
                        + "\(grouped(raw.rate))/s  raw consume \(grouped(consume))/s  worker/raw \(format(w.rate / raw.rate, 2))  "
                        + "time in write \(format(100 * w.writeSeconds / w.seconds))%, offsets+commit "
                        + "\(format(100 * w.commitSeconds / w.seconds))%, poll \(format(100 * w.pollSeconds / w.seconds))%; "
                        + "CPU: bench process \(format(w.processCores, 2)) cores, machine \(format(w.machineCores, 2)); "
                        + "CPU µs/dossier worker \(format(w.processMicros)) + PostgreSQL \(format(w.postgresMicros)), "
                        + "raw C \(format(raw.processMicros)) + PostgreSQL \(format(raw.postgresMicros))")
            }
            rows.append(row)
        }

        out.line("")
        out.line("outcomes: " + mix.map { "\($0.0) \($0.1)" }.joined(separator: ", "))
        out.line(
            "rows: decision \(format(sizes.decision)) bytes (citing an explanation of \(format(sizes.explanation)) bytes of "
                + "JSON stored once), outbox payload \(format(sizes.outbox)) bytes")
        out.line("")
        out.table(
            [
                "| batch | worker end to end | raw COPY (C, same transactions) | raw consume | worker / raw COPY (median of rounds) | worker vs 20,000/s |",
                "|---:|---:|---:|---:|---:|---|",
            ]
                + rows.map { row in
                    let w = median(row.worker)
                    let r = median(row.raw)
                    let ratio = median(zip(row.worker, row.raw).map { $0 / $1 })
                    return "| \(row.batch) | \(grouped(w))/s | \(grouped(r))/s | \(grouped(median(row.consume)))/s | "
                        + "\(format(ratio, 2)) (target ≥ 0.7) | \(w >= 20_000 ? "meets" : "below") (\(format(w / 20_000, 2))×) |"
                })
        out.line("")
        out.table(
            [
                "| batch | worker time: write (decode, decide, encode, COPY ×2) | offsets + COMMIT | poll | bench process CPU | machine CPU |",
                "|---:|---:|---:|---:|---:|---:|",
            ]
                + rows.map { row in
                    "| \(row.batch) | \(format(100 * median(row.write)))% | \(format(100 * median(row.commit)))% | "
                        + "\(format(100 * median(row.poll)))% | \(format(median(row.processCores), 2)) cores | "
                        + "\(format(median(row.machineCores), 2)) cores |"
                })
        for row in rows {
            print(
                String(
                    format:
                        "RESULT worker batch=%d worker=%.0f rawcopy=%.0f ratio=%.3f consume=%.0f target-ratio=0.7 target-rate=20000",
                    row.batch, median(row.worker), median(row.raw),
                    median(zip(row.worker, row.raw).map { $0 / $1 }), median(row.consume)))
        }
        out.line("")
        out.table(
            [
                "| batch | CPU µs per dossier: worker process | its PostgreSQL | raw C process | its PostgreSQL | worker / raw (CPU) |",
                "|---:|---:|---:|---:|---:|---:|",
            ]
                + rows.map { row in
                    let worker = median(row.workerProcess) + median(row.workerPostgres)
                    let raw = median(row.rawProcess) + median(row.rawPostgres)
                    return
                        "| \(row.batch) | \(format(median(row.workerProcess))) | \(format(median(row.workerPostgres))) | "
                        + "\(format(median(row.rawProcess))) | \(format(median(row.rawPostgres))) | \(format(raw / worker, 2)) |"
                })
        out.markdownSplit(split)
    }

    static func latency(_ options: Options, runtime: Runtime, admin: KafkaAdmin, out: inout Report) throws {
        // librdkafka's mock (the devbroker) answers a fetch that finds no data only after fetch.wait.max.ms (default
        // 500 ms), even when data arrives meanwhile; a real broker answers as soon as data arrives. 10 ms keeps that
        // artefact out of the figure (--fetch-wait-max-ms 500 shows it); KAFKA_FETCH_WAIT_MAX_MS wins when set.
        var consumerKafka = runtime.kafka
        if let wait = options.fetchWaitMaxMs {
            consumerKafka.properties["fetch.wait.max.ms"] = String(wait)
        } else if consumerKafka.properties["fetch.wait.max.ms"] == nil {
            consumerKafka.properties["fetch.wait.max.ms"] = "10"
        }
        var bench = LatencyBench(
            runtime: runtime, admin: admin, logger: runtime.logger, consumerKafka: consumerKafka,
            batchSize: options.latencyBatchSize)
        bench.overlap = options.overlap
        bench.betweenRounds = options.latencyBetween
        out.line("")
        out.line(
            "latency: reception + \(Workload.department) worker (consumer + outbox relay each, as Runtime.service "
                + "wires them), intake at \(options.latencyRate)/s for \(format(options.latencySeconds)) s × "
                + "\(options.latencyRounds) rounds, batch size \(options.latencyBatchSize), consumer fetch.wait.max.ms "
                + "\(consumerKafka.properties["fetch.wait.max.ms"] ?? "librdkafka default (500)")")
        func describe(_ values: [Double]) -> String {
            "p50 \(format(percentile(values, 50), 1))  p95 \(format(percentile(values, 95), 1))  "
                + "p99 \(format(percentile(values, 99), 1))  max \(format(values.last ?? .nan, 1)) ms"
        }
        let rounds = try bench.run(
            rate: options.latencyRate, seconds: options.latencySeconds, rounds: options.latencyRounds,
            seed: options.seed &+ 1
        ) { index, round in
            print(
                "  round \(index): \(round.decided)/\(round.sent) decided, sent at \(format(round.achievedRate))/s; "
                    + "intake → decision \(describe(round.total))")
            print(
                "    stages p50/p99: reception \(format(percentile(round.reception, 50), 1))/"
                    + "\(format(percentile(round.reception, 99), 1)) ms, relay + broker + fetch "
                    + "\(format(percentile(round.handoff, 50), 1))/\(format(percentile(round.handoff, 99), 1)) ms, "
                    + "worker batch \(format(percentile(round.worker, 50), 1))/\(format(percentile(round.worker, 99), 1)) ms; "
                    + "CPU cores: bench process \(format(round.processCores, 2)), PostgreSQL \(format(round.postgresCores, 2)), "
                    + "machine \(format(round.machineCores, 2))")
            fflush(nil)
        }
        for (i, round) in rounds.enumerated() {
            out.log.append("  round \(i + 1): \(round.decided)/\(round.sent) decided; \(describe(round.total))")
        }
        func med(_ key: KeyPath<LatencyRound, [Double]>, _ p: Double) -> Double {
            median(rounds.map { percentile($0[keyPath: key], p) })
        }
        let lost = rounds.reduce(0) { $0 + $1.sent - $1.decided }
        out.line("")
        out.table([
            "| intake → decision row at \(options.latencyRate)/s (median of \(rounds.count) rounds) | p50 | p95 | p99 | max | target |",
            "|---|---:|---:|---:|---:|---|",
            "| total | \(format(med(\.total, 50), 1)) ms | \(format(med(\.total, 95), 1)) ms | "
                + "\(format(med(\.total, 99), 1)) ms | \(format(med(\.total, 100), 1)) ms | p99 < 100 ms: "
                + "\(med(\.total, 99) < 100 ? "meets" : "misses") |",
            "| send → reception committed | \(format(med(\.reception, 50), 1)) ms | \(format(med(\.reception, 95), 1)) ms | "
                + "\(format(med(\.reception, 99), 1)) ms | \(format(med(\.reception, 100), 1)) ms | |",
            "| reception committed → worker batch start (relay, broker, fetch) | \(format(med(\.handoff, 50), 1)) ms | "
                + "\(format(med(\.handoff, 95), 1)) ms | \(format(med(\.handoff, 99), 1)) ms | "
                + "\(format(med(\.handoff, 100), 1)) ms | |",
            "| … of which reception committed → relay produced the step (Kafka create time, ms) | "
                + "\(format(med(\.relay, 50), 1)) ms | \(format(med(\.relay, 95), 1)) ms | \(format(med(\.relay, 99), 1)) ms | "
                + "\(format(med(\.relay, 100), 1)) ms | |",
            "| … of which relay produced → worker batch start (delivery, broker, fetch) | "
                + "\(format(med(\.fetch, 50), 1)) ms | \(format(med(\.fetch, 95), 1)) ms | \(format(med(\.fetch, 99), 1)) ms | "
                + "\(format(med(\.fetch, 100), 1)) ms | |",
            "| worker batch start → committed | \(format(med(\.worker, 50), 1)) ms | \(format(med(\.worker, 95), 1)) ms | "
                + "\(format(med(\.worker, 99), 1)) ms | \(format(med(\.worker, 100), 1)) ms | |",
        ])
        print(
            String(
                format: "RESULT worker latency rate=%d p50=%.1fms p95=%.1fms p99=%.1fms max=%.1fms target-p99=100ms",
                options.latencyRate, med(\.total, 50), med(\.total, 95), med(\.total, 99), med(\.total, 100)))
        if lost > 0 { out.line("WARNING: \(lost) dossiers were not decided within 15 s of the end of their window") }
    }
}

/// Console output, kept for the markdown file too.
struct Report {
    var log: [String] = []
    var markdown: [String] = []

    mutating func line(_ text: String) {
        print(text)
        fflush(nil)
        log.append(text)
    }

    mutating func table(_ lines: [String]) {
        for line in lines { self.line(line) }
        markdown += lines + [""]
    }

    mutating func markdownSplit(_ split: CPUSplit) {
        markdown +=
            [
                "| CPU per dossier before PostgreSQL (one thread) | µs |", "|---|---:|",
            ] + split.stages.map { "| \($0.name) | \(format($0.microseconds, 1)) |" }
            + ["| total | \(format(split.total, 1)) |", ""]
    }
}

/// Creates (once) and migrates the benchmark's database next to the one `url` names; returns its URL.
func benchDatabase(_ url: String, name: String, migrations: String) throws -> String {
    guard var components = URLComponents(string: url), components.scheme?.hasPrefix("postgres") == true else {
        fail("DATABASE_URL must be a postgresql:// URL (got something else)")
    }
    let logger = Logger(label: "worker-bench.setup")
    let admin = try PostgresConnection.connect(PostgresConfiguration(connectionString: url), logger: logger)
    let exists = try admin.query("SELECT 1 AS one FROM pg_database WHERE datname = $1", [name]).count == 1
    if !exists { try admin.executeScript("CREATE DATABASE \"\(name)\"") }
    components.path = "/" + name
    guard let benchURL = components.string else { fail("cannot build the benchmark database URL") }
    let connection = try PostgresConnection.connect(PostgresConfiguration(connectionString: benchURL), logger: logger)
    _ = try PostgresMigrator(directory: URL(fileURLWithPath: migrations)).migrate(connection)
    return benchURL
}

/// A login acting as `department`'s worker role from its first statement, as deployed (docs/operators.md), on the
/// benchmark's database (created once; the local cluster trusts local logins); returns its URL.
func workerLogin(_ url: String, department: DepartmentID) throws -> String {
    guard var components = URLComponents(string: url) else { fail("cannot parse the benchmark database URL") }
    let role = "motcua_worker_" + department.rawValue.replacingOccurrences(of: "-", with: "_")
    let login = "motcua_bench_" + department.rawValue.replacingOccurrences(of: "-", with: "_")
    let admin = try PostgresConnection.connect(
        PostgresConfiguration(connectionString: url), logger: Logger(label: "worker-bench.setup"))
    try admin.executeScript(
        """
        DO $$ BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '\(login)') THEN
                CREATE ROLE \(login) LOGIN IN ROLE \(role);
                ALTER ROLE \(login) SET role = '\(role)';
            END IF;
        END $$
        """)
    components.user = login
    components.password = nil
    guard let loginURL = components.string else { fail("cannot build the worker login's URL") }
    return loginURL
}

func machineDescription() -> String {
    let cpu =
        (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
        .split(separator: "\n").first { $0.hasPrefix("model name") }?
        .split(separator: ":", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
    return "\(ProcessInfo.processInfo.activeProcessorCount) cores, \(cpu), "
        + "\(ProcessInfo.processInfo.physicalMemory / 1_073_741_824) GiB"
}

func postgresVersion(_ runtime: Runtime, _ logger: Logger) -> String {
    guard let connection = try? PostgresConnection.connect(runtime.postgres, logger: logger),
        let rows = try? connection.query(
            """
            SELECT current_setting('server_version') AS v, \
            current_setting('synchronous_commit') AS s, current_setting('fsync') AS f
            """),
        let row = rows.first
    else { return "PostgreSQL (version unknown)" }
    return
        "PostgreSQL \((try? row.decode(String.self, "v")) ?? "?") (fsync \((try? row.decode(String.self, "f")) ?? "?"), "
        + "synchronous_commit \((try? row.decode(String.self, "s")) ?? "?"))"
}
