import Authority
import Foundation
import Messages
import Postgres
import Store

extension AuditReplay {
    /// Checks every recorded apology (`apologies`, written by the departments' workers since migration 028) against
    /// the signed slips on the department topics and the registry, at the instant the worker recorded it
    /// (`issued_at`, its batch instant):
    /// - recorded before migration 028 (by the coordinator, nothing stored to check): a note,
    ///   `unsigned-before-registry` (only these: a later row is the worker's, whatever its `issued_at`);
    /// - recorded before the registry was in force: its slip, taken unsigned, must be on the topic with the row's
    ///   command id and bytes, saying what the row says, made no later than `issued_at` plus the allowed clock skew;
    ///   else `forged` (a row backdated by a department's login);
    /// - from an approved apology draft (no signed bytes): it must match a sent apology draft of that dossier with
    ///   the same approver and date, for the appointment or the draft's step (the approval itself is checked by
    ///   ``verifyDrafts``); else `forged`;
    /// - from a signed slip: no slip on the topic with the row's command id whose signature verifies: `forged` (a row
    ///   written into PostgreSQL behind the system's back, or from a slip that did not verify); a verified slip that
    ///   says otherwise than the row (signer, step, new date, reason) or stored bytes that differ from the topic's:
    ///   `signature-mismatch` (the row was altered); a signer who lacked the authority then (a head of division or
    ///   above of the department whose deadline moved): `unauthorised`.
    /// Only when whole topics are replayed, as signatures.
    func verifyApologies(_ commands: [ReadCommand], connection: PostgresConnection, report: inout AuditReport) throws {
        guard settings.offsets.isEmpty, settings.from == nil, settings.to == nil else { return }
        let recorded = try ApologyStore.all(departments: settings.departments, in: connection)
        guard !recorded.isEmpty else { return }
        let registry = try OfficialsStore.registry(in: connection)
        let decoder = MessageCoding.decoder()
        var slips: [UUID: [(ReadCommand, ApologyRequest)]] = [:]
        for command in commands {
            guard let decoded = try? decoder.decode(ApologyRequest.self, from: Data(command.value)) else { continue }
            slips[decoded.commandId, default: []].append((command, decoded))
        }
        let drafts = try DraftStore.sent(departments: nil, in: connection).filter { $0.kind == DraftKind.apology.rawValue }
        for row in recorded {
            let department = row.department.map(DepartmentID.init(rawValue:))
            func finding(_ kind: AuditFinding.Kind, _ source: Source?, detail: String) -> AuditFinding {
                AuditFinding(
                    kind: kind, dossierId: row.dossierId, step: row.step, department: department, topic: source?.topic,
                    partition: source.map { Int($0.partition) }, offset: source?.offset, field: "apology",
                    stored: "\(row.previousDate) → \(row.newDate) by \(row.issuedBy ?? "?")", detail: detail)
            }
            // Only the coordinator's rows of before 028 are notes: a row of later is the worker's and has its slip or
            // draft, whatever its `issued_at` says (a department's login may write one backdated).
            guard !row.before028 else {
                report.findings.append(finding(
                    .unsignedBeforeRegistry, nil,
                    detail: "recorded by the coordinator before migration 028: no signed slip was stored to check"))
                continue
            }
            guard let command = row.command else {
                // An approved draft's apology: the appointment's or the draft's step, recorded when it was approved.
                let matched = drafts.contains { draft in
                    draft.dossierId == row.dossierId && draft.decidedBy == row.issuedBy && draft.newDate == row.newDate
                        && (row.step == DeadlineKind.overallStep || row.step == draft.step)
                        && row.department.map { $0 == draft.department } ?? false
                        && draft.decidedAt.map { row.issuedAt >= $0.addingTimeInterval(-OfficialRegistry.allowedSkew) } ?? false
                }
                if !matched {
                    report.findings.append(finding(
                        .forged, nil,
                        detail: "no signed apology slip and no approved apology draft for this apology before it was recorded (written into PostgreSQL directly?)"))
                }
                continue
            }
            guard let department else {
                report.findings.append(finding(.forged, nil, detail: "an apology with signed bytes but no department"))
                continue
            }
            guard registry.isInForce(at: row.issuedAt) else {
                // Taken unsigned, as every command before the registry was in force: its slip is on the topic all the
                // same, saying what the row says, made no later than the row was recorded (beyond the clock skew).
                let matched = (row.commandId.flatMap { slips[$0] } ?? []).contains { read, slip in
                    read.value == command && slip.dossierId == row.dossierId && slip.step == row.step
                        && slip.newDate == row.newDate && slip.reason == row.reason && slip.official.id == row.issuedBy
                        && slip.official.department == department
                        && row.issuedAt >= slip.at.addingTimeInterval(-OfficialRegistry.allowedSkew)
                }
                if !matched {
                    report.findings.append(finding(
                        .forged, nil,
                        detail: "recorded at \(ISO8601Instant.format(row.issuedAt)), before the registry of officials was in force, but no apology slip on the topic made by then says this (written into PostgreSQL directly?)"))
                }
                continue
            }
            var verified: [(ReadCommand, ApologyRequest, Principal)] = []
            var refusals: [(ReadCommand, CommandRefusal)] = []
            for (read, slip) in row.commandId.flatMap({ slips[$0] }) ?? [] {
                switch registry.authenticate(
                    command: read.value, type: MessageType.apology, topic: SignedCommands.topic(department: department),
                    commandAt: slip.at, at: row.issuedAt)
                {
                case .success(let principal): verified.append((read, slip, principal))
                case .failure(let refusal): refusals.append((read, refusal))
                }
            }
            guard let (read, slip, principal) = verified.first else {
                if let (read, refusal) = refusals.first {
                    report.findings.append(finding(.forged, read.source, detail: "its slip does not verify: \(refusal)"))
                } else {
                    report.findings.append(finding(
                        .forged, nil, detail: "no signed apology slip on the topic for this apology (written into PostgreSQL directly?)"))
                }
                continue
            }
            if principal.id != row.issuedBy || slip.step != row.step || slip.newDate != row.newDate
                || slip.reason != row.reason || slip.dossierId != row.dossierId || read.value != command
            {
                report.findings.append(finding(
                    .signatureMismatch, read.source,
                    detail: "the signed slip on the topic is \(principal.id)'s, step \(slip.step), new date \(slip.newDate); the row (or its stored bytes) says otherwise (altered in PostgreSQL?)"))
                continue
            }
            if let refusal = Self.namedApologySigner(slip, principal) ?? registry.mayIssueApology(principal, department: department) {
                report.findings.append(finding(.unauthorised, read.source, detail: refusal.description))
            }
        }
    }

    /// A slip signed by another principal than the official it names (the worker refuses it: not-the-delegate).
    static func namedApologySigner(_ slip: ApologyRequest, _ principal: Principal) -> CommandRefusal? {
        slip.official.id == principal.id
            ? nil : .notTheDelegate("the slip names official '\(slip.official.id)' but is signed by '\(principal.id)'")
    }
}
