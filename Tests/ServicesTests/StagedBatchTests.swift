import Audit
import Authority
@testable import EffectivelyOnce
import Foundation
import Kafka
import Messages
import Pages
import Postgres
import ServiceCommands
@testable import Services
import Simulation
import Store
import TestSupport
import Testing

/// A department worker decides a batch while the previous batch's transaction runs (`stage`), then stores it
/// (`write(_:staged:into:)`): what it staged is stored as is, unless the delegations changed in between.
@Suite("Department worker: batches staged beside the transaction before")
struct StagedBatchTests {
    let database: TestDatabase
    let worker: DepartmentWorker
    var generator: DossierGenerator
    var offset: Int64 = 0

    init() throws {
        database = try TestDatabase("staged")
        let bundle = try AuthorityBundle.load(from: TestEnvironment.root.appendingPathComponent("deploy"))
        worker = try DepartmentWorker(department: "culture", bundle: bundle, clock: SystemClock(), logger: TestEnvironment.logger)
        generator = DossierGenerator(bundle: bundle, seed: 31)
        try worker.prepare(database.connection)
        // The first transaction reads the delegation change head; until then nothing staged can be trusted.
        _ = try database.connection.transaction { tx in try worker.write([], staged: nil, into: tx) }
    }

    /// Reception's receipts of `dossiers` for culture (what a worker checks a step 0 task against).
    func receive(_ dossiers: [Dossier]) throws {
        let encoder = MessageCoding.encoder()
        try ReceptionStore.insert(try dossiers.map { dossier in
            ReceptionStore.Row(
                id: dossier.id, code: "VH-" + dossier.id, procedure: dossier.procedure,
                channel: dossier.channel.rawValue, commune: dossier.commune, applicantKind: dossier.applicant.kind.rawValue,
                submittedAt: dossier.submittedAt, receivedAt: Date(), status: "received", department: "culture",
                dueDate: nil, body: String(decoding: try encoder.encode(dossier), as: UTF8.self),
                bodySha256: try MessageCoding.digest(of: dossier, encoder: encoder))
        }, in: database.connection)
    }

    /// Step 0 tasks of these dossiers, as reception would send them.
    mutating func steps(of dossiers: [Dossier]) throws -> [KafkaMessage] {
        try dossiers.map { dossier in
            let task = StepTask(
                taskId: UUID(), dossier: dossier, code: "VH-1", step: 0, round: 0, department: "culture",
                receivedAt: Date(), dueDate: nil)
            offset += 1
            return KafkaMessage(
                topic: Topics().department("culture"), partition: 0, offset: offset, key: Array(dossier.id.utf8),
                value: try MessageCoding.encode(task, encoder: MessageCoding.encoder()),
                headers: [KafkaHeader(name: "ce_type", value: Array(MessageType.step.utf8))])
        }
    }

    mutating func karaokeDossier() -> Dossier {
        var dossier = generator.next(procedure: "1.001064", submittedAt: Date(), incompleteShare: 0, outsideShare: 0)
        dossier.applicant = Dossier.Applicant(kind: .enterprise, id: "0100000009", name: "Test Enterprise")
        return dossier
    }

    /// Karaoke licences (1.001064, delegated by uq-vh-2024-01) of enterprises, as step tasks on dossiers.culture,
    /// received by reception unless `received` is false.
    mutating func karaokeSteps(_ count: Int, step: Int = 0, received: Bool = true) throws -> [KafkaMessage] {
        try (0..<count).map { _ in
            let dossier = karaokeDossier()
            if received { try receive([dossier]) }
            let task = StepTask(
                taskId: UUID(), dossier: dossier, code: "VH-1", step: step, round: 0, department: "culture",
                receivedAt: Date(), dueDate: nil)
            offset += 1
            return KafkaMessage(
                topic: Topics().department("culture"), partition: 0, offset: offset, key: Array(dossier.id.utf8),
                value: try MessageCoding.encode(task, encoder: MessageCoding.encoder()),
                headers: [KafkaHeader(name: "ce_type", value: Array(MessageType.step.utf8))])
        }
    }

