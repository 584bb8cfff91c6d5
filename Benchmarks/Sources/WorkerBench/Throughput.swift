import BenchSupport
import Authority
import CWorkerRaw
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

/// The department topic's messages of this run, and where they start.
struct ProducedTasks {
    var topic: String
    var count: Int
    var start: [Int32: Int64]
    var end: [Int32: Int64]
    var values: [[UInt8]]
    var averageBytes: Double
    /// Per task: its dossier, step and the hex SHA-256 of its dossier — what reception's receipt (step 0) or the
    /// previous department's forward (later steps) records, for the worker's provenance check.
    var provenance: [(dossierId: String, procedure: String, step: Int, digest: String)] = []
}

/// One timed run of the worker (``EffectivelyOnceConsumer`` + ``DepartmentWorker``) over the produced tasks.
struct WorkerRound {
    var rate: Double
    /// Seconds from starting the consumer (group join included) to the last commit.
    var wallWithJoin: Double
    /// Seconds from the first batch's `write` to the last commit.
    var seconds: Double
    var batches: [TimedWriter.Batch]
    var writeSeconds: Double
    var commitSeconds: Double
    var pollSeconds: Double
    /// This process's CPU, in cores, between the first and last commit; and the whole machine's.
    var processCores: Double
    var machineCores: Double
    /// CPU microseconds per dossier between the first and the last commit: this process, and the PostgreSQL cluster.
    var processMicros: Double
    var postgresMicros: Double
    /// `--statements`: where the round's PostgreSQL time went (``StatementStatistics``).
    var statements: [String] = []
    /// The consumer group the round stored its offsets under (a later run of the group continues from there).
    var group = ""
}

/// One timed run of the raw C replay.
struct RawRound {
    var rate: Double
    var processMicros: Double
    var postgresMicros: Double
    /// `--statements`: where the replay's PostgreSQL time went, as for the worker's round.
    var statements: [String] = []
}

/// One table of the replay: the rows a worker round wrote into it, each encoded once, before the timed replay, as
/// the binary COPY tuple the worker's statement stored.
final class ReplayTable {
    let name: String
    let types: [(String, ColumnType)]
    var writer: PostgresBinaryCopyWriter
    /// Where each row ends in the writer's data, counted after the COPY header.
    var ends: [Int64] = []

    init(_ name: String, _ types: [(String, ColumnType)]) {
        self.name = name
        self.types = types
        writer = PostgresBinaryCopyWriter(columns: types.count)
    }

    var copy: String { "COPY \(name) (\(types.map(\.0).joined(separator: ", "))) FROM STDIN (FORMAT binary)" }

    func append(_ row: PostgresRow) throws {
        try writer.beginRow()
        for (name, type) in types { try type.write(row, name, into: &writer) }
        ends.append(Int64(writer.data.count - PostgresBinaryCopyWriter.headerCount))
    }
}

/// Every row a worker round wrote per dossier — decisions, stages and the slip's first lines (decisions prepared for
/// officials), outbox —, grouped in its transactions, ready for the raw C replay, with each batch's offset moves and
/// provenance lookup.
final class RawReplay {
    /// In the order the worker writes them in a transaction: decisions first (the first table's rows are the count).
    let tables = [
        ReplayTable("decisions", ThroughputBench.decisionTypes.map { ($0.key, $0.value) }),
        ReplayTable("stages", ThroughputBench.stageTypes),
        ReplayTable("stage_handovers", ThroughputBench.handoverTypes),
        ReplayTable("outbox", ThroughputBench.outboxTypes.map { ($0.key, $0.value) }),
    ]
    /// Per batch and table, the rows [start, end) of the table's data.
    var ranges: [Int64] = []
    var moves: [raw_offset_move] = []
    /// Per batch, its moves [start, end).
    var moveRanges: [Int32] = []
    /// Per batch, the provenance lookup the worker makes (run after BEGIN, as the worker runs it).
    var lookups: [String] = []
    var rows: Int { tables[0].ends.count }
    var batchCount: Int { moveRanges.count / 2 }
    func count(_ name: String) -> Int { tables.first { $0.name == name }?.ends.count ?? 0 }
}

