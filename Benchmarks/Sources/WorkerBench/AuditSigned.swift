import Authority
import BenchSupport
import EffectivelyOnce
import Foundation
import Kafka
import Logging
import Messages
import Postgres
import Services
import Store

/// The audit replay's signed mix (`--signed-share`, default 0.5): a director of the department, registered in the
/// registry of officials with a key of its own, signs about that share of the round's decisions — the decisions the
/// rules prepared for an official, as many as make the share (all of them when fewer) — with signed `sign` commands
/// produced on the department topic as `motcua review sign --key` sends them; the worker applies them (its
/// signature rows, slip lines and events); then the replay reads the whole topic and verifies every stored signature
/// against its signed command, the key's validity and the signer's authority at the worker's instant.
struct SignedMix {
    var signer: String
    var key: CommandSigningKey
    var certificate: String
    /// Sign commands produced, and signatures the worker stored from them.
    var commands = 0
    var stored = 0
    var end: [Int32: Int64] = [:]
    /// Seconds the worker took to apply the commands.
    var applySeconds = 0.0

    /// Registers a director of `department` with a new key (P-256 or RSA-2048), valid from a day back: the registry
    /// is in force from its first record. The key's X.509 chain is not part of this: `motcua officials add` checks it
    /// once, at registration; every command is checked against the key registered.
    static func register(
        _ algorithm: String, department: DepartmentID, at now: Date, on connection: PostgresConnection
    ) throws -> SignedMix {
        let key = try algorithm == "rsa2048" ? CommandSigningKey.newRSA2048() : CommandSigningKey.newP256()
        let id = "bench-director-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
        let spki = key.publicKey.spkiDER
        let certificate = PostgresBytes(Array(spki)).postgresText.dropFirst(2).prefix(64)
        try OfficialsStore.add(
            OfficialsStore.PrincipalRecord(
                id: id, displayName: "Director (benchmark)", department: department.rawValue, division: nil,
                role: .director, algorithm: key.publicKey.algorithm, publicKey: spki.base64EncodedString(),
                certificateSHA256: String(certificate), validFrom: now.addingTimeInterval(-86_400),
                validTo: now.addingTimeInterval(30 * 86_400)),
            certificate: Array(spki), at: now.addingTimeInterval(-3_600), in: connection)
        return SignedMix(signer: id, key: key, certificate: String(certificate))
    }

    /// Produces the signed commands for `share` of `total` decisions (those awaiting a signature, in a fixed order),
    /// then runs the department worker on `group` until it has consumed them; counts the signatures stored.
    mutating func sign(
        share: Double, total: Int, tasks: ProducedTasks, group: String, runtime: Runtime, admin: KafkaAdmin,
        logger: Logger
    ) throws {
        let connection = try PostgresConnection.connect(runtime.postgres, logger: logger)
        let awaiting = try connection.query(
            """
            SELECT dossier_id, step, round, outcome, rule_version FROM decisions
            WHERE department = $1 AND review = 'official' AND outcome IN ('approve', 'refuse') AND signed_at IS NULL
              AND source_topic <> $2
            ORDER BY source_partition, source_offset LIMIT $3
            """, [Workload.department.rawValue, ThroughputBench.seedTopic, Int(Double(total) * share)])
        let topic = tasks.topic
        let signedTopic = SignedCommands.topic(department: Workload.department)
        var config = KafkaProducerConfiguration(client: runtime.kafka)
        config.linger = .milliseconds(5)
        let producer = try KafkaProducer(configuration: config, logger: logger)
        let encoder = MessageCoding.encoder()
        let now = Date()
        for row in awaiting {
            let dossierId = try row.decode(String.self, "dossier_id")
            let step = try row.decode(Int.self, "step")
            let round = try row.decode(Int.self, "round")
            let outcome = try row.decode(String.self, "outcome")
            let decision: SignCommand.Decision = outcome == "approve" ? .approve : .refuse
            let command = SignCommand(
                commandId: StableID.make("sign", dossierId, String(step), String(round), signer, decision.rawValue),
                dossierId: dossierId, step: step, official: Official(id: signer, department: Workload.department),
                decision: decision, reason: nil, at: now, round: round, preparedOutcome: outcome,
                ruleVersion: try row.decode(String.self, "rule_version"))
            let value = try CommandSignature.sign(
                Array(try encoder.encode(command)), type: MessageType.sign, topic: signedTopic, principal: signer,
                certificate: certificate, key: key)
            try producer.produce(
                KafkaOutgoingMessage(
                    topic: topic, key: dossierId, value: value,
                    headers: [
                        KafkaHeader("ce_specversion", "1.0"), KafkaHeader("ce_id", command.commandId.uuidString.lowercased()),
                        KafkaHeader("ce_type", MessageType.sign), KafkaHeader("ce_source", "motcua/review/\(signer)"),
                        KafkaHeader("content-type", "application/json"),
                    ]))
        }
        try producer.flush(timeout: .seconds(60))
        guard producer.failedDeliveries == 0 else { fail("\(producer.failedDeliveries) sign commands were not delivered") }
        try producer.close()
        commands = awaiting.count
        end = try highWatermarks(admin, topic: topic)

        // The worker continues its group from the end of the step tasks: it applies the commands.
        let worker = try DepartmentWorker(
            department: Workload.department, bundle: runtime.bundle, clock: runtime.clock, logger: logger)
        var settings = EffectivelyOnceConsumer.Settings(group: group, topics: [topic])
        settings.batchSize = 1000
        let consumer = EffectivelyOnceConsumer(
            settings: settings, kafka: runtime.kafka, postgres: runtime.postgres, writer: worker, logger: logger)
        let started = ContinuousClock.now
        let thread = BackgroundThread("signer") {
            do { try consumer.runBlocking() } catch { fail("consumer stopped: \(error)") }
        }
        let target = end.values.reduce(0, +)
        let deadline = started + .seconds(300)
        while true {
            let at = try connection.query(
                "SELECT coalesce(sum(next_offset), 0)::int8 AS n FROM consumer_offsets WHERE consumer_group = $1",
                [group])[0].decode(Int64.self, "n")
            if at >= target { break }
            guard ContinuousClock.now < deadline else { fail("the worker applied sign commands up to \(at) of \(target) in 300 s") }
            Thread.sleep(forTimeInterval: 0.05)
        }
        applySeconds = (ContinuousClock.now - started).seconds
        consumer.stop()
        thread.wait()
        stored = Int(
            try connection.query(
                "SELECT count(*)::int8 AS n FROM decisions WHERE department = $1 AND signed_by = $2",
                [Workload.department.rawValue, signer])[0].decode(Int64.self, "n"))
    }