    func decisions(_ messages: [KafkaMessage]) throws -> [(outcome: String, reason: String?, decidedAt: Date)] {
        let ids = try messages.map { try #require(String(validating: $0.key ?? [], as: UTF8.self)) }
        return try database.connection.query(
            "SELECT outcome, escalation_reason, decided_at FROM decisions WHERE dossier_id = ANY($1::text[])", [ids]
        ).map {
            (try $0.decode(String.self, "outcome"), try $0.decodeIfPresent(String.self, "escalation_reason"),
             try $0.decode(Date.self, "decided_at"))
        }
    }

    /// Writes `batch` in a transaction that is then rolled back.
    func writeRolledBack(_ batch: [KafkaMessage]) {
        struct Abort: Error {}
        #expect(throws: Abort.self) {
            try database.connection.transaction { tx in
                _ = try worker.write(batch, staged: nil, into: tx)
                throw Abort()
            }
        }
    }

    @Test("a step beyond int4 is dead-lettered with its reason, and the rest of its batch is decided")
    mutating func stepBeyondInt4() throws {
        defer { database.drop() }
        let good = try karaokeSteps(2)
        let bad = try karaokeSteps(1, step: 3_000_000_000)
        let batch = [good[0], bad[0], good[1]]
        let report = try database.connection.transaction { tx in
            try worker.write(batch, staged: worker.stage(batch), into: tx)
        }
        #expect(report.processed == 2)
        #expect(report.deadLetters == 1)
        #expect(try decisions(good).count == 2)
        #expect(try decisions(bad).isEmpty)
        let letters = try database.connection.query(
            "SELECT headers->>'motcua_error' AS error FROM outbox WHERE topic = $1", [Topics.deadLetter(of: Topics().department("culture"))])
        #expect(letters.count == 1)
        #expect(try letters.first?.decode(String.self, "error").contains("step 3000000000") == true)
    }

