import BenchSupport
import Authority
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

/// Latencies of one paced window, in milliseconds, sorted.
struct LatencyRound {
    var sent: Int
    var decided: Int
    /// Intake send → decision row committed (visible to every other session).
    var total: [Double]
    /// Intake send → reception's transaction committed.
    var reception: [Double]
    /// Reception committed → the worker's batch holding the step started (outbox relay, broker, consumer fetch).
    var handoff: [Double]
    /// Of which: reception committed → the relay produced the step (its Kafka create time; ms resolution).
    var relay: [Double]
    /// Of which: the relay produced the step → the worker's batch started (delivery, broker, consumer fetch).
    var fetch: [Double]
    /// The worker's batch started → committed.
    var worker: [Double]
    var achievedRate: Double
    /// Cores used during the window (sending through the last decision): this process (reception, worker, relays,
    /// producer), the PostgreSQL cluster, and the whole machine.
    var processCores: Double
    var postgresCores: Double
    var machineCores: Double
}

/// Reception and the department worker as `Runtime.service` wires them (each an ``EffectivelyOnceConsumer`` whose
/// `afterCommit` nudges its ``OutboxRelay``), on threads of this process, fed intake dossiers at a fixed rate.
struct LatencyBench {
    let runtime: Runtime
    let admin: KafkaAdmin
    let logger: Logger
    /// Client options of the two consumers (the benchmark may set consumer-only librdkafka properties here).
    let consumerKafka: KafkaClientOptions
    let batchSize: Int
    var overlap = true
    /// SQL run between rounds (none by default).
    var betweenRounds: String?

    func run(rate: Int, seconds: Double, rounds: Int, seed: UInt64, report: (Int, LatencyRound) -> Void) throws
        -> [LatencyRound]
    {
        let connection = try PostgresConnection.connect(runtime.postgres, logger: logger)
        let postgresCPU = PostgresCPU(connection: connection)
        try connection.executeScript(
            "TRUNCATE decisions, outbox, stages, stage_handovers, dossiers, dossier_code_sequences; "
                + "DELETE FROM consumer_offsets WHERE consumer_group LIKE 'bench.%'; CHECKPOINT")
        let suffix = String(UInt32.random(in: 0...UInt32.max))
        let departmentTopic = Topics().department(Workload.department)
        let receptionGroup = "bench.latency.reception.\(suffix)"
        let workerGroup = "bench.latency.\(Workload.department).\(suffix)"
        // Start at the current ends: the benchmark's own dossiers only.
        try seedOffsets(
            connection, group: receptionGroup, topic: Topics().intake, try highWatermarks(admin, topic: Topics().intake))
        try seedOffsets(
            connection, group: workerGroup, topic: departmentTopic, try highWatermarks(admin, topic: departmentTopic))

        let reception = TimedWriter(
            Reception(bundle: runtime.bundle, clock: runtime.clock, logger: logger), recordKeys: true,
            recordBatches: false)
        let worker = TimedWriter(
            try DepartmentWorker(
                department: Workload.department, bundle: runtime.bundle, clock: runtime.clock,
                logger: logger),
            recordKeys: true, recordBatches: false)
        var services: [(EffectivelyOnceConsumer, OutboxRelay)] = []
        for (writer, group, topic) in [
            (reception, receptionGroup, Topics().intake), (worker, workerGroup, departmentTopic),
        ] {
            let relay = try OutboxRelay(
                settings: .init(source: writer.outboxSource), kafka: runtime.kafka, postgres: runtime.postgres,
                logger: logger)
            var settings = EffectivelyOnceConsumer.Settings(group: group, topics: [topic])
            settings.batchSize = batchSize
            settings.overlapsTransactions = overlap
            let consumer = EffectivelyOnceConsumer(
                settings: settings, kafka: consumerKafka, postgres: runtime.postgres, writer: writer, logger: logger,
                afterCommit: { relay.nudge() })
            services.append((consumer, relay))
        }
        var threads: [BackgroundThread] = []
        for (consumer, relay) in services {
            threads.append(BackgroundThread("outbox-relay") { relay.runBlocking() })
            threads.append(
                BackgroundThread("consumer") {
                    do { try consumer.runBlocking() } catch { fail("consumer stopped: \(error)") }
                })
        }
        defer {
            for (consumer, relay) in services {
                consumer.stop()
                relay.stop()
            }
            for thread in threads { thread.wait() }
        }

        // The intake producer: default settings, like `motcua submit`.
        let producer = try KafkaProducer(
            configuration: KafkaProducerConfiguration(client: runtime.kafka), logger: logger)
        defer { try? producer.close() }
        var workload = Workload(bundle: runtime.bundle, seed: seed)
        let encoder = JSONEncoder()

        func window(count: Int, rate: Int) throws -> [(id: String, sent: ContinuousClock.Instant)] {
            let now = runtime.clock.now()
            let bodies = try (0..<count).map { _ -> (String, [UInt8]) in
                let dossier = workload.intakeDossier(at: now)
                return (dossier.id, Array(try encoder.encode(dossier)))
            }
            var sent: [(id: String, sent: ContinuousClock.Instant)] = []
            sent.reserveCapacity(count)
            let interval = Duration.nanoseconds(1_000_000_000 / Int64(rate))
            let start = ContinuousClock.now
            for (i, (id, body)) in bodies.enumerated() {
                let target = start + interval * i
                let wait = (target - ContinuousClock.now).seconds
                if wait > 0 { Thread.sleep(forTimeInterval: wait) }
                let at = ContinuousClock.now
                try producer.produce(
                    KafkaOutgoingMessage(
                        topic: Topics().intake, key: id, value: body,
                        headers: [
                            KafkaHeader("ce_specversion", "1.0"), KafkaHeader("ce_id", id),
                            KafkaHeader("ce_type", MessageType.intake), KafkaHeader("ce_source", "motcua/bench"),
                            KafkaHeader("content-type", "application/json"),
                        ]))
                sent.append((id, at))
            }
            return sent
        }

        func waitDecided(_ ids: [String], before: Int, timeout: Duration) -> Bool {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                if worker.stampCount >= before + ids.count { return true }
                Thread.sleep(forTimeInterval: 0.05)
            }
            return false
        }

