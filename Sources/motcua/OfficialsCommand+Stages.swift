import Authority
import EffectivelyOnce
import Foundation
import Kafka
import Messages
import Store

/// The simulated officials inside a department (deploy/workflows/): the specialist holding a dossier proposes it,
/// the head of division approves it (some heads are slow; some return the draft to the specialist with a reason),
/// and the director signs at the last stage (``OfficialsCommand``'s signing loop). Each action is a signed stage
/// command, like `motcua review propose|approve|return`, after a delay drawn per hand-over in the services' clock.
struct SimulatedStageWork {
    /// Keys of the department's specialists and heads (`<department>-specialist`, `-specialist-2`, `-head`).
    var signers: [String: OfficialSigner] = [:]
    /// Share of the heads' checks that go back to the specialist.
    var returnShare = 0.12
    /// Share of the heads' checks that wait three times as long (a slow head).
    var slowShare = 0.25
    var proposed = 0
    var approved = 0
    var returned = 0
    private var sent: [String: ContinuousClock.Instant] = [:]

    static let roles = ["specialist", "specialist-2", "head"]

    static let returnReasons = [
        "the draft cites the wrong legal basis: check the procedure's current decision",
        "verify the business registration against the national register before proposing",
        "the site inspection record is missing from the file",
    ]

    /// Loads the keys found in `directory` for `departments` (absent or unregistered ones are skipped).
    static func load(directory: String, departments: [DepartmentID], in db: CLI.Connection) -> SimulatedStageWork {
        var work = SimulatedStageWork()
        for department in departments {
            for role in roles {
                let id = "\(department)-\(role)"
                let path = (directory as NSString).appendingPathComponent("\(id).key.pem")
                guard FileManager.default.fileExists(atPath: path),
                    let signer = try? OfficialSigner.load(path: path, official: id, in: db)
                else { continue }
                work.signers[id] = signer
            }
        }
        return work
    }

    /// Whether the simulation moves `stage` itself (held by an official whose key it has, below the director).
    func moves(_ stage: StageQueue.Item) -> Bool {
        stage.role != StageRole.director.rawValue && stage.assignee.map { signers[$0] != nil } == true
    }

    /// Sends the stage actions due at `now` among `open`; returns how many commands were produced.
    mutating func act(
        on open: [StageQueue.Item], now: Date, seed: UInt64, delays: (DepartmentID) -> ClosedRange<Double>,
        officeHours: (Date) -> Date, topics: Topics, producer: KafkaProducer
    ) throws -> Int {
        var produced = 0
        for stage in open where moves(stage) {
            guard let assignee = stage.assignee, let signer = signers[assignee] else { continue }
            // One draw per hand-over: the stage's entry instant changes with each.
            let key = "\(stage.dossierId)/\(stage.step)/\(stage.round)/\(Int(stage.enteredAt.timeIntervalSince1970))"
            if let at = sent[key], ContinuousClock.now - at < .seconds(120) { continue }
            let range = delays(stage.department)
            let u = Double(StableID.hash64(seed &+ 11, key) % 1_000_000) / 1_000_000
            let isHead = stage.role == StageRole.headOfDivision.rawValue
            // The specialist takes about half of the usual signing delay, the head a quarter (a slow one three times that).
            var hours = (range.lowerBound + (range.upperBound - range.lowerBound) * u * u) * (isHead ? 0.25 : 0.5)
            if isHead && Double(StableID.hash64(seed &+ 12, key) % 1_000_000) / 1_000_000 < slowShare { hours *= 3 }
            guard now >= officeHours(stage.enteredAt.addingTimeInterval(hours * 3600)) else { continue }
            let returns = isHead && Double(StableID.hash64(seed &+ 13, key) % 1_000_000) / 1_000_000 < returnShare
            let action: StageAction = isHead ? (returns ? .return : .approve) : .propose
            let reason = returns
                ? Self.returnReasons[Int(StableID.hash64(seed &+ 14, key) % UInt64(Self.returnReasons.count))] : nil
            let command = StageCommand(
                commandId: StableID.make(
                    "stage", stage.dossierId, String(stage.step), String(stage.round),
                    String(Int(stage.enteredAt.timeIntervalSince1970)), assignee, action.rawValue),
                dossierId: stage.dossierId, step: stage.step, round: stage.round,
                official: Official(id: assignee, department: stage.department), action: action, stage: stage.stage,
                reason: reason, at: now)
            try producer.produce(KafkaOutgoingMessage(
                topic: topics.department(stage.department), key: stage.dossierId,
                value: try signer.encode(command, type: MessageType.stage, department: stage.department),
                headers: CloudEvents.headers(
                    id: command.commandId.uuidString.lowercased(), type: MessageType.stage,
                    source: "motcua/simulate/officials")))
            sent[key] = ContinuousClock.now
            switch action {
            case .propose: proposed += 1
            case .approve: approved += 1
            default: returned += 1
            }
            produced += 1
        }
        if sent.count > 100_000 { sent = sent.filter { ContinuousClock.now - $0.value < .seconds(120) } }
        return produced
    }
}