    /// Thread CPU microseconds, on one core, of one signature verification as the replay and the worker make it
    /// (`registry.authenticate`: the signature member parsed out of the command, the canonical form of the rest
    /// made, the key's verification), and of each part alone.
    struct VerifyCost {
        var authenticate: Double
        var signatureMember: Double
        var canonicalForm: Double
        /// The canonical form as it was made before `CanonicalJSON.write` (a tree of values, then its text): same run.
        var canonicalTree: Double
        var keyVerify: Double
    }

    func verifyCost(runtime: Runtime, logger: Logger, repeats: Int = 2_000) throws -> VerifyCost {
        let connection = try PostgresConnection.connect(runtime.postgres, logger: logger)
        let registry = try OfficialsStore.registry(in: connection)
        let topic = SignedCommands.topic(department: Workload.department)
        let now = Date()
        let command = SignCommand(
            commandId: UUID(), dossierId: UUID().uuidString.lowercased(), step: 0,
            official: Official(id: signer, department: Workload.department), decision: .approve, reason: nil, at: now,
            round: 0, preparedOutcome: "approve", ruleVersion: "v")
        let value = try CommandSignature.sign(
            Array(try MessageCoding.encoder().encode(command)), type: MessageType.sign, topic: topic, principal: signer,
            certificate: certificate, key: key)
        func micros(_ body: () throws -> Void) rethrows -> Double {
            let started = threadCPUSeconds()
            for _ in 0..<repeats { try body() }
            return (threadCPUSeconds() - started) / Double(repeats) * 1e6
        }
        let authenticate = micros {
            guard case .success = registry.authenticate(
                command: value, type: MessageType.sign, topic: topic, commandAt: now, at: now)
            else { fail("the benchmark's signed command does not verify") }
        }
        let member = micros { _ = OfficialRegistry.signature(in: value) }
        let canonical = try micros { _ = try CommandSignature.signingInput(type: MessageType.sign, topic: topic, command: value) }
        let tree = try micros {
            guard case .object(var members) = try CanonicalJSON.parse(value) else { fail("not an object") }
            members[CommandSignature.member] = nil
            _ = Array("\(CommandSignature.domain)\n\(MessageType.sign)\n\(topic)\n".utf8) + [0]
                + Array(CanonicalJSON.text(.object(members)).utf8)
        }
        guard case .success(let signature?) = OfficialRegistry.signature(in: value),
            let signatureValue = Data(base64Encoded: signature.value)
        else { fail("no signature in the benchmark's command") }
        let input = try CommandSignature.signingInput(type: MessageType.sign, topic: topic, command: value)
        let publicKey = key.publicKey
        let verify = micros {
            guard publicKey.isValidSignature(signatureValue, for: input) else { fail("bad signature") }
        }
        return VerifyCost(authenticate: authenticate, signatureMember: member, canonicalForm: canonical, canonicalTree: tree,
            keyVerify: verify)
    }
}

/// CPU seconds of the calling thread.
func threadCPUSeconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}