/// A column's type, to encode a value read back as text in its binary COPY form.
enum ColumnType {
    case text, int4, int8, uuid, bytea, timestamptz, jsonb

    func write(_ row: PostgresRow, _ column: String, into writer: inout PostgresBinaryCopyWriter) throws {
        switch self {
        case .text: writer.text(try row.decodeIfPresent(String.self, column))
        case .int4: writer.int32(try row.decodeIfPresent(Int32.self, column))
        case .int8: writer.int64(try row.decodeIfPresent(Int64.self, column))
        case .uuid: writer.uuid(try row.decodeIfPresent(UUID.self, column))
        case .bytea: writer.bytes(try row.decodeIfPresent(PostgresBytes.self, column)?.bytes)
        case .timestamptz: writer.timestamp(try row.decodeIfPresent(Date.self, column))
        case .jsonb: writer.jsonb(try row.decodeIfPresent(String.self, column))
        }
    }
}

struct ThroughputBench {
    let runtime: Runtime
    let admin: KafkaAdmin
    let logger: Logger
    let databaseURL: String
    let postgresCPU: PostgresCPU?
    var overlap = true
    /// `--statements`: record pg_stat_statements and the rows written per table over each worker round.
    var statements = false
    /// Where the worker itself connects (nil: `runtime.postgres`, the owner).
    var workerPostgres: PostgresConfiguration?
    static let decisionTypes: KeyValuePairs<String, ColumnType> = [
        "dossier_id": .text, "step": .int4, "round": .int4, "department": .text, "procedure": .text,
        "outcome": .text, "review": .text, "rule_id": .text, "rule_version": .text, "delegation_id": .text,
        "delegation_version": .text, "escalation_reason": .text, "forward_to": .text, "decided_at": .timestamptz,
        "source_topic": .text, "source_partition": .int4, "source_offset": .int8, "explanation_id": .int8,
    ]
    static let outboxTypes: KeyValuePairs<String, ColumnType> = [
        "source": .text, "event_id": .uuid, "topic": .text, "key": .text, "ce_type": .text, "payload": .bytea,
        "headers": .jsonb,
    ]
    static let stageTypes: [(String, ColumnType)] = [
        ("dossier_id", .text), ("step", .int4), ("round", .int4), ("department", .text), ("division", .text),
        ("procedure", .text), ("route", .text), ("stage_count", .int4), ("position", .int4), ("stage", .text),
        ("role", .text), ("assignee", .text), ("sender", .text), ("sender_position", .int4),
        ("entered_at", .timestamptz), ("due_at", .timestamptz), ("handovers", .int4), ("closed_at", .timestamptz),
    ]
    static let handoverTypes: [(String, ColumnType)] = [
        ("dossier_id", .text), ("step", .int4), ("round", .int4), ("line", .int4), ("department", .text),
        ("division", .text), ("action", .text), ("from_stage", .text), ("from_official", .text), ("to_stage", .text),
        ("to_official", .text), ("acted_as", .text), ("reason", .text), ("at", .timestamptz),
        ("stage_entered_at", .timestamptz), ("stage_due_at", .timestamptz), ("verdict", .text),
    ]
    static let decisionColumns = decisionTypes.map(\.key).joined(separator: ", ")
    static let outboxColumns = outboxTypes.map(\.key).joined(separator: ", ")

