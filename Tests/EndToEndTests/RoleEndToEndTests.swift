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

/// The services connected as their own PostgreSQL roles (schemas/postgres/003_roles.sql, 017): reception as
/// motcua_reception, a worker as motcua_worker_labour — COPYs, offsets, outbox relay and all. Each process logs in
/// as a throwaway LOGIN role that is a member of the service role with `ALTER ROLE … SET role = <service role>`, so
/// its sessions run as the service role from the start (one way deploy/README.md describes; the other is LOGIN on
/// the service role itself, which the shared test cluster must not get).
@Suite("End to end as database roles", .serialized)
struct RoleEndToEndTests {
    /// A LOGIN role acting as `role`, and DATABASE_URL for it (the test cluster trusts local connections).
    static func login(as role: String, base: String, admin: PostgresConnection) throws -> (name: String, url: String) {
        let name = TestEnvironment.unique("login")
        try admin.execute("CREATE ROLE \(name) LOGIN IN ROLE \(role)", [])
        try admin.execute("ALTER ROLE \(name) SET role = '\(role)'", [])
        let rest = base[base.range(of: "://")!.upperBound...]
        let host = rest.contains("@") ? rest[rest.range(of: "@")!.upperBound...] : rest
        return (name, "postgresql://\(name)@\(host)")
    }

    @Test("reception as motcua_reception and the labour worker as motcua_worker_labour decide and publish")
    func servicesAsRoles() async throws {
        let pipeline = try Pipeline(seed: 29, ownTopics: false)
        let rules = TestEnvironment.root.appendingPathComponent("deploy").path
        // Groups: any on dossiers.intake for reception; motcua.labour.* for the labour role.
        let receptionGroup = pipeline.group("reception")
        let workerGroup = "motcua.labour.\(pipeline.suffix)"
        try pipeline.startAtEnd(group: receptionGroup, topic: pipeline.topics.intake)
        try pipeline.startAtEnd(group: workerGroup, topic: pipeline.topics.department("labour"))
        let receptionLogin = try Self.login(as: "motcua_reception", base: pipeline.databaseURL, admin: pipeline.database)
        let coordinatorLogin = try Self.login(as: "motcua_coordinator", base: pipeline.databaseURL, admin: pipeline.database)
        let workerLogin = try Self.login(as: "motcua_worker_labour", base: pipeline.databaseURL, admin: pipeline.database)
        defer {
            for process in pipeline.processes.values where process.isRunning { process.signal(SIGKILL) }
            for login in [receptionLogin.name, coordinatorLogin.name, workerLogin.name] {
                _ = try? pipeline.database.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", [login])
                _ = try? pipeline.database.execute("DROP ROLE IF EXISTS \(login)", [])
            }
        }
        // The sessions really run as the service roles.
        let probe = try PostgresConnection.connect(PostgresConfiguration(connectionString: workerLogin.url), logger: TestEnvironment.logger)
        #expect(try probe.query("SELECT current_user AS u")[0].decode(String.self, "u") == "motcua_worker_labour")
        pipeline.processes["coordinator-as-role"] = try ServiceProcess(
            "coordinator", ["--rules", rules, "--reception-only", "--reception-group", receptionGroup, "--log-level", "warning"],
            // As deployed: the coordinator's own login, and reception's through RECEPTION_DATABASE_URL (the
            // coordinator's role can no longer insert dossiers, so reception works only through it).
            environment: pipeline.processEnvironment.merging(
                ["DATABASE_URL": coordinatorLogin.url, "RECEPTION_DATABASE_URL": receptionLogin.url]) { $1 })
        pipeline.processes["labour-as-role"] = try ServiceProcess(
            "labour-worker", ["--rules", rules, "--group", workerGroup, "--log-level", "warning"],
            environment: pipeline.processEnvironment.merging(
                ["DATABASE_URL": workerLogin.url]) { $1 })

        let dossiers = (0..<6).map { _ in pipeline.generator.next(department: "labour", submittedAt: Date()) }
        let ids = dossiers.map(\.id)
        try await pipeline.submit(dossiers)
        let decided = await eventually(timeout: .seconds(90)) {
            try pipeline.count("SELECT count(*) FROM decisions WHERE dossier_id = ANY($1::text[]) AND step = 0", [ids]) == ids.count
        }
        #expect(decided, "decided \((try? pipeline.count("SELECT count(*) FROM decisions WHERE dossier_id = ANY($1::text[])", [ids])) ?? -1) of \(ids.count)\n\(pipeline.logs())")
        #expect(try pipeline.count("SELECT count(*) FROM dossiers WHERE id = ANY($1::text[])", [ids]) == ids.count)
        #expect(try pipeline.count(
            "SELECT count(*) FROM decisions WHERE dossier_id = ANY($1::text[]) AND step = 0 AND department <> 'labour'", [ids]) == 0)
        #expect(try pipeline.count(
            "SELECT count(*) FROM consumer_offsets WHERE consumer_group = $1 AND next_offset > 0", [workerGroup]) > 0)
        // Both relays, as their roles, published their outbox rows.
        let published = await eventually(timeout: .seconds(30)) {
            try pipeline.count("SELECT count(*) FROM outbox WHERE key = ANY($1::text[]) AND sent_at IS NULL", [ids]) == 0
        }
        #expect(published, "\(pipeline.logs())")
        #expect(try pipeline.count(
            "SELECT count(DISTINCT source) FROM outbox WHERE key = ANY($1::text[]) AND source IN ('reception', 'labour')", [ids]) == 2)

        // A step task reception never received, produced as kcat would (no ce_type): the worker, as its own login,
        // dead-letters it (`not-received`) and goes on. Migration 017 made that dead letter refused for a
        // department's role (a step task on a `dossiers.*` topic was taken for a forward), so the partition stalled
        // for good on one forged message; 027 mends it.
        let forged = pipeline.generator.next(department: "labour", submittedAt: Date())
        let task = StepTask(taskId: UUID(), dossier: forged, code: "LDXH-261207-999999", step: 0, round: 0,
                            department: "labour", receivedAt: Date(), dueDate: nil)
        try await pipeline.producer.send(KafkaOutgoingMessage(
            topic: pipeline.topics.department("labour"), key: forged.id,
            value: Array(try MessageCoding.encoder().encode(task))))
        let after = (0..<2).map { _ in pipeline.generator.next(department: "labour", submittedAt: Date()) }
        try await pipeline.submit(after)
        let deadLettered = await eventually(timeout: .seconds(90)) {
            try pipeline.count(
                "SELECT count(*) FROM outbox WHERE key = $1 AND topic = $2 AND headers->>'motcua_error' LIKE 'not-received:%'",
                [forged.id, DeadLetter.topic(of: pipeline.topics.department("labour"))]) == 1
                && pipeline.count("SELECT count(*) FROM decisions WHERE dossier_id = ANY($1::text[])", [after.map(\.id)]) == 2
        }
        #expect(deadLettered, "\(pipeline.logs())")
        #expect(try pipeline.count("SELECT count(*) FROM decisions WHERE dossier_id = $1", [forged.id]) == 0)
        for process in pipeline.processes.values { #expect(process.isRunning, "\(process.log.suffix(2_000))") }
    }
}

