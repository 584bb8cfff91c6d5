import Authority
import Foundation
import Messages
import Postgres
import Store
import Synchronization

extension AuditReplay {
    /// A signature command read from a department topic.
    struct ReadCommand: Sendable {
        var source: Source
        var value: [UInt8]
    }

    /// Checks every stored signature of the replayed departments against the signed commands on their topics and
    /// the registry of officials, at the instant the worker recorded (the signature's `signed_at`, its batch
    /// instant):
    /// - a signature made before the registry was in force has no signed command to check: a note,
    ///   `unsigned-before-registry` — unless it is dated before the decision it signs (`forged`: a signature
    ///   backdated to pass for one of those);
    /// - no command on the topic whose signature verifies for that round, signer and outcome: `forged` (a
    ///   signature written into PostgreSQL behind the system's back, or from a command that did not verify);
    /// - a verified command for that step, but another signer, outcome or round than the row: `signature-mismatch`
    ///   (the row was altered);
    /// - a verified command whose signer lacked the authority then (role, department, work authorisation, key
    ///   revoked): `unauthorised`.
    /// Only when whole topics are replayed (no offsets, no business-time window): a partial range may leave the
    /// command out.
    func verifySignatures(
        _ commands: [ReadCommand], connection: PostgresConnection, report: inout AuditReport
    ) throws {
        guard settings.offsets.isEmpty, settings.from == nil, settings.to == nil else {
            report.signaturesChecked = nil
            return
        }
        let registry = try OfficialsStore.registry(in: connection)
        // Decoded and their signatures verified on every core first (the costly part; the instants are checked below).
        let preverified = Self.verifyInParallel(commands, registry: registry, topics: settings.topics,
                                                departments: settings.departments)
        // The commands read for each dossier step, by their index in `commands` (and `preverified`).
        var byStep: [StepKey: [Int]] = [:]
        for (index, checked) in preverified.enumerated() {
            guard let decoded = checked.command else { continue }
            byStep[StepKey(dossierId: decoded.dossierId, step: decoded.step), default: []].append(index)
        }
        let signatures = try AuditStore.signatures(departments: settings.departments, on: connection)
        report.signaturesChecked = signatures.count
        // The delegate of each delegation version's snapshot, parsed once: most signatures share a few versions, and
        // a snapshot is long, so it is found by its length and bytes rather than hashed as a String (which normalises
        // text outside ASCII first).
        var positions: [Int: [(snapshot: String, position: Delegation.Position?)]] = [:]
        func position(of snapshot: String) -> Delegation.Position? {
            let length = snapshot.utf8.count
            if let known = positions[length]?.last(where: { Self.sameBytes($0.snapshot, snapshot) }) {
                return known.position
            }
            let parsed = (try? Delegation(snapshotJSON: snapshot))?.delegate
            positions[length, default: []].append((snapshot, parsed))
            return parsed
        }
        // A refusal sent as an approved draft carries no sign command: its approval is checked by verifyDrafts.
        let draftRefusals = Set(try DraftStore.sent(departments: settings.departments, in: connection)
            .filter { $0.kind == DraftKind.refuse.rawValue }
            .map { "\($0.dossierId)/\($0.step)/\($0.round)/\($0.decidedBy ?? "")" })
        for stored in signatures {
            if stored.signedOutcome == Outcome.refuse.rawValue,
                draftRefusals.contains("\(stored.dossierId)/\(stored.step)/\(stored.round)/\(stored.signedBy)")
            {
                continue
            }
            func finding(_ kind: AuditFinding.Kind, _ source: Source?, detail: String) -> AuditFinding {
                AuditFinding(
                    kind: kind, dossierId: stored.dossierId, step: stored.step, round: stored.round,
                    department: stored.department, topic: source?.topic, partition: source.map { Int($0.partition) },
                    offset: source?.offset, field: "signature", stored: "\(stored.signedBy) \(stored.signedOutcome ?? "?")",
                    detail: detail)
            }
            guard registry.isInForce(at: stored.signedAt) else {
                // Only a decision made and signed before the registry: a signature dated before its own decision
                // (a login backdating one to pass it off as such) is forged.
                if stored.signedAt < stored.decidedAt {
                    report.findings.append(finding(
                        .forged, nil,
                        detail: "signed at \(ISO8601Instant.format(stored.signedAt)), before the decision it signs was made (\(ISO8601Instant.format(stored.decidedAt)))"))
                } else {
                    report.findings.append(finding(
                        .unsignedBeforeRegistry, nil,
                        detail: "signed at \(ISO8601Instant.format(stored.signedAt)), before the registry of officials was in force"))
                }
                continue
            }
            let candidates = byStep[StepKey(dossierId: stored.dossierId, step: stored.step)] ?? []
            var verified: [(ReadCommand, SignCommand, Principal)] = []
            var refusals: [(ReadCommand, CommandRefusal)] = []
            for index in candidates {
                let read = commands[index]
                let known = preverified[index]
                guard let command = known.command else { continue }
                // The signature verified on all cores beforehand (same answer as authenticate, instant aside).
                let checked: Result<Principal, CommandRefusal>
                if let department = known.department, department == stored.department, let result = known.result {
                    switch result {
                    case .failure(let refusal): checked = .failure(refusal)
                    case .success(let principal):
                        checked = registry.validity(of: principal, commandAt: command.at, at: stored.signedAt)
                            .map { .failure($0) } ?? .success(principal)
                    }
                } else {
                    checked = registry.authenticate(
                        command: read.value, type: MessageType.sign,
                        topic: SignedCommands.topic(department: stored.department), commandAt: command.at,
                        at: stored.signedAt)
                }
                switch checked {
                case .success(let principal): verified.append((read, command, principal))
                case .failure(let refusal): refusals.append((read, refusal))
                }
            }
            let matching = verified.first { _, command, principal in
                principal.id == stored.signedBy && command.round == stored.round
                    && command.decision.rawValue == stored.signedOutcome
            }
            guard let matching else {
                if let first = verified.first {
                    report.findings.append(finding(
                        .signatureMismatch, first.0.source,
                        detail: "the signed command on the topic is \(first.2.id)'s \(first.1.decision.rawValue) of round \(first.1.round.map(String.init) ?? "?"); the row says otherwise (altered in PostgreSQL?)"))
                } else if let first = refusals.first {
                    report.findings.append(finding(.forged, first.0.source, detail: "its command does not verify: \(first.1)"))
                } else {
                    report.findings.append(finding(
                        .forged, nil, detail: "no signed command on the topic for this signature (written into PostgreSQL directly?)"))
                }
                continue
            }
            let (read, command, principal) = matching
            // The delegate the decision's delegation version names, as the worker checked it.
            let position = stored.delegationSnapshot.flatMap(position(of:)) ?? .director
            var refusal = registry.maySignFinal(
                principal, department: stored.department, procedure: stored.procedure, position: position,
                at: stored.signedAt)
            if command.preparedOutcome != stored.outcome || command.ruleVersion != stored.ruleVersion {
                refusal = .stale("the command signed another prepared outcome or rule version than the row's")
            }
            if let refusal {
                report.findings.append(finding(.unauthorised, read.source, detail: refusal.description))
            }
        }
    }