    /// Produces `count` step tasks to the department topic and checks the broker kept all of them.
    func produce(count: Int, seed: UInt64) throws -> ProducedTasks {
        let topic = Topics().department(Workload.department)
        var workload = Workload(bundle: runtime.bundle, seed: seed)
        let encoder = MessageCoding.encoder()
        let now = runtime.clock.now()
        var values: [[UInt8]] = []
        var keys: [String] = []
        var ids: [String] = []
        var provenance: [(dossierId: String, procedure: String, step: Int, digest: String)] = []
        values.reserveCapacity(count)
        for i in 0..<count {
            let task = workload.stepTask(at: now, sequence: i + 1)
            values.append(Array(try encoder.encode(task)))
            keys.append(task.dossier.id)
            ids.append(task.taskId.uuidString.lowercased())
            let digest = String(PostgresBytes(try MessageCoding.digest(of: task.dossier, encoder: encoder)).postgresText.dropFirst(2))
            provenance.append((task.dossier.id, task.dossier.procedure, task.step, digest))
        }
        let start = try highWatermarks(admin, topic: topic)
        var config = KafkaProducerConfiguration(client: runtime.kafka)
        config.linger = .milliseconds(5)
        let producer = try KafkaProducer(configuration: config, logger: logger)
        for i in 0..<count {
            try producer.produce(
                KafkaOutgoingMessage(
                    topic: topic, key: keys[i], value: values[i],
                    headers: [
                        KafkaHeader("ce_specversion", "1.0"), KafkaHeader("ce_id", ids[i]),
                        KafkaHeader("ce_type", MessageType.step), KafkaHeader("ce_source", "motcua/bench"),
                        KafkaHeader("content-type", "application/json"),
                    ]))
        }
        try producer.flush(timeout: .seconds(60))
        guard producer.failedDeliveries == 0 else { fail("\(producer.failedDeliveries) step tasks were not delivered") }
        try producer.close()
        var end: [Int32: Int64] = [:]
        var stored = 0
        for (partition, first) in start {
            let marks = try admin.watermarks(TopicPartition(topic, partition))
            guard marks.low <= first else {
                fail(
                    "the devbroker dropped messages of this run from \(topic)[\(partition)] (it keeps ~5 MiB per "
                        + "partition): lower --messages or restart the devbroker")
            }
            end[partition] = marks.high
            stored += Int(marks.high - first)
        }
        guard stored == count else { fail("expected \(count) new messages on \(topic), found \(stored)") }
        let bytes = values.reduce(0) { $0 + $1.count }
        return ProducedTasks(
            topic: topic, count: count, start: start, end: end, values: values,
            averageBytes: Double(bytes) / Double(count), provenance: provenance)
    }

    /// Where the forwards seeded for the provenance check say they came from (left out of every count).
    static let seedTopic = "bench.seed"

    /// What reception and the previous department recorded for the produced tasks: a receipt (a `dossiers` row with
    /// the dossier's digest, routed to this department for step 0) per dossier, and for a later step the forward
    /// decision that sent it here. Rows already there are kept, with this run's digests (the same seed gives the
    /// same dossier ids, but their submission instants, and so their digests, follow the run's clock).
    func seedProvenance(_ tasks: ProducedTasks, on connection: PostgresConnection) throws {
        let p = tasks.provenance
        try connection.execute(
            """
            INSERT INTO rule_versions (version, department, canonical_text) VALUES ('bench-seed', 'bench', 'seed')
            ON CONFLICT DO NOTHING
            """, [])
        try connection.execute(
            """
            INSERT INTO dossiers (id, code, procedure, channel, commune, applicant_kind, submitted_at, received_at,
                                  status, department, body, received_sha256, body_sha256)
            SELECT id, 'BENCH-' || id, procedure, 'online', '00001', 'enterprise', now(), now(), 'received',
                   CASE WHEN step = 0 THEN $5 ELSE 'bench-previous' END, '{}', decode(digest, 'hex'), decode(digest, 'hex')
            FROM unnest($1::text[], $2::text[], $3::text[]::int[], $4::text[]) AS t(id, procedure, step, digest)
            ON CONFLICT (id) DO UPDATE SET received_sha256 = EXCLUDED.received_sha256, body_sha256 = EXCLUDED.body_sha256
            WHERE dossiers.received_sha256 IS DISTINCT FROM EXCLUDED.received_sha256
            """, [p.map(\.dossierId), p.map(\.procedure), p.map { String($0.step) }, p.map(\.digest), Workload.department])
        try connection.execute(
            """
            INSERT INTO decisions (dossier_id, step, round, department, procedure, outcome, review, rule_version,
                                   decided_at, source_topic, source_partition, source_offset, explanation_id, forward_to)
            SELECT id, step - 1, 0, 'bench-previous', procedure, 'forward', 'auto', 'bench-seed', now(), $4, 0,
                   row_number() OVER (), (motcua_explanation_ids(ARRAY['{}'::jsonb]))[1], $5
            FROM unnest($1::text[], $2::text[], $3::text[]::int[]) AS t(id, procedure, step) WHERE step > 0
            ON CONFLICT DO NOTHING
            """, [p.map(\.dossierId), p.map(\.procedure), p.map { String($0.step) }, Self.seedTopic, Workload.department])
    }

