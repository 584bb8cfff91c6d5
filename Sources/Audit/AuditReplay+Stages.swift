import Authority
import Foundation
import Messages
import Postgres
import Store

extension AuditReplay {
    /// Checks every officials' hand-over on the processing-control slip (propose, approve, return, transfer,
    /// recall, a leader's assign) of the replayed departments against the signed stage commands on their topics and
    /// the registry, at the instant the worker recorded:
    /// - no command on the topic that verifies, names that action, stage and round and is signed by the official
    ///   the slip names: `forged` (a hand-over written into PostgreSQL behind the system's back);
    /// - a verified command whose signer was not an official of the department, or held a role below the stage's
    ///   (a recall aside: its sender takes it back from the receiver's stage), or was a deputy director without a
    ///   work authorisation covering the procedure then from the director they acted for: `unauthorised`.
    /// Stage entries (`assign` naming no official) are the worker's own; signatures are checked by
    /// ``verifySignatures(_:connection:report:)``.
    /// Only when whole topics are replayed, as signatures.
    func verifyStageActions(_ commands: [ReadCommand], connection: PostgresConnection, report: inout AuditReport) throws {
        guard settings.offsets.isEmpty, settings.from == nil, settings.to == nil else { return }
        let handovers = try StageStore.handovers(departments: settings.departments, in: connection)
        guard !handovers.isEmpty else { return }
        let registry = try OfficialsStore.registry(in: connection)
        let decoder = MessageCoding.decoder()
        var byStep: [String: [(ReadCommand, StageCommand)]] = [:]
        for command in commands {
            guard let decoded = try? decoder.decode(StageCommand.self, from: Data(command.value)) else { continue }
            byStep["\(decoded.dossierId)/\(decoded.step)/\(decoded.round)", default: []].append((command, decoded))
        }
        for handover in handovers {
            func finding(_ kind: AuditFinding.Kind, _ source: Source?, detail: String) -> AuditFinding {
                AuditFinding(
                    kind: kind, dossierId: handover.dossierId, step: handover.step, round: handover.round,
                    department: handover.department, topic: source?.topic, partition: source.map { Int($0.partition) },
                    offset: source?.offset, field: "stage",
                    stored: "\(handover.action) by \(handover.fromOfficial ?? "?") at \(handover.fromStage ?? "?")",
                    detail: detail)
            }
            let candidates = byStep["\(handover.dossierId)/\(handover.step)/\(handover.round)"] ?? []
            var verified: [(ReadCommand, Principal)] = []
            for (read, command) in candidates
            where command.action.rawValue == handover.action && command.stage == handover.fromStage
                && command.official.id == handover.fromOfficial
            {
                if case .success(let principal) = registry.authenticate(
                    command: read.value, type: MessageType.stage,
                    topic: SignedCommands.topic(department: handover.department), commandAt: command.at, at: handover.at)
                {
                    verified.append((read, principal))
                }
            }
            guard let (read, principal) = verified.first else {
                report.findings.append(finding(
                    .forged, nil, detail: "no signed stage command on the topic for this hand-over (written into PostgreSQL directly?)"))
                continue
            }
            if let refusal = registry.mayActForDepartment(principal, department: handover.department) {
                report.findings.append(finding(.unauthorised, read.source, detail: refusal.description))
            } else if let refusal = registry.mayActAsDeputy(
                principal, department: handover.department, procedure: handover.procedure ?? "",
                holder: handover.holder, at: handover.at)
            {
                report.findings.append(finding(.unauthorised, read.source, detail: refusal.description))
            } else if handover.action == StageAction.assign.rawValue, let role = StageRole(principal.role),
                role < .headOfDivision
            {
                report.findings.append(finding(
                    .unauthorised, read.source, detail: "a \(principal.role.rawValue) assigned a stage"))
            } else if handover.action != StageAction.recall.rawValue, let stageRole = handover.fromRole,
                let role = StageRole(principal.role), role < stageRole
            {
                // A recall is taken by the sender, from the receiver's (higher) stage.
                report.findings.append(finding(
                    .unauthorised, read.source,
                    detail: "a \(principal.role.rawValue) acted on a \(stageRole.rawValue) stage"))
            }
        }
    }
}
