import Authority
import Foundation
import Messages
import Postgres
import Store

extension AuditReplay {
    /// Checks every sent draft (supplement request, refusal, apology, stop notice) of the replayed departments against
    /// the signed approvals on their topics and the registry, at the instant the worker recorded:
    /// - no `approve` command on the topic that verifies, names that draft and is signed by the official the row
    ///   names as its approver: `forged` (a draft marked sent in PostgreSQL behind the system's back);
    /// - a verified approval whose signer lacked the authority for the draft's kind (a refusal or a stop notice: the
    ///   delegate who signs the step's final decision; a supplement request or an apology: a head of division or
    ///   above of the department), or who wrote the draft: `unauthorised`.
    /// Only when whole topics are replayed, as signatures.
    func verifyDrafts(_ commands: [ReadCommand], connection: PostgresConnection, report: inout AuditReport) throws {
        guard settings.offsets.isEmpty, settings.from == nil, settings.to == nil else { return }
        let sent = try DraftStore.sent(departments: settings.departments, in: connection)
        guard !sent.isEmpty else { return }
        let registry = try OfficialsStore.registry(in: connection)
        let decoder = MessageCoding.decoder()
        var approvals: [UUID: [(ReadCommand, DraftCommand)]] = [:]
        for command in commands {
            guard let decoded = try? decoder.decode(DraftCommand.self, from: Data(command.value)),
                decoded.action == .approve, let draftId = decoded.draftId
            else { continue }
            approvals[draftId, default: []].append((command, decoded))
        }
        for draft in sent {
            let department = DepartmentID(draft.department)
            func finding(_ kind: AuditFinding.Kind, _ source: Source?, detail: String) -> AuditFinding {
                AuditFinding(
                    kind: kind, dossierId: draft.dossierId, step: draft.step, round: draft.round,
                    department: department, topic: source?.topic, partition: source.map { Int($0.partition) },
                    offset: source?.offset, field: "draft",
                    stored: "\(draft.kind) sent, approved by \(draft.decidedBy ?? "?")", detail: detail)
            }
            let at = draft.decidedAt ?? draft.writtenAt
            var verified: [(ReadCommand, Principal)] = []
            for (read, command) in approvals[draft.draftId] ?? [] where command.official.id == draft.decidedBy {
                if case .success(let principal) = registry.authenticate(
                    command: read.value, type: MessageType.draft, topic: SignedCommands.topic(department: department),
                    commandAt: command.at, at: at)
                {
                    verified.append((read, principal))
                }
            }
            guard let (read, principal) = verified.first else {
                report.findings.append(finding(
                    .forged, nil, detail: "no signed approval on the topic for this sent draft (written into PostgreSQL directly?)"))
                continue
            }
            if principal.id == draft.writtenBy {
                report.findings.append(finding(.unauthorised, read.source, detail: "the draft's writer approved it"))
                continue
            }
            let refusal: CommandRefusal?
            switch DraftKind(rawValue: draft.kind) {
            case .refuse, .stop:
                let latest = try CommandStore.latestRound(draft.dossierId, step: draft.step, in: connection)
                let position = latest?.delegationId.flatMap { bundle.delegations[id: $0]?.delegate } ?? .director
                refusal = registry.maySignFinal(
                    principal, department: department, procedure: latest?.procedure ?? "", position: position, at: at)
            case .supplement, .apology, nil:
                refusal = registry.mayIssueApology(principal, department: department)
            }
            if let refusal { report.findings.append(finding(.unauthorised, read.source, detail: refusal.description)) }
        }
    }
}
