import ArgumentParser
import Audit
import Authority
import Dispatch
import EffectivelyOnce
import Foundation
import Kafka
import Messages
import Pages
import ServiceCommands
import Services
import Simulation
import Store
import Synchronization

/// `motcua simulate officials`: officials who read the decisions awaiting their signature and sign them after a
/// delay drawn per department, in the injected clock's time (`MOTCUA_CLOCK`), during office hours.
struct OfficialsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "officials",
        abstract: "Simulate officials signing prepared decisions after realistic delays (some run late).",
        discussion: """
            Polls PostgreSQL for decisions awaiting a signature and, once the delay drawn for each (reproducible \
            from --seed) has passed in the clock of MOTCUA_CLOCK, sends the signature to dossiers.<department> like \
            `motcua review sign`. Officials sign on working days between 08:00 and 17:00 (Asia/Ho_Chi_Minh). \
            With --keys holding payment-gateway.key.pem (officials dev-ca), applicants also pay the fees requested, \
            1 to 30 hours later, mostly online (signed payment confirmations, docs/formats.md#fees). \
            Delays are in hours of that clock, skewed short, and a share (--backlog-share) waits in the pile for \
            up to twice the usual maximum, so that some dossiers run past their due date. Needs DATABASE_URL and KAFKA_BOOTSTRAP. Stops after --duration wall seconds, or on SIGTERM/SIGINT.

            Examples:
              motcua simulate officials --duration 120
              MOTCUA_CLOCK=simulated:start=2026-11-23T08:00:00+07:00,epoch=$(date +%s),speed=3600 \\
                  motcua simulate officials --delay culture=2-30 --delay labour=4-80
            """)

    @OptionGroup var topicOptions: TopicOptions

    @Option(help: "Only officials of this department (repeatable; default: all).")
    var department: [DepartmentID] = []

    @Option(
        parsing: .singleValue,
        help: ArgumentHelp(
            "DEPARTMENT=MIN-MAX: the usual signing delay in hours (repeatable). Default for a department not "
                + "named: 2-48."))
    var delay: [String] = []

    @Option(help: "Share of decisions left in the pile: signed after MAX to 2×MAX hours instead (0–1).")
    var backlogShare: Double = 0.2

    @Option(help: "Share of prepared approvals an official refuses instead (0–1).")
    var refuseShare: Double = 0.02

    @Option(help: "Random seed for the delays.")
    var seed: UInt64 = 1

    @Option(help: "Seconds (wall) between polls.")
    var pollSeconds: Double = 0.5

    @Option(help: "Stop after this many wall seconds (0: until SIGTERM/SIGINT).")
    var duration: Double = 0

    @Option(help: "The deploy directory (calendar, agency codes).")
    var rules: String = "deploy"

    @Option(
        help: "A directory of officials' keys from `motcua officials dev-ca` (default: MOTCUA_OFFICIAL_KEYS): each department's director (<department>-director.key.pem, registered) signs with their key. Without it the commands are unsigned (refused once the registry is in force).")
    var keys: String?

    /// The usual signing delay, in hours, of a department that `--delay` does not name.
    static let defaultDelay: ClosedRange<Double> = 2...48

    func delays() throws -> [DepartmentID: ClosedRange<Double>] {
        var result: [DepartmentID: ClosedRange<Double>] = [:]
        for item in delay {
            let parts = item.split(separator: "=", maxSplits: 1)
            let bounds = parts.count == 2 ? parts[1].split(separator: "-").compactMap { Double($0) } : []
            let known = try CLI.workerDepartments(rules)
            guard parts.count == 2, known.contains(DepartmentID(String(parts[0]))), bounds.count == 2,
                bounds[0] >= 0, bounds[0] <= bounds[1]
            else {
                throw ValidationError(
                    "--delay: expected DEPARTMENT=MIN-MAX in hours, e.g. labour=2-72; got '\(item)' (departments: "
                        + "\(known.map(\.rawValue).joined(separator: ", ")))")
            }
            result[DepartmentID(String(parts[0]))] = bounds[0]...bounds[1]
        }
        return result
    }

    func validate() throws {
        for d in department { try checkDepartment(d) }
        _ = try delays()
        guard (0...1).contains(backlogShare) else { throw ValidationError("--backlog-share is a share between 0 and 1") }
        guard (0...1).contains(refuseShare) else { throw ValidationError("--refuse-share is a share between 0 and 1") }
        guard pollSeconds > 0 else { throw ValidationError("--poll-seconds must be positive") }
        guard duration >= 0 else { throw ValidationError("--duration must be 0 or positive") }
    }

    func run() async throws {
        let bundle = try CLI.bundle(rules)
        let delays = try delays()
        let departments = department.isEmpty ? bundle.ruleSets.keys.sorted() : department
        let db = try CLI.database()
        let producer = try CLI.producer()
        let clock = try CLI.clock()
        let stop = Atomic<Bool>(false)
        let sources = [SIGTERM, SIGINT].map { number -> any DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number)
            source.setEventHandler { stop.store(true, ordering: .relaxed) }
            source.resume()
            return source
        }
        defer { sources.forEach { $0.cancel() } }
        let started = ContinuousClock.now
        let encoder = MessageCoding.encoder()
        var sent: [String: ContinuousClock.Instant] = [:]
        var signed: [DepartmentID: Int] = [:]
        var lateSigned = 0
        var signers: [DepartmentID: OfficialSigner] = [:]
        var payers: SimulatedPayers?
        var paid = 0
        var paymentsSent: [String: ContinuousClock.Instant] = [:]
        var stageWork = SimulatedStageWork()
        if let directory = keys ?? CLI.environment["MOTCUA_OFFICIAL_KEYS"].flatMap({ $0.isEmpty ? nil : $0 }) {
            // Keys from before the payment gateway existed: no payers, the officials still sign.
            payers = (try? SimulatedPayers.load(directory: directory, seed: seed, in: db)) ?? nil
            stageWork = SimulatedStageWork.load(directory: directory, departments: departments, in: db)
            for dept in departments {
                let id = "\(dept)-director"
                signers[dept] = try OfficialSigner.load(
                    path: (directory as NSString).appendingPathComponent("\(id).key.pem"), official: id, in: db)
            }
        }
        while !stop.load(ordering: .relaxed) {
            if duration > 0 && ContinuousClock.now - started >= .milliseconds(Int64(duration * 1000)) { break }
            let now = clock.now()
            let awaiting = try ReviewQueue.awaiting(departments: departments, limit: 5000, in: db)
            var produced = 0
            // Inside the departments: specialists propose, heads approve or return; the director signs below.
            let open = try StageQueue.open(departments: departments, limit: 20_000, in: db)
            let stages = Dictionary(open.map { ("\($0.dossierId)/\($0.step)/\($0.round)", $0) }) { first, _ in first }
            produced += try stageWork.act(
                on: open, now: now, seed: seed, delays: { delays[$0] ?? Self.defaultDelay },
                officeHours: { officeHours($0, calendar: bundle.calendar) }, topics: topicOptions.topics,
                producer: producer)
            for item in awaiting {
                let id = item.dossierId
                let step = item.step
                let round = item.round
                let key = "\(id)/\(step)/\(round)"
                if let at = sent[key], ContinuousClock.now - at < .seconds(120) { continue }
                let dept = item.department
                let decidedAt = item.decidedAt
                let range = delays[dept] ?? Self.defaultDelay
                let u = Double(StableID.hash64(seed, key) % 1_000_000) / 1_000_000
                // Most are signed within the usual range (skewed short); some wait in the pile (up to 2×MAX).
                let backlog = Double(StableID.hash64(seed &+ 3, key) % 1_000_000) / 1_000_000 < backlogShare
                let hours = backlog
                    ? range.upperBound * (1 + u)
                    : range.lowerBound + (range.upperBound - range.lowerBound) * u * u
                var due = officeHours(decidedAt.addingTimeInterval(hours * 3600), calendar: bundle.calendar)
                if let stage = stages[key] {
                    // Still with a specialist or head the simulation moves: not the director's turn yet.
                    if stageWork.moves(stage) { continue }
                    // At the director's stage: a few hours after it arrived there at the earliest.
                    due = max(due, officeHours(stage.enteredAt.addingTimeInterval(2 * 3600), calendar: bundle.calendar))
                }
                guard now >= due else { continue }
                let refuse = item.prepared == .refuse
                    || Double(StableID.hash64(seed &+ 1, key) % 1_000_000) / 1_000_000 < refuseShare
                let agency = bundle.catalogue.department(dept)?.agencyCode.lowercased() ?? dept.rawValue
                let signer = signers[dept]
                let official = signer?.principal
                    ?? "\(agency)-\(String(format: "%04d", Int(StableID.hash64(seed &+ 2, key) % 5) + 1))"
                let decision: SignCommand.Decision = refuse ? .refuse : .approve
                let reason: String? = refuse
                    ? (item.prepared == .refuse
                        ? "refused as prepared (rule \(item.ruleId ?? "—"))"
                        : "refused on review: the file does not support the request") : nil
                let command = SignCommand(
                    commandId: StableID.make("sign", id, String(step), String(round), official, decision.rawValue),
                    dossierId: id, step: step, official: Official(id: official, department: dept),
                    decision: decision, reason: reason, at: now, round: round, preparedOutcome: item.prepared.rawValue,
                    ruleVersion: item.ruleVersion)
                let value: [UInt8]
                if let signer {
                    value = try signer.encode(command, type: MessageType.sign, department: dept)
                } else {
                    value = Array(try encoder.encode(command))
                }
                try producer.produce(KafkaOutgoingMessage(
                    topic: topicOptions.topics.department(dept), key: id, value: value,
                    headers: CloudEvents.headers(
                        id: command.commandId.uuidString.lowercased(), type: MessageType.sign,
                        source: "motcua/simulate/officials")))
                sent[key] = ContinuousClock.now
                signed[dept, default: 0] += 1
                if item.overdue { lateSigned += 1 }
                produced += 1
            }
            if let payers {
                let count = try payers.pay(
                    at: now, catalogue: bundle.catalogue, topics: topicOptions.topics, sent: &paymentsSent,
                    producer: producer, in: db)
                paid += count
                produced += count
            }
            if produced > 0 { try producer.flush(timeout: .seconds(30)) }
            if sent.count > 100_000 { sent = sent.filter { ContinuousClock.now - $0.value < .seconds(120) } }
            try await Task.sleep(for: .milliseconds(Int64(pollSeconds * 1000)))
        }
        try producer.close(timeout: .seconds(30))
        let total = signed.values.reduce(0, +)
        print("officials signed \(total) decision(s) (\(lateSigned) already overdue): "
              + signed.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        print("inside the departments: \(stageWork.proposed) proposed by specialists, \(stageWork.approved) approved "
              + "and \(stageWork.returned) returned with a reason by heads of division")
        if payers != nil { print("applicants paid \(paid) fee(s) (payment confirmations sent)") }
    }

    /// The instant moved into office hours: 08:00–17:00 local on a working day (else the next one's 08:00).
    func officeHours(_ instant: Date, calendar: WorkingCalendar) -> Date {
        let local = LocalDateTime(instant: instant)
        var day = local.date
        let working = (try? calendar.isWorkingDay(day)) ?? !day.isWeekend
        if working && local.hour >= 8 && local.hour < 17 { return instant }
        if !working || local.hour >= 17 {
            day = (try? calendar.nextWorkingDay(after: day)) ?? day.adding(days: 1)
        }
        return day.instant(hour: 8)
    }
}

extension StableID {
    /// A 64-bit hash of a seed and a key (FNV-1a), for reproducible draws.
    static func hash64(_ seed: UInt64, _ key: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ seed
        for byte in key.utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        h ^= h >> 33
        h = h &* 0xff51_afd7_ed55_8ccd
        h ^= h >> 33
        return h
    }
}
