import Foundation

/// The registry of principals and work authorisations as of one instant, and the checks of signed commands.
///
/// Pure: built from the registry's rows (Store) and asked at a worker's batch instant, or at a command's recorded
/// instant by the audit replay, so both reach the same answer.
public struct OfficialRegistry: Sendable {
    public private(set) var principals: [String: Principal]
    public private(set) var authorisations: [WorkAuthorisation]
    /// The first record's instant: from then on every official's and channel's command must be signed. Nil when the
    /// registry is empty (commands are then accepted unsigned, as before the registry existed).
    public private(set) var inForceSince: Date?

    /// How far a command's own date may be after the batch instant (clocks of signing machines drift).
    public static let allowedSkew: TimeInterval = 300

    public init(principals: [Principal] = [], authorisations: [WorkAuthorisation] = [], inForceSince: Date? = nil) {
        self.principals = Dictionary(principals.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
        self.authorisations = authorisations
        self.inForceSince = inForceSince
    }

    public static let empty = OfficialRegistry()

    /// Whether commands must be signed at `instant`.
    public func isInForce(at instant: Date) -> Bool {
        guard let inForceSince else { return false }
        return inForceSince <= instant
    }

    /// The principal who signed `command` (its JSON as received), if the signature is theirs and their key valid
    /// at `now` and at the command's own date `commandAt`: ``verifySignature(command:type:topic:)``, then
    /// ``validity(of:commandAt:at:)``.
    public func authenticate(
        command: [UInt8], type: String, topic: String, commandAt: Date, at now: Date
    ) -> Result<Principal, CommandRefusal> {
        switch verifySignature(command: command, type: type, topic: topic) {
        case .failure(let refusal): return .failure(refusal)
        case .success(let principal):
            if let refusal = validity(of: principal, commandAt: commandAt, at: now) { return .failure(refusal) }
            return .success(principal)
        }
    }

    /// The part of ``authenticate(command:type:topic:commandAt:at:)`` that no instant changes, and nearly all of its
    /// cost: the registered principal whose key made the command's signature. The command's bytes are read once
    /// (``CommandSignature/signingInput(type:topic:command:)``'s canonical form, written straight into the signing
    /// input, which also finds the `signature` member); only that member is read again
    /// (``plainSignatureMember(in:at:)``, or parsed when written otherwise). Many commands can be verified on
    /// several cores at once, then checked against their instants with ``validity(of:commandAt:at:)``.
    public func verifySignature(command: [UInt8], type: String, topic: String) -> Result<Principal, CommandRefusal> {
        var input = CommandSignature.header(type: type, topic: topic, capacity: command.count)
        guard let written = try? CanonicalJSON.write(command, removing: [CommandSignature.member], into: &input) else {
            return .failure(Self.notCanonical)
        }
        guard written.isObject else { return .failure(.malformedSignature("not a JSON object")) }
        guard let member = written.removed.first else { return .failure(.unsigned) }
        let signature: CommandSignature
        if let plain = Self.plainSignatureMember(in: command, at: member.value) {
            signature = plain
        } else {
            guard let value = try? CanonicalJSON.parse(command[member.value]) else { return .failure(.unsigned) }
            switch Self.signature(of: .object([CommandSignature.member: value])) {
            case .failure(let refusal): return .failure(refusal)
            case .success(nil): return .failure(.unsigned)
            case .success(let found?): signature = found
            }
        }
        guard let principal = principals[signature.principal] else {
            return .failure(.unknownPrincipal(signature.principal))
        }
        guard principal.certificateSHA256 == signature.certificate,
            principal.key.algorithm == signature.algorithm
        else { return .failure(.unknownCertificate(signature.certificate)) }
        guard let value = Data(base64Encoded: signature.value) else {
            return .failure(.malformedSignature("the signature value is not base64"))
        }
        guard principal.key.isValidSignature(value, for: input) else { return .failure(.badSignature) }
        return .success(principal)
    }

    /// Why `principal`'s verified signature does not count for a command dated `commandAt` received at `now`: its
    /// key revoked by then, not valid yet or any more, the command dated in the future or before the key; nil if it
    /// counts.
    public func validity(of principal: Principal, commandAt: Date, at now: Date) -> CommandRefusal? {
        if let revokedAt = principal.revokedAt, revokedAt <= now || revokedAt <= commandAt {
            return .keyRevoked(at: revokedAt, reason: principal.revocationReason ?? "")
        }
        if now < principal.validFrom { return .keyNotYetValid(principal.validFrom) }
        if now > principal.validTo { return .keyExpired(principal.validTo) }
        if commandAt > now.addingTimeInterval(Self.allowedSkew) { return .futureDated(commandAt) }
        if commandAt < principal.validFrom { return .beforeKeyValidity(commandAt) }
        return nil
    }

    static let notCanonical = CommandRefusal.malformedSignature(
        "the command is not JSON canonical form can be made of (duplicate keys, lone surrogates, 1e400…)")

    /// The `signature` member of a command's JSON: nil when there is none.
    public static func signature(in command: [UInt8]) -> Result<CommandSignature?, CommandRefusal> {
        guard let value = try? CanonicalJSON.parse(command) else { return .failure(notCanonical) }
        return signature(of: value)
    }

    /// The `signature` member of a command's parsed JSON: nil when there is none.
    static func signature(of value: CanonicalJSON.Value) -> Result<CommandSignature?, CommandRefusal> {
        guard case .object(let members) = value else { return .failure(.malformedSignature("not a JSON object")) }
        guard let member = members[CommandSignature.member], member != .null else { return .success(nil) }
        guard case .object(let fields) = member,
            case .string(let principal)? = fields["principal"],
            case .string(let algorithmName)? = fields["algorithm"],
            let algorithm = CommandSignature.Algorithm(rawValue: algorithmName),
            case .string(let certificate)? = fields["certificate"],
            case .string(let signatureValue)? = fields["value"]
        else {
            return .failure(.malformedSignature(
                "'signature' needs principal, algorithm (\(CommandSignature.Algorithm.allCases.map(\.rawValue).joined(separator: " or "))), certificate and value"))
        }
        return .success(CommandSignature(
            principal: principal, algorithm: algorithm, certificate: certificate, value: signatureValue))
    }

    /// Whether `principal` may sign a final decision of `department` on `procedure` at `now`, under a delegation
    /// whose delegate is the holder of `position` in the department.
    ///
    /// The registry says who holds a position when: an official of the department registered in that role whose key
    /// is valid and not revoked at the instant. The holder signs; so does a deputy director holding a work
    /// authorisation for the procedure at that instant from an official who then holds the position. Anyone else of
    /// the department is `not-the-delegate`; specialists, desks and services never sign a final decision
    /// (`role-not-allowed`).
    public func maySignFinal(
        _ principal: Principal, department: DepartmentID, procedure: String, position: Delegation.Position = .director,
        at now: Date
    ) -> CommandRefusal? {
        guard principal.department == department.rawValue else { return .wrongDepartment(principal.department) }
        switch principal.role {
        case .specialist, .desk, .service:
            return .roleNotAllowed(
                principal.role, "sign a final decision (the delegate's position holder, or a deputy authorised by them, signs)")
        case .headOfDivision, .deputyDirector, .director:
            if holds(principal, position, department: department, at: now) { return nil }
            let authorised = principal.role == .deputyDirector && authorisations.contains { authorisation in
                guard authorisation.deputy == principal.id, authorisation.covers(procedure: procedure, at: now),
                    let holder = principals[authorisation.forOfficial]
                else { return false }
                return holds(holder, position, department: department, at: now)
            }
            if authorised { return nil }
            return .notTheDelegate(
                principal.role == .deputyDirector
                    ? "the delegation's delegate is the \(position.rawValue) of \(department.rawValue); a deputy director signs "
                        + "for them only with their work authorisation covering procedure \(procedure) at this instant"
                    : "the delegation's delegate is the \(position.rawValue) of \(department.rawValue), not a "
                        + "\(principal.role.rawValue)")
        }
    }

    /// Whether `principal` holds `position` in `department` at `instant`: registered in that role there, key valid
    /// and not revoked then.
    public func holds(_ principal: Principal, _ position: Delegation.Position, department: DepartmentID, at instant: Date)
        -> Bool
    {
        principal.role == position.role && principal.department == department.rawValue
            && principal.validFrom <= instant && instant <= principal.validTo
            && (principal.revokedAt.map { $0 > instant } ?? true)
    }

    /// The officials holding `position` in `department` at `instant` (the registry's answer to "who holds it when").
    public func holders(of position: Delegation.Position, department: DepartmentID, at instant: Date) -> [Principal] {
        principals.values.filter { holds($0, position, department: department, at: instant) }.sorted { $0.id < $1.id }
    }

    /// Whether `principal` may act as an official of `department` (a supplement request, an apology slip).
    public func mayActForDepartment(_ principal: Principal, department: DepartmentID) -> CommandRefusal? {
        guard principal.role.isOfficial else {
            return .roleNotAllowed(principal.role, "act as an official of a department")
        }
        guard principal.department == department.rawValue else { return .wrongDepartment(principal.department) }
        return nil
    }

    /// Whether `principal` may send a letter for `department` — an apology slip, a supplement request — or approve
    /// its draft: a head of division or above of the department (a specialist drafts it). `what` names the act.
    public func mayIssueLetter(_ principal: Principal, department: DepartmentID, what: String) -> CommandRefusal? {
        switch principal.role {
        case .headOfDivision, .deputyDirector, .director:
            return principal.department == department.rawValue ? nil : .wrongDepartment(principal.department)
        case .specialist, .desk, .service:
            return .roleNotAllowed(principal.role, "\(what) (a head of division or above does; a specialist drafts it)")
        }
    }

    /// Whether `principal` may issue an apology slip for `department`: a head of division or above of the department.
    public func mayIssueApology(_ principal: Principal, department: DepartmentID) -> CommandRefusal? {
        mayIssueLetter(principal, department: department, what: "issue an apology slip")
    }

    /// Whether `principal` may carry an applicant's command (the portal's service key or a one-stop desk official).
    public func mayCarryApplicantCommand(_ principal: Principal) -> CommandRefusal? {
        guard principal.role.isChannel else {
            return .roleNotAllowed(principal.role, "carry an applicant's command (the portal or a one-stop desk does)")
        }
        // A payment gateway is a service too, but it takes payments, not applicants' commands.
        guard principal.department != Self.paymentsDepartment else {
            return .roleNotAllowed(principal.role, "carry an applicant's command as a payment gateway")
        }
        return nil
    }

    /// The registry with `principal` added (or replaced).
    public mutating func add(_ principal: Principal) {
        principals[principal.id] = principal
        inForceSince = min(inForceSince ?? principal.registeredAt, principal.registeredAt)
    }

    /// The registry with the principal revoked from `at`.
    public mutating func revoke(_ id: String, at: Date, reason: String) {
        principals[id]?.revokedAt = at
        principals[id]?.revocationReason = reason
    }

    public mutating func authorise(_ authorisation: WorkAuthorisation) {
        authorisations.append(authorisation)
    }
}
