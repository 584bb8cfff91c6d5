import Authority
import EffectivelyOnce
import Foundation
import Messages
import Postgres
import Store

/// A signed apology slip refused for who sent it: the registry's reason, also recorded as a `command-rejected` event.
public struct ApologyRefused: Error, CustomStringConvertible, Sendable, Equatable {
    public var refusal: CommandRefusal
    public var description: String { refusal.description }
}

extension ApologyDesk {
    /// Checks an apology slip's signed command (an ``ApologyRequest``'s JSON, as `motcua apology --key` makes it) against
    /// `registry` at `now`, then issues it (``issue(_:at:on:)``).
    ///
    /// Once the registry is in force the command must be signed, for the topic of the department whose deadline it
    /// moves, by the official it names: a head of division, deputy director or director of that department, whose
    /// key is valid at `now`. Anything else is refused: a `command-rejected` event on `dossier.events` whose reason
    /// starts with the refusal's code, and ``ApologyRefused`` thrown; nothing else changes. A slip refused for its
    /// content (too late, already issued…) throws ``ApologyError`` as before.
    @discardableResult
    public func issue(
        signed command: [UInt8], registry: OfficialRegistry, at now: Date, on connection: PostgresConnection
    ) throws -> CoordinatorEvent {
        let decoder = MessageCoding.decoder()
        let header = try decoder.decode(SignedCommands.Header.self, from: Data(command))
        let step = header.step ?? 0
        guard let deadline = try DeadlineStore.load(header.dossierId, in: connection)[step] else {
            throw ApologyError(code: .noOpenDeadline)
        }
        var issuer: String?
        if registry.isInForce(at: now) {
            // The department whose deadline moves: the command must be signed for its topic, by one of its officials.
            let department = deadline.department ?? ""
            let checked = registry.authenticate(
                command: command, type: MessageType.apology, topic: SignedCommands.topic(department: department),
                commandAt: header.at, at: now
            ).flatMap { principal -> Result<Principal, CommandRefusal> in
                guard let named = try? decoder.decode(ApologyRequest.self, from: Data(command)).official.id,
                    named == principal.id
                else {
                    return .failure(.notTheDelegate("the command does not name its signer '\(principal.id)' as the official"))
                }
                if let refusal = registry.mayIssueApology(principal, department: department) { return .failure(refusal) }
                return .success(principal)
            }
            switch checked {
            case .success(let principal):
                issuer = principal.id
            case .failure(let refusal):
                try reject(header, command: command, refusal: refusal, department: department, at: now, on: connection)
                throw ApologyRefused(refusal: refusal)
            }
        }
        let request = try decoder.decode(ApologyRequest.self, from: Data(command))
        guard let newDate = LocalDate(request.newDate) else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "newDate is not YYYY-MM-DD"))
        }
        return try issue(
            ApologySlip(dossierId: request.dossierId, step: request.step, reason: request.reason, newDate: newDate,
                        issuedBy: issuer ?? request.official.id),
            at: now, on: connection)
    }

    /// The `command-rejected` event of a refused slip, in a transaction of its own.
    private func reject(
        _ header: SignedCommands.Header, command: [UInt8], refusal: CommandRefusal, department: DepartmentID,
        at now: Date, on connection: PostgresConnection
    ) throws {
        // The claimed signer, named only when it is a well-formed id (it is the sender's text).
        var claimed: String?
        if case .success(let signature?) = OfficialRegistry.signature(in: command), Principal.isValidId(signature.principal) {
            claimed = signature.principal
        }
        let event = DossierEvent(
            eventId: StableID.make("command-event", DossierEvent.Kind.commandRejected.rawValue, header.commandId.uuidString),
            dossierId: header.dossierId, code: nil, type: .commandRejected, department: department,
            step: max(header.step ?? 0, 0), round: nil, at: now,
            data: DossierEvent.Data(reason: refusal.description, official: claimed))
        let message = OutboxMessage(
            eventId: event.eventId, topic: topics.events, key: header.dossierId, type: MessageType.event,
            payload: Array(try MessageCoding.encoder().encode(event)))
        try connection.transaction { tx in
            try OutboxWriter.write([message], source: outboxSource, limits: topics.messageSizeLimits, into: tx)
        }
    }
}
