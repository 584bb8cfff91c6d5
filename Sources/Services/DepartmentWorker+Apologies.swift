import Authority
import EffectivelyOnce
import Foundation
import Kafka
import Messages
import Postgres
import Store

extension DepartmentWorker {
    /// An official's signed apology slip (`motcua.official.apology`, ``ApologyRequest``), already authenticated by
    /// ``handleCommand``: once the registry is in force it must be signed by the official it names, a head of division,
    /// deputy director or director of this department (``OfficialRegistry/mayIssueApology``), else `command-rejected`.
    /// Then the apology rules at the batch instant (``recordApology``).
    func issueApology(
        _ message: KafkaMessage, principal: Principal?, registry: OfficialRegistry, at now: Date,
        into tx: PostgresConnection, outbox: inout [OutboxMessage], report: inout BatchReport, decoder: JSONDecoder,
        encoder: JSONEncoder
    ) throws {
        let request = try decoder.decode(ApologyRequest.self, from: Data(message.value))
        if let principal {
            if let refusal = Self.namedSigner(request.official.id, principal)
                ?? registry.mayIssueApology(principal, department: department)
            {
                return try rejectCommand(
                    refusal, dossierId: request.dossierId, step: request.step, round: nil, cause: request.commandId,
                    official: principal.id, at: now, outbox: &outbox, report: &report, encoder: encoder)
            }
        } else if request.official.department != department {
            // Before the registry is in force a slip is taken unsigned, as every command: for its own department.
            return try rejectCommand(
                .wrongDepartment(request.official.department.rawValue), dossierId: request.dossierId,
                step: request.step, round: nil, cause: request.commandId, official: nil, at: now, outbox: &outbox,
                report: &report, encoder: encoder)
        }
        guard let newDate = LocalDate(request.newDate), !request.reason.trimmingCharacters(in: .whitespaces).isEmpty
        else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: [], debugDescription: "an apology slip gives a reason and a new date YYYY-MM-DD"))
        }
        if try recordApology(
            request.dossierId, step: request.step, reason: request.reason, newDate: newDate,
            issuedBy: principal?.id ?? request.official.id, commandId: request.commandId, command: message.value,
            cause: request.commandId, at: now, into: tx, outbox: &outbox, report: &report, encoder: encoder)
        {
            report.processed += 1
        }
    }

    /// Records an apology for the dossier step's deadline (step -1: the appointment) when ``ApologyRules`` allow it at
    /// `now` — the deadline is this department's, open or paused, not due yet, has no apology, and `newDate` is later —
    /// and publishes `apology-issued` (the coordinator moves the deadline); otherwise `apology-rejected` with the
    /// rule's code, and nothing is recorded. `command` is the signed slip's bytes (nil for an approved draft). Whether
    /// it was recorded.
    @discardableResult
    func recordApology(
        _ dossierId: String, step: Int, reason: String, newDate: LocalDate, issuedBy: String, commandId: UUID,
        command: [UInt8]?, cause: UUID, at now: Date, into tx: PostgresConnection, outbox: inout [OutboxMessage],
        report: inout BatchReport, encoder: JSONEncoder
    ) throws -> Bool {
        func reject(_ error: ApologyError) throws -> Bool {
            outbox.append(try event(
                .apologyRejected, dossierId: dossierId, step: step, round: nil, cause: cause, at: now,
                data: DossierEvent.Data(reason: error.description, dueDate: newDate.description, official: issuedBy),
                encoder: encoder))
            report.outcomes["apology-rejected", default: 0] += 1
            return false
        }
        let (deadline, issued) = try ApologyStore.state(dossierId, step: step, in: tx)
        if let error = ApologyRules.refusal(
            status: deadline?.status, dueDate: deadline?.dueDate, deadlineDepartment: deadline?.department,
            department: department.rawValue, alreadyIssued: issued, newDate: newDate, at: now)
        {
            return try reject(error)
        }
        guard let deadline else { return false }
        guard try ApologyStore.record(
            dossierId, step: step, reason: reason, previousDate: deadline.dueDate, newDate: newDate, issuedBy: issuedBy,
            department: department.rawValue, commandId: commandId, command: command, at: now, in: tx)
        else {
            return try reject(ApologyError(code: .alreadyIssued, dueDate: deadline.dueDate))
        }
        outbox.append(try event(
            .apologyIssued, dossierId: dossierId, step: step, round: nil, cause: cause, at: now,
            data: DossierEvent.Data(
                reason: reason, dueDate: newDate.description, official: issuedBy,
                previousDueDate: deadline.dueDate.description),
            encoder: encoder))
        report.outcomes["apology-issued", default: 0] += 1
        return true
    }
}