    /// Empties the tables the worker writes (this benchmark's database only) and checkpoints, so that every timed
    /// round starts from the same state.
    func resetTables(_ connection: PostgresConnection, seeding tasks: ProducedTasks) throws {
        try connection.executeScript(
            "TRUNCATE decisions, outbox, stages, stage_handovers; DELETE FROM consumer_offsets WHERE consumer_group LIKE 'bench.%' OR consumer_group LIKE 'motcua.%.bench.%'")
        try seedProvenance(tasks, on: connection)
        try connection.executeScript("CHECKPOINT")
    }

    func workerRound(_ tasks: ProducedTasks, batchSize: Int, label: String) throws -> WorkerRound {
        let connection = try PostgresConnection.connect(runtime.postgres, logger: logger)
        try resetTables(connection, seeding: tasks)
        // A group of the department's own (motcua.<department>.*): a worker login may store offsets only there.
        let group = "motcua.\(Workload.department).bench.\(label).\(UInt32.random(in: 0...UInt32.max))"
        try seedOffsets(connection, group: group, topic: tasks.topic, tasks.start)
        let tablesBefore = try statements ? StatementStatistics.reset(connection) : nil

        let worker = try DepartmentWorker(
            department: Workload.department, bundle: runtime.bundle, clock: runtime.clock, logger: logger)
        let timed = TimedWriter(worker, recordKeys: false, recordBatches: true)
        var settings = EffectivelyOnceConsumer.Settings(group: group, topics: [tasks.topic])
        settings.batchSize = batchSize
        settings.overlapsTransactions = overlap
        let consumer = EffectivelyOnceConsumer(
            settings: settings, kafka: runtime.kafka, postgres: workerPostgres ?? runtime.postgres, writer: timed,
            logger: logger)
        let started = ContinuousClock.now
        let thread = BackgroundThread("consumer") {
            do { try consumer.runBlocking() } catch { fail("consumer stopped: \(error)") }
        }
        var firstSeen: (ContinuousClock.Instant, Double, Double, Double, Int)?
        let deadline = started + .seconds(120)
        while timed.committedMessages < tasks.count {
            let committed = timed.committedMessages
            if firstSeen == nil && committed > 0 {
                firstSeen = (
                    ContinuousClock.now, processCPUSeconds(), machineCPUSeconds(),
                    postgresCPU?.seconds() ?? .nan, committed
                )
            }
            guard ContinuousClock.now < deadline else {
                fail("the worker committed \(timed.committedMessages) of \(tasks.count) tasks in 120 s")
            }
            // Rates come from the batches' own commit stamps; this loop only brackets the CPU counters, and waking
            // it every millisecond cost the process ~1,000 context switches a second that it charged to the worker.
            Thread.sleep(forTimeInterval: 0.005)
        }
        let finished = (ContinuousClock.now, processCPUSeconds(), machineCPUSeconds(), postgresCPU?.seconds() ?? .nan)
        consumer.stop()
        thread.wait()

        let state = timed.snapshot()
        let batches = state.batches.filter { $0.commitEnd != nil }
        guard let first = batches.first, let lastCommit = batches.last?.commitEnd else { fail("no batch committed") }
        let decided = try connection.query(
            "SELECT count(*)::int8 AS n FROM decisions WHERE source_topic <> \(Self.seedTopic)")[0].decode(Int64.self, "n")
        guard decided == tasks.count else { fail("expected \(tasks.count) decision rows, found \(decided)") }

        var write = 0.0
        var commit = 0.0
        for batch in batches {
            write += (batch.writeEnd - batch.writeStart).seconds
            commit += (batch.commitEnd! - batch.writeEnd).seconds
        }
        let seconds = (lastCommit - first.writeStart).seconds
        let window = firstSeen.map { (finished.0 - $0.0).seconds } ?? .nan
        let windowCount = Double(tasks.count - (firstSeen?.4 ?? tasks.count))
        return WorkerRound(
            rate: Double(tasks.count) / seconds, wallWithJoin: (lastCommit - started).seconds, seconds: seconds,
            batches: batches, writeSeconds: write, commitSeconds: commit, pollSeconds: seconds - write - commit,
            processCores: firstSeen.map { (finished.1 - $0.1) / window } ?? .nan,
            machineCores: firstSeen.map { (finished.2 - $0.2) / window } ?? .nan,
            processMicros: firstSeen.map { (finished.1 - $0.1) / windowCount * 1e6 } ?? .nan,
            postgresMicros: firstSeen.map { (finished.3 - $0.3) / windowCount * 1e6 } ?? .nan,
            statements: try tablesBefore.map {
                try StatementStatistics.report(connection, before: $0, dossiers: tasks.count)
            } ?? [], group: group)
    }

