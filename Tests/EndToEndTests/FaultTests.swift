import Audit
import Authority
import EffectivelyOnce
import Foundation
import Kafka
import Messages
import Pages
import Postgres
import ServiceCommands
import Services
import Simulation
import Store
import TestSupport
import Testing

/// Crashes and outages with real processes: SIGKILL, and a PostgreSQL server really stopped.
@Suite("Faults", .serialized)
struct FaultTests {
    /// Every dossier has exactly one decision per step it reached, and every dossier completed.
    func expectExactlyOnce(_ pipeline: Pipeline, _ ids: [String]) throws {
        let counts = try pipeline.decisionCounts(ids)
        let doubled = counts.filter { $0.value != 1 }
        #expect(doubled.isEmpty, "decided more than once: \(doubled.prefix(5))")
        #expect(try pipeline.completed(ids) == ids.count)
    }

    @Test("a worker SIGKILLed mid-stream and restarted decides every dossier exactly once")
    func workerKilledAndRestarted() async throws {
        let pipeline = try Pipeline(seed: 21)
        try pipeline.startReception()
        try pipeline.startWorker("labour", extra: ["--batch-size", "100"])
        let dossiers = (0..<2_000).map { _ in pipeline.generator.next(department: "labour", submittedAt: Date()) }
        let ids = dossiers.map(\.id)
        try await pipeline.submit(Array(dossiers.prefix(1_000)))
        let some = await eventually(timeout: .seconds(60)) {
            try pipeline.count("SELECT count(*) FROM decisions WHERE dossier_id = ANY($1::text[])", [ids]) >= 100
        }
        #expect(some, "\(pipeline.logs())")
        await pipeline.processes["labour"]!.crash()
        // The rest arrives while the worker is dead, so the restarted one surely has work left mid-stream.
        try await pipeline.submit(Array(dossiers.dropFirst(1_000)))
        let partial = try pipeline.count("SELECT count(*) FROM decisions WHERE dossier_id = ANY($1::text[])", [ids])
        #expect(partial < ids.count, "the worker finished before it was killed; the test proves nothing")
        try pipeline.startWorker("labour", name: "labour-again")
        let done = await eventually(timeout: .seconds(120)) { try pipeline.completed(ids) == ids.count }
        #expect(done, "\(pipeline.logs())")
        try expectExactlyOnce(pipeline, ids)
    }

    @Test("two workers in one group, one SIGKILLed: the other takes its partitions over")
    func memberKilled() async throws {
        let pipeline = try Pipeline(seed: 22)
        try pipeline.startReception()
        try pipeline.startWorker("culture", name: "culture-a", extra: ["--batch-size", "50"])
        try pipeline.startWorker("culture", name: "culture-b", extra: ["--batch-size", "50"])
        // Let both join so that each owns partitions.
        try await Task.sleep(for: .seconds(6))
        let dossiers = (0..<1_500).map { _ in pipeline.generator.next(department: "culture", submittedAt: Date()) }
        let ids = dossiers.map(\.id)
        try await pipeline.submit(dossiers)
        let some = await eventually(timeout: .seconds(60)) {
            try pipeline.count("SELECT count(*) FROM decisions WHERE dossier_id = ANY($1::text[])", [ids]) >= 100
        }
        #expect(some, "\(pipeline.logs())")
        await pipeline.processes["culture-b"]!.crash()
        let done = await eventually(timeout: .seconds(120)) { try pipeline.completed(ids) == ids.count }
        #expect(done, "\(pipeline.logs())")
        try expectExactlyOnce(pipeline, ids)
    }

    @Test("PostgreSQL stopped and restarted mid-stream: nothing lost, nothing doubled")
    func databaseOutage() async throws {
        let server = try ThrowawayPostgres()
        let setup = try PostgresConnection.connect(PostgresConfiguration(connectionString: server.url), logger: TestEnvironment.logger)
        try PostgresMigrator(directory: TestEnvironment.root.appendingPathComponent("schemas/postgres")).migrate(setup)
        let pipeline = try Pipeline(databaseURL: server.url, seed: 23)
        try pipeline.startReception()
        try pipeline.startWorker("environment", extra: ["--batch-size", "100"])
        let dossiers = (0..<1_500).map { _ in pipeline.generator.next(department: "environment", submittedAt: Date()) }
        let ids = dossiers.map(\.id)
        try await pipeline.submit(Array(dossiers.prefix(700)))
        let some = await eventually(timeout: .seconds(60)) {
            try pipeline.count("SELECT count(*) FROM decisions WHERE dossier_id = ANY($1::text[])", [ids]) >= 100
        }
        #expect(some, "\(pipeline.logs())")
        try server.stop()
        // Dossiers keep arriving while the database is down.
        try await pipeline.submit(Array(dossiers.dropFirst(700)))
        try await Task.sleep(for: .seconds(3))
        let alive = pipeline.processes.values.allSatisfy { $0.isRunning }
        #expect(alive, "a service died with the database: \(pipeline.logs())")
        try server.start()
        try pipeline.database.reconnect()
        let done = await eventually(timeout: .seconds(120)) { try pipeline.completed(ids) == ids.count }
        #expect(done, "completed \((try? pipeline.completed(ids)) ?? -1)/\(ids.count)\n\(pipeline.logs())")
        try expectExactlyOnce(pipeline, ids)
        let received = try pipeline.count("SELECT count(*) FROM dossiers WHERE id = ANY($1::text[])", [ids])
        #expect(received == ids.count, "received \(received) of \(ids.count)")
    }
}