    /// A dossier's step, as sign commands name it.
    struct StepKey: Hashable {
        var dossierId: String
        var step: Int
    }

    /// Whether two strings have the same UTF-8 bytes (compared as memory, without Unicode normalisation).
    static func sameBytes(_ a: String, _ b: String) -> Bool {
        var a = a
        var b = b
        return a.withUTF8 { a in b.withUTF8 { b in a.count == b.count && (a.isEmpty || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0) } }
    }

    /// What ``verifyInParallel(_:registry:topics:departments:)`` found for one sign command read: the command
    /// decoded (nil: not a sign command), the department whose topic it was read from, and its signature verified
    /// against that department's signed topic (nil: not read from a replayed department's topic, or not decoded).
    struct Preverified: Sendable {
        var command: SignCommand?
        var department: DepartmentID?
        var result: Result<Principal, CommandRefusal>?
    }

    /// The sign commands decoded and their signatures verified (``OfficialRegistry/verifySignature(command:type:topic:)``,
    /// the costly part of authenticating: parsing, canonical form, the key's verification) on every core, each
    /// against the signed topic of the department whose topic it was read from; in the order of `commands`.
    static func verifyInParallel(
        _ commands: [ReadCommand], registry: OfficialRegistry, topics: Topics, departments: [DepartmentID]
    ) -> [Preverified] {
        let byTopic = Dictionary(departments.map { (topics.department($0), $0) }, uniquingKeysWith: { first, _ in first })
        let results = Mutex([Preverified](repeating: Preverified(), count: commands.count))
        // Chunks of commands per task: a decoder each, and few locks.
        let chunk = 64
        DispatchQueue.concurrentPerform(iterations: (commands.count + chunk - 1) / chunk) { part in
            let decoder = MessageCoding.decoder()
            var found: [(Int, Preverified)] = []
            for index in part * chunk..<min(commands.count, (part + 1) * chunk) {
                let command = commands[index]
                var checked = Preverified()
                checked.command = try? MessageCoding.decodeSignCommand(command.value, decoder: decoder)
                if checked.command != nil, let department = byTopic[command.source.topic] {
                    checked.department = department
                    checked.result = registry.verifySignature(
                        command: command.value, type: MessageType.sign,
                        topic: SignedCommands.topic(department: department))
                }
                found.append((index, checked))
            }
            results.withLock { results in
                for (index, checked) in found { results[index] = checked }
            }
        }
        return results.withLock { $0 }
    }
}