        // Warm-up: both consumers join their groups (~3 s each on the devbroker), relays connect.
        let warm = try window(count: 200, rate: 200)
        guard waitDecided(warm.map(\.id), before: 0, timeout: .seconds(90)) else {
            // Say why when reception refused them or it or the worker dead-lettered them (the most frequent reason).
            let reason = try? connection.query(
                "SELECT reason, count(*) AS n FROM (SELECT headers->>'motcua_error' AS reason FROM outbox "
                    + "WHERE topic LIKE '%.dlq' UNION ALL SELECT convert_from(payload, 'UTF8')::jsonb->'data'->>'reason' "
                    + "FROM outbox WHERE ce_type = 'motcua.dossier.event' "
                    + "AND convert_from(payload, 'UTF8')::jsonb->>'type' = 'intake-refused') r "
                    + "GROUP BY 1 ORDER BY 2 DESC LIMIT 1", []
            ).map { "\(try $0.decode(Int.self, "n")) dead letters or refusals, e.g.: \(try $0.decodeIfPresent(String.self, "reason") ?? "?")" }.first
            fail("warm-up dossiers were not decided within 90 s: " + (reason ?? "no dead letter (is the devbroker up?)"))
        }

        var results: [LatencyRound] = []
        for round in 1...rounds {
            if round > 1, let sql = betweenRounds {
                try connection.executeScript(sql)
                logger.warning("latency: ran between rounds", metadata: ["sql": "\(sql)"])
            }
            let count = Int(Double(rate) * seconds)
            let before = worker.stampCount
            let cpu = (processCPUSeconds(), postgresCPU?.seconds() ?? .nan, machineCPUSeconds())
            let begin = ContinuousClock.now
            let sent = try window(count: count, rate: rate)
            let achieved = Double(count) / (ContinuousClock.now - begin).seconds
            _ = waitDecided(sent.map(\.id), before: before, timeout: .seconds(15))
            let elapsed = (ContinuousClock.now - begin).seconds
            let cores = (
                (processCPUSeconds() - cpu.0) / elapsed, ((postgresCPU?.seconds() ?? .nan) - cpu.1) / elapsed,
                (machineCPUSeconds() - cpu.2) / elapsed
            )
            let ids = sent.map(\.id)
            let receptionStamps = reception.stamps(for: ids)
            let workerStamps = worker.stamps(for: ids)
            var total: [Double] = []
            var first: [Double] = []
            var handoff: [Double] = []
            var work: [Double] = []
            var relay: [Double] = []
            var fetch: [Double] = []
            for (i, (_, at)) in sent.enumerated() {
                guard let decided = workerStamps[i] else { continue }
                total.append((decided.commit - at).seconds * 1000)
                work.append((decided.commit - decided.start).seconds * 1000)
                if let received = receptionStamps[i] {
                    first.append((received.commit - at).seconds * 1000)
                    handoff.append((decided.start - received.commit).seconds * 1000)
                    if let created = decided.created {
                        relay.append(Double(created) - received.commitWall * 1000)
                        fetch.append(decided.startWall * 1000 - Double(created))
                    }
                }
            }
            let result = LatencyRound(
                sent: count, decided: total.count, total: total.sorted(), reception: first.sorted(),
                handoff: handoff.sorted(), relay: relay.sorted(), fetch: fetch.sorted(), worker: work.sorted(),
                achievedRate: achieved, processCores: cores.0, postgresCores: cores.1, machineCores: cores.2)
            report(round, result)
            results.append(result)
        }
        return results
    }
}
