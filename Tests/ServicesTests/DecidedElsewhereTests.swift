import Authority
@testable import EffectivelyOnce
import Foundation
import Kafka
import Messages
import Postgres
@testable import Services
import Simulation
import Store
import TestSupport
import Testing

/// A worker that wakes after its partitions moved (SIGSTOP past the session timeout) redoes the batch the new owner
/// is deciding, in its own transaction, on its own connection. The steps the other process stored are repeats:
/// skipped and counted (`motcua_duplicates_skipped`), never dead-lettered, never decided twice.
@Suite("Department worker: steps decided by another process")
struct DecidedElsewhereTests {
    let database: TestDatabase
    let bundle: AuthorityBundle
    var generator: DossierGenerator
    var offset: Int64 = 0

    init() throws {
        database = try TestDatabase("elsewhere")
        bundle = try AuthorityBundle.load(from: TestEnvironment.root.appendingPathComponent("deploy"))
        generator = DossierGenerator(bundle: bundle, seed: 77)
    }

    /// A culture worker as another process would run it: its own connection, prepared, the delegation head read.
    func process() throws -> (DepartmentWorker, PostgresConnection) {
        let worker = try DepartmentWorker(department: "culture", bundle: bundle, clock: SystemClock(), logger: TestEnvironment.logger)
        let connection = try PostgresConnection.connect(
            PostgresConfiguration(connectionString: database.url), logger: TestEnvironment.logger)
        try worker.prepare(connection)
        _ = try connection.transaction { tx in try worker.write([], staged: nil, into: tx) }
        return (worker, connection)
    }

    /// Karaoke licences (1.001064) received by reception, as step 0 tasks on dossiers.culture.
    mutating func steps(_ count: Int) throws -> [KafkaMessage] {
        let encoder = MessageCoding.encoder()
        return try (0..<count).map { _ in
            var dossier = generator.next(procedure: "1.001064", submittedAt: Date(), incompleteShare: 0, outsideShare: 0)
            dossier.applicant = Dossier.Applicant(kind: .enterprise, id: "0100000009", name: "Test Enterprise")
            try ReceptionStore.insert([ReceptionStore.Row(
                id: dossier.id, code: "VH-" + dossier.id, procedure: dossier.procedure, channel: dossier.channel.rawValue,
                commune: dossier.commune, applicantKind: dossier.applicant.kind.rawValue, submittedAt: dossier.submittedAt,
                receivedAt: Date(), status: "received", department: "culture", dueDate: nil,
                body: String(decoding: try encoder.encode(dossier), as: UTF8.self),
                bodySha256: try MessageCoding.digest(of: dossier, encoder: encoder))], in: database.connection)
            let task = StepTask(
                taskId: UUID(), dossier: dossier, code: "VH-1", step: 0, round: 0, department: "culture",
                receivedAt: Date(), dueDate: nil)
            offset += 1
            return KafkaMessage(
                topic: Topics().department("culture"), partition: 0, offset: offset, key: Array(dossier.id.utf8),
                value: try MessageCoding.encode(task, encoder: encoder),
                headers: [KafkaHeader(name: "ce_type", value: Array(MessageType.step.utf8))])
        }
    }

    func count(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) throws -> Int {
        try database.connection.query(sql, parameters)[0].decode(Int.self, at: 0)
    }