    /// The same messages read with a group-less ``KafkaConsumer`` (`assign` + `pollBatch`), nothing else.
    func rawConsume(_ tasks: ProducedTasks, batchSize: Int) throws -> Double {
        let consumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(client: runtime.kafka, groupID: nil), logger: logger)
        defer { consumer.close() }
        try consumer.assign(
            Dictionary(
                uniqueKeysWithValues: tasks.start.map {
                    (TopicPartition(tasks.topic, $0.key), KafkaOffset($0.value))
                }))
        var received = 0
        var bytes = 0
        var first: ContinuousClock.Instant?
        var firstCount = 0
        let deadline = ContinuousClock.now + .seconds(60)
        while received < tasks.count {
            let batch = try consumer.pollBatch(maxMessages: batchSize, timeout: .milliseconds(100))
            if first == nil && !batch.isEmpty {
                first = .now
                firstCount = batch.count
            }
            for message in batch where message.offset < tasks.end[message.partition] ?? 0 {
                received += 1
                bytes += message.value.count
            }
            guard ContinuousClock.now < deadline else { fail("raw consume got \(received) of \(tasks.count) in 60 s") }
        }
        let seconds = (ContinuousClock.now - first!).seconds
        precondition(bytes > 0)
        return Double(tasks.count - firstCount) / seconds
    }

    /// Reads back what a worker round wrote and groups it into that round's transactions, for the C replay.
    func collectReplay(_ tasks: ProducedTasks, round: WorkerRound) throws -> RawReplay {
        let connection = try PostgresConnection.connect(runtime.postgres, logger: logger)
        let decisions = try connection.query(
            """
            SELECT \(Self.decisionColumns) FROM decisions WHERE source_topic <> $1
            ORDER BY source_partition, source_offset
            """, [Self.seedTopic])
        var decisionIndex: [Int64: Int] = [:]  // partition << 40 | offset → row
        for (i, row) in decisions.enumerated() {
            let key =
                Int64(try row.decode(Int32.self, "source_partition")) << 40
                | (try row.decode(Int64.self, "source_offset"))
            decisionIndex[key] = i
        }
        let replay = RawReplay()
        // The other tables' rows, each with the decision (its source message) it belongs to, in the order written.
        func byDecision(_ sql: String) throws -> (rows: PostgresRows, of: [Int: [Int]]) {
            let rows = try connection.query(sql, [Self.seedTopic])
            var of: [Int: [Int]] = [:]
            for (i, row) in rows.enumerated() {
                let key = Int64(try row.decode(Int32.self, "p")) << 40 | (try row.decode(Int64.self, "o"))
                guard let d = decisionIndex[key] else { fail("a row without its decision") }
                of[d, default: []].append(i)
            }
            return (rows, of)
        }
        func columns(_ table: ReplayTable, _ alias: String) -> String {
            table.types.map { "\(alias).\($0.0)" }.joined(separator: ", ")
        }
        let stages = try byDecision(
            """
            SELECT \(columns(replay.tables[1], "s")), d.source_partition AS p, d.source_offset AS o
            FROM stages s JOIN decisions d USING (dossier_id, step, round) WHERE d.source_topic <> $1
            ORDER BY d.source_partition, d.source_offset
            """)
        let handovers = try byDecision(
            """
            SELECT \(columns(replay.tables[2], "h")), d.source_partition AS p, d.source_offset AS o
            FROM stage_handovers h JOIN decisions d USING (dossier_id, step, round) WHERE d.source_topic <> $1
            ORDER BY d.source_partition, d.source_offset, h.line
            """)
        let outbox = try byDecision(
            """
            SELECT \(columns(replay.tables[3], "o")), d.source_partition AS p, d.source_offset AS o
            FROM outbox o JOIN decisions d ON d.dossier_id = o.key AND d.source_topic <> $1 ORDER BY o.id
            """)

        let digests = Dictionary(tasks.provenance.map { ($0.dossierId, $0.digest) }, uniquingKeysWith: { a, _ in a })
        var position = tasks.start
        for batch in round.batches {
            let starts = replay.tables.map { Int64($0.ends.count) }
            replay.moveRanges.append(Int32(replay.moves.count))
            var lookup: (ids: [String], steps: [String], rounds: [String], digests: [String]) = ([], [], [], [])
            for (partition, range) in batch.ranges.sorted(by: { $0.key < $1.key }) {
                for offset in range.first...range.last {
                    guard let d = decisionIndex[Int64(partition) << 40 | offset] else { continue }
                    let id = try decisions[d].decode(String.self, "dossier_id")
                    lookup.ids.append(id)
                    lookup.steps.append(String(try decisions[d].decode(Int.self, "step")))
                    lookup.rounds.append(String(try decisions[d].decode(Int.self, "round")))
                    lookup.digests.append(digests[id] ?? "")
                    // Explanations are stored once (the worker's round did that); rows cite them by id.
                    try replay.tables[0].append(decisions[d])
                    for s in stages.of[d] ?? [] { try replay.tables[1].append(stages.rows[s]) }
                    for h in handovers.of[d] ?? [] { try replay.tables[2].append(handovers.rows[h]) }
                    for o in outbox.of[d] ?? [] { try replay.tables[3].append(outbox.rows[o]) }
                }
                replay.moves.append(
                    raw_offset_move(
                        partition: partition, expected: position[partition]!, next: range.last + 1))
                position[partition] = range.last + 1
            }
            for (table, start) in zip(replay.tables, starts) {
                replay.ranges += [start, Int64(table.ends.count)]
            }
            replay.moveRanges.append(Int32(replay.moves.count))
            // The worker's per-batch provenance lookup, the same statement (ids are UUIDs, digests hex: literal-safe),
            // with the catalogue versions it answers since migration 033 (the worker's only read of them).
            func array(_ items: [String]) -> String { "'{" + items.joined(separator: ",") + "}'" }
            replay.lookups.append(
                "SELECT task_index, on_record, catalogue_version FROM motcua_step_provenance('\(Workload.department)', \(array(lookup.ids))::text[], "
                    + "\(array(lookup.steps))::int[], \(array(lookup.rounds))::int[], \(array(lookup.digests))::text[])")
        }
        guard replay.rows == tasks.count else {
            fail("replay has \(replay.rows) decision rows, expected \(tasks.count)")
        }
        return replay
    }

    /// The raw C replay of the worker's transactions; decision rows per second.
    func rawCopy(_ tasks: ProducedTasks, replay: RawReplay) throws -> RawRound {
        let connection = try PostgresConnection.connect(runtime.postgres, logger: logger)
        try resetTables(connection, seeding: tasks)
        let group = "bench.raw.\(UInt32.random(in: 0...UInt32.max))"
        try seedOffsets(connection, group: group, topic: tasks.topic, tasks.start)
        let tablesBefore = try statements ? StatementStatistics.reset(connection) : nil
        var seconds = 0.0
        var error = [CChar](repeating: 0, count: 1024)
        let errorSize = error.count
        let copies = replay.tables.map { strdup($0.copy) }
        defer { copies.forEach { free($0) } }
        let data = replay.tables.map { Array($0.writer.data.dropFirst(PostgresBinaryCopyWriter.headerCount)) }
        let cpuBefore = (processCPUSeconds(), postgresCPU?.seconds() ?? .nan)
        let lookups = replay.lookups.map { strdup($0) }
        defer { lookups.forEach { free($0) } }
        let rows = withRawTables(replay.tables, data: data, copies: copies) { tables in
            lookups.withUnsafeBufferPointer { lookupPointers in
                raw_worker_replay(
                    databaseURL, group, tasks.topic, tables, Int32(tables.count), replay.ranges,
                    Int32(replay.batchCount), replay.moves, replay.moveRanges,
                    UnsafePointer(lookupPointers.baseAddress), &seconds, &error, errorSize)
            }
        }
        // Let the replay's backend exit and be reaped, so that its CPU shows in the postmaster's child times.
        Thread.sleep(forTimeInterval: 0.3)
        let cpuAfter = (processCPUSeconds(), postgresCPU?.seconds() ?? .nan)
        guard rows == tasks.count else {
            fail(
                "raw COPY replay failed: \(String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))"
            )
        }
        for table in replay.tables.dropFirst() {
            // (The seeded forwards are decisions too: the replay's decisions are counted by raw_worker_replay.)
            let stored = try connection.query("SELECT count(*)::int8 AS n FROM " + table.name, [])[0].decode(Int64.self, "n")
            guard stored == table.ends.count else {
                fail("raw replay: \(stored) rows in \(table.name), expected \(table.ends.count)")
            }
        }
        return RawRound(
            rate: Double(rows) / seconds, processMicros: (cpuAfter.0 - cpuBefore.0) / Double(rows) * 1e6,
            postgresMicros: (cpuAfter.1 - cpuBefore.1) / Double(rows) * 1e6,
            statements: try tablesBefore.map {
                try StatementStatistics.report(
                    connection, before: $0, dossiers: tasks.count, title: "the raw C replay (as the owner)")
            } ?? [])
    }

    /// The tables as the C replay takes them, pointers valid inside `body`.
    private func withRawTables<R>(
        _ tables: [ReplayTable], data: [[UInt8]], copies: [UnsafeMutablePointer<CChar>?],
        _ body: ([raw_table]) throws -> R
    ) rethrows -> R {
        func nest(_ i: Int, _ built: [raw_table]) throws -> R {
            guard i < tables.count else { return try body(built) }
            return try data[i].withUnsafeBufferPointer { rows in
                try tables[i].ends.withUnsafeBufferPointer { ends in
                    try nest(
                        i + 1,
                        built + [raw_table(copy: UnsafePointer(copies[i]), rows: rows.baseAddress, ends: ends.baseAddress)])
                }
            }
        }
        return try nest(0, [])
    }

    /// Outcome mix of the last worker round.
    func outcomes() throws -> [(String, Int)] {
        let connection = try PostgresConnection.connect(runtime.postgres, logger: logger)
        return try connection.query(
            """
            SELECT outcome || '/' || review AS o, count(*)::int8 AS n FROM decisions WHERE source_topic <> \(Self.seedTopic)
            GROUP BY 1 ORDER BY 2 DESC
            """
        ).map { (try $0.decode(String.self, "o"), Int(try $0.decode(Int64.self, "n"))) }
    }

    /// Average bytes of the rows a worker round wrote (decision row text, explanation, outbox payload).
    func rowSizes() throws -> (decision: Double, explanation: Double, outbox: Double) {
        let connection = try PostgresConnection.connect(runtime.postgres, logger: logger)
        let d = try connection.query(
            """
            SELECT avg(length(e.body::text))::float8 AS e, avg(pg_column_size(d.*))::float8 AS r \
            FROM decisions d JOIN explanations e ON e.id = d.explanation_id
            """
        )[0]
        let o = try connection.query("SELECT avg(length(payload))::float8 AS p FROM outbox")[0]
        return (try d.decode(Double.self, "r"), try d.decode(Double.self, "e"), try o.decode(Double.self, "p"))
    }
}