extension RoleEndToEndTests {
    /// The guards know topics and consumer groups by their unprefixed names (docs/operators.md), so a department's
    /// login serving a prefixed system had every batch refused with a bare permission error, forever. It is refused
    /// once, when the worker connects, with the reason and the remedy; nothing is written.
    @Test("a department login with a topic prefix is refused when it connects, with the reason; nothing is written")
    func prefixedSystemNeedsTheOwner() async throws {
        let pipeline = try Pipeline(seed: 31)
        #expect(!pipeline.topics.prefix.isEmpty)
        let rules = TestEnvironment.root.appendingPathComponent("deploy").path
        let workerGroup = pipeline.group("labour")
        try pipeline.startAtEnd(group: workerGroup, topic: pipeline.topics.department("labour"))
        let offsetsSQL = "SELECT COALESCE(sum(next_offset), 0)::int FROM consumer_offsets WHERE consumer_group = $1"
        let offsetsBefore = try pipeline.count(offsetsSQL, [workerGroup])
        let workerLogin = try Self.login(as: "motcua_worker_labour", base: pipeline.databaseURL, admin: pipeline.database)
        defer {
            for process in pipeline.processes.values where process.isRunning { process.signal(SIGKILL) }
            _ = try? pipeline.database.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", [workerLogin.name])
            _ = try? pipeline.database.execute("DROP ROLE IF EXISTS \(workerLogin.name)", [])
        }
        try pipeline.startReception()
        let worker = try ServiceProcess(
            "labour-worker", ["--rules", rules, "--group", workerGroup, "--log-level", "warning"],
            environment: pipeline.processEnvironment.merging(["DATABASE_URL": workerLogin.url]) { $1 })
        pipeline.processes["labour-prefixed-as-role"] = worker
        let dossiers = (0..<3).map { _ in pipeline.generator.next(department: "labour", submittedAt: Date()) }
        try await pipeline.submit(dossiers)
        let said = await eventually(timeout: .seconds(60)) {
            worker.log.contains(
                "the topic prefix '\(pipeline.topics.prefix)' cannot be used with the database role 'motcua_worker_labour'")
        }
        #expect(said, "\(worker.log.suffix(2_000))")
        // Reception (the owner here) received them; the worker wrote nothing.
        let received = await eventually(timeout: .seconds(60)) {
            try pipeline.count("SELECT count(*) FROM dossiers WHERE id = ANY($1::text[])", [dossiers.map(\.id)]) == 3
        }
        #expect(received, "\(pipeline.logs())")
        #expect(try pipeline.count("SELECT count(*) FROM decisions WHERE dossier_id = ANY($1::text[])", [dossiers.map(\.id)]) == 0)
        #expect(try pipeline.count(offsetsSQL, [workerGroup]) == offsetsBefore)
        #expect(try pipeline.count(
            "SELECT count(*) FROM outbox WHERE source = 'labour' AND key = ANY($1::text[])", [dossiers.map(\.id)]) == 0)
    }
}