    /// Backends of this database waiting on a lock (another transaction's rows).
    func waiting() throws -> Int {
        try count(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")
    }

    /// `body`'s outcome on a thread of its own, once it is done.
    final class Background<T: Sendable>: @unchecked Sendable {
        private let lock = NSLock()
        private var outcome: Result<T, any Error>?

        /// Waits (polling, so without a thread of Swift's cooperative pool held) until `body` returned or threw.
        var value: T {
            get async throws {
                let done = await eventually(timeout: .seconds(180)) { self.isDone }
                #expect(done, "the zombie's write did not return")
                guard let result = lock.withLock({ outcome }) else { throw CancellationError() }
                return try result.get()
            }
        }

        private var isDone: Bool { lock.withLock { outcome != nil } }

        init(_ body: @escaping @Sendable () throws -> T) {
            // A thread started here and now: not a task that waits for a thread of the cooperative pool, which the
            // suites running in parallel may hold for longer than the test waits for the zombie to block.
            let thread = Thread { [self] in
                let result = Result { try body() }
                lock.withLock { outcome = result }
            }
            thread.name = "elsewhere"
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    /// Runs `body` on a thread of its own, started at once.
    func background<T: Sendable>(_ body: @escaping @Sendable () throws -> T) -> Background<T> { Background(body) }

    @Test("a woken zombie redoing the batch the new owner is deciding waits, then skips every step as decided elsewhere: no dead letter, one decision each")
    mutating func zombieRedoesBatch() async throws {
        defer { database.drop() }
        let batch = try steps(6)
        let (owner, ownerConnection) = try process()
        let (zombie, zombieConnection) = try process()
        // The new owner's transaction holds the decisions, not committed yet.
        try ownerConnection.execute("BEGIN")
        let decided = try owner.write(batch, staged: owner.stage(batch), into: ownerConnection)
        #expect(decided.processed == 6)
        // The zombie wakes with the same batch staged and writes it: it waits on the owner's rows.
        let staged = zombie.stage(batch)
        let redo = background { try zombieConnection.transaction { tx in try zombie.write(batch, staged: staged, into: tx) } }
        #expect(await eventually(timeout: .seconds(60)) { try waiting() >= 1 }, "the zombie did not wait on the owner")
        try ownerConnection.execute("COMMIT")
        let report = try await redo.value
        #expect(report.skippedDuplicates == 6)
        #expect(report.processed == 0)
        #expect(report.deadLetters == 0)
        let ids = batch.map { String(decoding: $0.key ?? [], as: UTF8.self) }
        #expect(try count("SELECT count(*) FROM decisions WHERE dossier_id = ANY($1::text[])", [ids]) == 6)
        #expect(try count("SELECT count(*) FROM outbox WHERE topic LIKE '%.dlq'") == 0)
        // Only the owner's events: one per decision, and one stage entry per stage (a decision prepared for people
        // enters the department's first stage, issue 20); none of the zombie's.
        let eventTypes = """
            SELECT convert_from(payload, 'UTF8')::jsonb->>'type' AS type FROM outbox
            WHERE topic = $1 AND key = ANY($2::text[])
            """
        #expect(try count("SELECT count(*) FROM (\(eventTypes)) e WHERE type <> 'stage-moved'", [Topics().events, ids]) == 6)
        #expect(try count("SELECT count(*) FROM (\(eventTypes)) e WHERE type = 'stage-moved'", [Topics().events, ids])
            == count("SELECT count(*) FROM stages WHERE dossier_id = ANY($1::text[])", [ids]))
    }

    @Test("steps another process commits between the duplicate read and the copy are skipped too (the copy is retried), not a failed batch")
    mutating func decidedDuringTheCopy() async throws {
        defer { database.drop() }
        let batch = try steps(2)
        let (first, firstConnection) = try process()
        let (third, thirdConnection) = try process()
        let (zombie, zombieConnection) = try process()
        // Step 0 is stored and committed; step 1 is being stored by a third process, not committed yet.
        _ = try firstConnection.transaction { tx in try first.write([batch[0]], staged: nil, into: tx) }
        try thirdConnection.execute("BEGIN")
        _ = try third.write([batch[1]], staged: nil, into: thirdConnection)
        // The zombie meets step 0 at once (the unique key), reads what is decided (step 0 only) and copies step 1:
        // that waits on the third process, which then commits.
        let redo = background { try zombieConnection.transaction { tx in try zombie.write(batch, staged: nil, into: tx) } }
        #expect(await eventually(timeout: .seconds(60)) { try waiting() >= 1 }, "the zombie did not wait on the third process")
        try thirdConnection.execute("COMMIT")
        let report = try await redo.value
        #expect(report.skippedDuplicates == 2)
        #expect(report.deadLetters == 0)
        let ids = batch.map { String(decoding: $0.key ?? [], as: UTF8.self) }
        #expect(try count("SELECT count(*) FROM decisions WHERE dossier_id = ANY($1::text[])", [ids]) == 2)
        #expect(try count("SELECT count(*) FROM outbox WHERE topic LIKE '%.dlq'") == 0)
    }

    @Test("a batch partly decided elsewhere: its fresh steps enter their stages (COPY, a slip line and a stage-moved event each), its repeats enter none and fail nothing")
    mutating func freshStepsEnterStages() async throws {
        defer { database.drop() }
        let batch = try steps(40)
        let (first, firstConnection) = try process()
        let (second, secondConnection) = try process()
        // Half the steps are decided (and their stages entered) by one process; the other redoes the whole batch.
        let half = Array(batch.prefix(20))
        _ = try firstConnection.transaction { tx in try first.write(half, staged: nil, into: tx) }
        let ids = batch.map { String(decoding: $0.key ?? [], as: UTF8.self) }
        let prepared = """
            SELECT count(*) FROM decisions WHERE dossier_id = ANY($1::text[]) AND review = 'official'
              AND outcome IN ('approve', 'refuse')
            """
        let stagesBefore = try count("SELECT count(*) FROM stages WHERE dossier_id = ANY($1::text[])", [ids])
        #expect(try stagesBefore == count(prepared, [ids]))
        let report = try secondConnection.transaction { tx in try second.write(batch, staged: nil, into: tx) }
        #expect(report.skippedDuplicates == 20)
        #expect(report.processed == 20)
        #expect(report.deadLetters == 0)
        #expect(try count("SELECT count(*) FROM decisions WHERE dossier_id = ANY($1::text[])", [ids]) == 40)
        // One stage and one first slip line per decision prepared for people, whichever process stored it.
        let stages = try count("SELECT count(*) FROM stages WHERE dossier_id = ANY($1::text[])", [ids])
        try #require(stages > stagesBefore, "none of the fresh steps was prepared for an official")
        #expect(try stages == count(prepared, [ids]))
        #expect(try count(
            """
            SELECT count(*) FROM stage_handovers h JOIN stages s USING (dossier_id, step, round)
            WHERE h.dossier_id = ANY($1::text[]) AND h.line = 1 AND h.action = 'assign' AND h.to_stage = s.stage
              AND h.department = s.department AND h.division = s.division AND h.at = s.entered_at
              AND h.to_official IS NOT DISTINCT FROM s.assignee
            """, [ids]) == stages)
        #expect(try count(
            """
            SELECT count(*) FROM stages WHERE dossier_id = ANY($1::text[]) AND handovers = 1 AND position = 0
              AND stage_count = cardinality(string_to_array(route, ','))
              AND role = split_part(split_part(route, ',', 1), ' ', 2) AND stage = split_part(route, ' ', 1)
            """, [ids]) == stages)
        let moved = """
            SELECT count(*) FROM outbox WHERE topic = $1 AND key = ANY($2::text[])
              AND convert_from(payload, 'UTF8')::jsonb->>'type' = 'stage-moved'
            """
        #expect(try count(moved, [Topics().events, ids]) == stages)
    }

    @Test("the same step task twice in one batch (a relay's republish landing beside the original): decided once, and its events and forward kept once, not dropped with the repeat")
    mutating func repeatInTheSameBatch() async throws {
        defer { database.drop() }
        let tasks = try steps(10)
        // Each task again, later in the same batch, as a republished copy arrives (a new offset, the same bytes).
        let batch = tasks + tasks.map { message in
            offset += 1
            return KafkaMessage(
                topic: message.topic, partition: message.partition, offset: offset, key: message.key,
                value: message.value, headers: message.headers)
        }
        let (worker, connection) = try process()
        let report = try connection.transaction { tx in try worker.write(batch, staged: nil, into: tx) }
        let ids = tasks.map { String(decoding: $0.key ?? [], as: UTF8.self) }
        #expect(report.skippedDuplicates == 10)
        #expect(report.deadLetters == 0)
        #expect(try count("SELECT count(*) FROM decisions WHERE dossier_id = ANY($1::text[])", [ids]) == 10)
        // Every stored decision has its one decision event (what the coordinator projects and the portal syncs).
        #expect(try count(
            """
            SELECT count(*) FROM (
                SELECT key FROM outbox WHERE topic = $1 AND key = ANY($2::text[])
                  AND convert_from(payload, 'UTF8')::jsonb->>'type' IN
                      ('decided', 'prepared', 'forwarded', 'supplement-requested', 'escalated-authority', 'fee-requested')
                GROUP BY key HAVING count(*) = 1) once
            """, [Topics().events, ids]) == 10)
    }

    @Test("a second consumer group fed the same step tasks through the real consumer decides nothing again and dead-letters nothing")
    mutating func secondGroup() async throws {
        defer { database.drop() }
        let topics = try TestTopics.system("elsewhere")
        let topic = topics.department("culture")
        let batch = try steps(12)
        let kafka = KafkaClientOptions(bootstrapServers: try TestEnvironment.kafkaBootstrap())
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(client: kafka), logger: TestEnvironment.logger)
        for message in batch {
            try producer.produce(KafkaOutgoingMessage(topic: topic, key: message.key ?? [], value: message.value))
        }
        try producer.flush()
        let ids = batch.map { String(decoding: $0.key ?? [], as: UTF8.self) }
        func consume(_ group: String) async throws -> Bool {
            let worker = try DepartmentWorker(
                department: "culture", bundle: bundle, clock: SystemClock(), topics: topics, logger: TestEnvironment.logger)
            let consumer = EffectivelyOnceConsumer(
                settings: EffectivelyOnceConsumer.Settings(group: topics.group(group), topics: [topic]), kafka: kafka,
                postgres: PostgresConfiguration(connectionString: database.url), writer: worker, logger: TestEnvironment.logger)
            let run = Task.detached { try await onThread("consumer") { try consumer.runBlocking() } }
            defer { consumer.stop() }
            // Every message of the topic consumed (the group's stored offsets sum to the messages produced).
            let done = await eventually(timeout: TestEnvironment.consumerDeadline) {
                try count(
                    "SELECT coalesce(sum(next_offset), 0)::int FROM consumer_offsets WHERE consumer_group = $1",
                    [topics.group(group)]) == batch.count
            }
            consumer.stop()
            try await run.value
            return done
        }
        #expect(try await consume("motcua.culture"))
        #expect(try count("SELECT count(*) FROM decisions WHERE dossier_id = ANY($1::text[])", [ids]) == 12)
        let events = try count("SELECT count(*) FROM outbox WHERE key = ANY($1::text[])", [ids])
        #expect(try await consume("motcua.culture.second"))
        #expect(try count("SELECT count(*) FROM decisions WHERE dossier_id = ANY($1::text[])", [ids]) == 12)
        #expect(try count("SELECT count(*) FROM outbox WHERE topic LIKE '%.dlq'") == 0)
        #expect(try count("SELECT count(*) FROM outbox WHERE key = ANY($1::text[])", [ids]) == events, "the second group wrote messages")
    }
}