    @Test("a step task reception did not receive, or whose dossier differs from the receipt, is dead-lettered `not-received` with an event; the rest of its batch is decided")
    mutating func stepNotReceived() throws {
        defer { database.drop() }
        let good = try karaokeSteps(2)
        let forged = try karaokeSteps(1, received: false)
        var original = karaokeDossier()
        try receive([original])
        original.facts["fireSafetyValid"] = .bool(!(original.facts["fireSafetyValid"] == .bool(true)))
        let altered = try steps(of: [original])
        let batch = [good[0], forged[0], altered[0], good[1]]
        let report = try database.connection.transaction { tx in
            try worker.write(batch, staged: worker.stage(batch), into: tx)
        }
        #expect(report.processed == 2)
        #expect(report.deadLetters == 2)
        #expect(report.outcomes["not-received"] == 2)
        #expect(try decisions(good).count == 2)
        #expect(try decisions(forged + altered).isEmpty)
        let letters = try database.connection.query(
            "SELECT key, headers->>'motcua_error' AS error FROM outbox WHERE topic = $1 ORDER BY id",
            [Topics.deadLetter(of: Topics().department("culture"))])
        #expect(try letters.map { try $0.decode(String.self, "key") } == [forged, altered].map { String(decoding: $0[0].key ?? [], as: UTF8.self) })
        #expect(try letters.allSatisfy { try $0.decode(String.self, "error").hasPrefix("not-received: ") })
        let events = try database.connection.query(
            """
            SELECT key FROM outbox WHERE topic = 'dossier.events'
              AND convert_from(payload, 'UTF8')::jsonb->>'type' = 'step-rejected'
              AND convert_from(payload, 'UTF8')::jsonb->'data'->>'reason' = 'not-received' ORDER BY id
            """)
        #expect(events.count == 2)
        // Only the decided steps' events otherwise: none for the refused dossiers but the step-rejected ones.
        #expect(try database.connection.query(
            "SELECT count(*) AS n FROM outbox WHERE key = ANY($1::text[]) AND topic = 'dossier.events'",
            [(forged + altered).map { String(decoding: $0.key ?? [], as: UTF8.self) }])[0].decode(Int.self, "n") == 2)
    }

    @Test("a forged copy of a received step task (same dossier, step and round, another body) in the genuine one's batch is refused alone: the genuine step keeps its decision and its event")
    mutating func forgedTwinInTheSameBatch() throws {
        defer { database.drop() }
        let genuine = karaokeDossier()
        try receive([genuine])
        var twin = genuine
        twin.facts["fireSafetyValid"] = .bool(!(genuine.facts["fireSafetyValid"] == .bool(true)))
        let genuineTask = try steps(of: [genuine])
        let forgedTask = try steps(of: [twin])
        // The forged copy first and after: the refusal must take its own messages only, whichever comes first.
        let batch = forgedTask + genuineTask
        let report = try database.connection.transaction { tx in
            try worker.write(batch, staged: worker.stage(batch), into: tx)
        }
        #expect(report.processed == 1)
        #expect(report.outcomes["not-received"] == 1)
        #expect(try decisions(genuineTask).count == 1)
        let types = try database.connection.query(
            """
            SELECT convert_from(payload, 'UTF8')::jsonb->>'type' AS type FROM outbox
            WHERE key = $1 AND topic = 'dossier.events' ORDER BY id
            """, [genuine.id]).map { try $0.decode(String.self, "type") }
        // One step-rejected for the forged copy, and the genuine decision's own event.
        #expect(types.filter { $0 == "step-rejected" }.count == 1, "\(types)")
        #expect(types.filter { ["decided", "prepared", "supplement-requested", "escalated-authority"].contains($0) }.count == 1,
                "\(types)")
    }

    /// The worker matches a step task's dossier by the digest of its bytes as sent, and when that finds nothing, by
    /// the digest of its canonical form: a genuine task written another way (pretty-printed, keys unsorted, slashes
    /// escaped) is decided, and a forged copy written that way is still refused, beside a task written as usual.
    @Test("a received step task written in another JSON form is decided; a forged one in that form is refused")
    mutating func otherFormsOfTheSameDossier() throws {
        defer { database.drop() }
        let usual = karaokeDossier()
        let spaced = karaokeDossier()
        try receive([usual, spaced])
        var forged = spaced
        forged.facts["fireSafetyValid"] = .bool(!(spaced.facts["fireSafetyValid"] == .bool(true)))
        let pretty = JSONEncoder()
        pretty.outputFormatting = [.prettyPrinted]
        pretty.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode(MessageCoding.formatInstant(date))
        }
        func prettyTask(_ dossier: Dossier) throws -> KafkaMessage {
            var message = try steps(of: [dossier])[0]
            let task = try MessageCoding.decodeStepTask(message.value, decoder: MessageCoding.decoder())
            message.value = Array(try pretty.encode(task))
            #expect(try MessageCoding.decodeStepTaskWithSentDigest(message.value, decoder: MessageCoding.decoder())
                .sentDigest != MessageCoding.digest(of: dossier, encoder: MessageCoding.encoder()))
            return message
        }
        let batch = try steps(of: [usual]) + [try prettyTask(forged), try prettyTask(spaced)]
        let report = try database.connection.transaction { tx in
            try worker.write(batch, staged: worker.stage(batch), into: tx)
        }
        #expect(report.processed == 2)
        #expect(report.outcomes["not-received"] == 1)
        #expect(try decisions([batch[0]]).count == 1)
        #expect(try decisions([batch[2]]).count == 1)
        let rejected = try database.connection.query(
            """
            SELECT count(*)::int8 AS n FROM outbox
            WHERE key = $1 AND convert_from(payload, 'UTF8')::jsonb->>'type' = 'step-rejected'
            """, [spaced.id])[0].decode(Int64.self, "n")
        #expect(rejected == 1)
    }

    @Test("explanation ids are kept only once their transaction committed; a stale one fails its batch once and is forgotten")
    mutating func explanationIdsAfterCommit() throws {
        defer { database.drop() }
        let first = try karaokeSteps(2)
        writeRolledBack(first)
        #expect(worker.explanationIds.count == 0, "ids of a rolled-back transaction were kept")
        // The next transaction stores no decision (an empty batch) and commits: still nothing of the rolled-back one.
        try database.connection.transaction { tx in _ = try worker.write([], staged: nil, into: tx) }
        worker.committed()
        #expect(worker.explanationIds.count == 0, "ids of a rolled-back transaction were kept past the next commit")
        writeRolledBack(first)
        // A caller that reported the rolled-back transaction as committed: the ids it keeps cite nothing.
        worker.committed()
        #expect(worker.explanationIds.count > 0)
        let stale = #expect(throws: PostgresError.self) {
            try database.connection.transaction { tx in _ = try worker.write(first, staged: nil, into: tx) }
        }
        #expect(stale?.sqlState == "23503")
        #expect(worker.explanationIds.count == 0, "a stale id was not forgotten")
        try database.connection.transaction { tx in _ = try worker.write(first, staged: nil, into: tx) }
        worker.committed()
        #expect(worker.explanationIds.count > 0)
        #expect(try decisions(first).count == 2)
        // Known ids need no call: with the function out of reach, a batch of the same kinds is still stored.
        try database.connection.execute("ALTER FUNCTION motcua_explanation_ids(jsonb[]) RENAME TO motcua_explanation_ids_away")
        let second = try karaokeSteps(3)
        try database.connection.transaction { tx in _ = try worker.write(second, staged: nil, into: tx) }
        worker.committed()
        try database.connection.execute("ALTER FUNCTION motcua_explanation_ids_away(jsonb[]) RENAME TO motcua_explanation_ids")
        #expect(try decisions(second).count == 3)
        // A new connection may be to another database: everything is learned again.
        try worker.prepare(database.connection)
        #expect(worker.explanationIds.count == 0)
    }

    @Test("a stale explanation id met on the duplicate path (a republished step beside new ones) is forgotten too")
    mutating func staleIdOnDuplicatePath() throws {
        defer { database.drop() }
        let first = try karaokeSteps(2)
        // Ids of a rolled-back transaction, wrongly reported as committed: their rows do not exist.
        writeRolledBack(first)
        worker.committed()
        // Another worker decides the same steps: the same explanations stored again, under other ids.
        let other = try DepartmentWorker(
            department: "culture", bundle: worker.bundle, clock: SystemClock(), logger: TestEnvironment.logger)
        try database.connection.transaction { tx in _ = try other.write(first, staged: nil, into: tx) }
        // Republished steps (23505 first, then the rest copied again) beside new ones that cite the stale ids.
        let mixed = first + (try karaokeSteps(2))
        let stale = #expect(throws: PostgresError.self) {
            try database.connection.transaction { tx in _ = try worker.write(mixed, staged: nil, into: tx) }
        }
        #expect(stale?.sqlState == "23503")
        #expect(worker.explanationIds.count == 0, "a stale id met on the duplicate path was not forgotten")
        let report = try database.connection.transaction { tx in try worker.write(mixed, staged: nil, into: tx) }
        #expect(report.processed == 2)
        #expect(report.skippedDuplicates == 2)
    }

    @Test("what was staged is stored as staged; a revocation recorded in between makes the worker decide again")
    mutating func stagedThenRevoked() async throws {
        defer { database.drop() }
        let first = try karaokeSteps(3)
        let staged = worker.stage(first)
        #expect(staged != nil)
        try await Task.sleep(for: .milliseconds(50))
        let writing = Date()
        let report = try database.connection.transaction { tx in try worker.write(first, staged: staged, into: tx) }
        #expect(report.processed == 3)
        let stored = try decisions(first)
        #expect(stored.count == 3)
        #expect(stored.allSatisfy { $0.outcome == "approve" }, "\(stored)")
        // Decided when staged, not when written: the staged work was used, not redone.
        #expect(stored.allSatisfy { $0.decidedAt < writing }, "\(stored) vs \(writing)")

        let second = try karaokeSteps(3)
        let stale = worker.stage(second)
        let revoke = try await CommandRun.motcua(
            "delegations", "revoke", "uq-vh-2024-01", "--instrument", "No. 9999/QĐ-UBND",
            environment: database.environment)
        #expect(revoke.status == 0, "\(revoke)")
        _ = try database.connection.transaction { tx in try worker.write(second, staged: stale, into: tx) }
        let after = try decisions(second)
        #expect(after.count == 3)
        #expect(after.allSatisfy { $0.outcome == "escalate" && $0.reason == "revoked" }, "\(after)")
    }
}
