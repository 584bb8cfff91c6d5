import Foundation

/// A registered principal: who it is, where it works, its role, and the key of its signing certificate.
///
/// The certificate itself (and its chain) is verified when it is registered (`Credentials`); workers and the audit
/// then check signatures with ``key`` and the validity recorded here.
public struct Principal: Sendable {
    public var id: String
    public var displayName: String
    public var department: String
    public var division: String?
    public var role: PrincipalRole
    public var key: CommandKey
    /// Lowercase hexadecimal SHA-256 of the certificate (DER): the key's identity.
    public var certificateSHA256: String
    /// The certificate's validity period.
    public var validFrom: Date
    public var validTo: Date
    /// When the registry recorded the principal.
    public var registeredAt: Date
    /// The registry's own revocation (the key is refused from this instant).
    public var revokedAt: Date?
    public var revocationReason: String?

    public init(
        id: String, displayName: String, department: String, division: String?, role: PrincipalRole, key: CommandKey,
        certificateSHA256: String, validFrom: Date, validTo: Date, registeredAt: Date, revokedAt: Date? = nil,
        revocationReason: String? = nil
    ) {
        self.id = id
        self.displayName = displayName
        self.department = department
        self.division = division
        self.role = role
        self.key = key
        self.certificateSHA256 = certificateSHA256
        self.validFrom = validFrom
        self.validTo = validTo
        self.registeredAt = registeredAt
        self.revokedAt = revokedAt
        self.revocationReason = revocationReason
    }

    /// Whether the id is one the registry accepts: lowercase letters, digits, '.', '_' and '-', at most 64.
    public static func isValidId(_ id: String) -> Bool {
        guard let first = id.utf8.first, id.utf8.count <= 64 else { return false }
        func allowed(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
        return allowed(first) && id.utf8.allSatisfy { allowed($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }
}

/// A deputy's authorisation to sign for the director on named procedures during a period (an instrument cites it).
public struct WorkAuthorisation: Sendable, Hashable, Codable {
    public var deputy: String
    /// The director the deputy signs for.
    public var forOfficial: String
    public var procedures: [String]
    public var validFrom: Date
    public var validTo: Date
    public var instrument: String

    public init(
        deputy: String, forOfficial: String, procedures: [String], validFrom: Date, validTo: Date, instrument: String
    ) {
        self.deputy = deputy
        self.forOfficial = forOfficial
        self.procedures = procedures
        self.validFrom = validFrom
        self.validTo = validTo
        self.instrument = instrument
    }

    public func covers(procedure: String, at instant: Date) -> Bool {
        validFrom <= instant && instant <= validTo && (procedures.contains(procedure) || procedures.contains("*"))
    }
}
