import Foundation

/// Why a command is refused: each a code (in events, the audit, tests) and a sentence for people.
public enum CommandRefusal: Sendable, Hashable, Error, CustomStringConvertible {
    /// The registry is in force and the command carries no signature.
    case unsigned
    case malformedSignature(String)
    case unknownPrincipal(String)
    /// The signature names another certificate than the principal's registered one.
    case unknownCertificate(String)
    case badSignature
    case keyRevoked(at: Date, reason: String)
    case keyExpired(Date)
    case keyNotYetValid(Date)
    /// The command says it was made after the batch instant (beyond the allowed clock skew).
    case futureDated(Date)
    /// The command says it was made before its key was valid.
    case beforeKeyValidity(Date)
    case wrongDepartment(String)
    case roleNotAllowed(PrincipalRole, String)
    case notTheDelegate(String)
    case stale(String)

    /// The reason's code (`command-rejected` events, the audit's findings).
    public var code: String {
        switch self {
        case .unsigned: "unsigned"
        case .malformedSignature: "malformed-signature"
        case .unknownPrincipal: "unknown-official"
        case .unknownCertificate: "unknown-certificate"
        case .badSignature: "bad-signature"
        case .keyRevoked: "key-revoked"
        case .keyExpired: "key-expired"
        case .keyNotYetValid: "key-not-yet-valid"
        case .futureDated: "future-dated"
        case .beforeKeyValidity: "before-key-validity"
        case .wrongDepartment: "wrong-department"
        case .roleNotAllowed: "role-not-allowed"
        case .notTheDelegate: "not-the-delegate"
        case .stale: "stale"
        }
    }

    /// Whether the refusal means the signature is not the principal's (forged), rather than a genuine signature
    /// without the authority for this command (unauthorised).
    public var isForgery: Bool {
        switch self {
        case .unsigned, .malformedSignature, .unknownPrincipal, .unknownCertificate, .badSignature: true
        default: false
        }
    }

    public var description: String {
        let at = { (date: Date) in ISO8601Instant.format(date) }
        return switch self {
        case .unsigned: "unsigned: the registry of officials is in force and the command carries no signature"
        case .malformedSignature(let problem): "malformed-signature: \(problem)"
        case .unknownPrincipal: "unknown-official: the signer is not in the registry of officials"
        case .unknownCertificate: "unknown-certificate: the signature names a certificate the registry does not hold for the signer"
        case .badSignature: "bad-signature: the signature does not verify with the signer's registered key"
        case .keyRevoked(let date, _): "key-revoked: the signer's key was revoked at \(at(date))"
        case .keyExpired(let date): "key-expired: the signer's certificate expired at \(at(date))"
        case .keyNotYetValid(let date): "key-not-yet-valid: the signer's certificate is valid from \(at(date))"
        case .futureDated(let date): "future-dated: the command is dated \(at(date)), after the worker's instant"
        case .beforeKeyValidity(let date): "before-key-validity: the command is dated \(at(date)), before its key was valid"
        case .wrongDepartment(let department): "wrong-department: the signer belongs to '\(department)'"
        case .roleNotAllowed(let role, let what): "role-not-allowed: a \(role.rawValue) cannot \(what)"
        case .notTheDelegate(let why): "not-the-delegate: \(why)"
        case .stale(let why): "stale: \(why)"
        }
    }
}
