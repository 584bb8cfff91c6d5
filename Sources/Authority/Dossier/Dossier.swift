import Foundation

/// A dossier as submitted: the body of an intake message (topic `dossiers.intake`).
///
/// The contract is stable; external producers depend on it (DESIGN.md, "Intake contract").
public struct Dossier: Sendable, Codable, Hashable {
    /// The submission channel.
    public enum Channel: String, Sendable, Codable, Hashable, CaseIterable {
        case online
        case counter
        case post
    }

    /// The person or body that submitted the dossier.
    public struct Applicant: Sendable, Codable, Hashable {
        /// What kind of applicant; delegations may be limited to some kinds.
        public enum Kind: String, Sendable, Codable, Hashable, CaseIterable {
            case citizen
            case household
            case enterprise
            case organisation
        }

        public var kind: Kind
        /// Citizen id, tax code or similar. Personal data: never log it.
        public var id: String
        /// Personal data: never log it.
        public var name: String

        public init(kind: Kind, id: String, name: String) {
            self.kind = kind
            self.id = id
            self.name = name
        }
    }

    /// Stable id of the dossier; the same id sent twice is one dossier.
    public var id: String
    /// Procedure code from the catalogue.
    public var procedure: String
    public var submittedAt: Date
    public var channel: Channel
    /// Commune code (territory of delegations).
    public var commune: String
    public var applicant: Applicant
    /// Document-type ids of the documents attached.
    public var documents: [String]
    /// Typed values the rules read (`facts.<name>`).
    public var facts: [String: FactValue]
    /// SHA-256 (64 lowercase hexadecimal digits) of the applicant's receipt secret, which only the submitting
    /// channel and the applicant know. Optional: without it the dossier cannot be withdrawn or looked up publicly.
    public var receiptSecretSha256: String?
    /// The applicant's chosen channel and contact (optional). Never encoded: reception stores it apart and removes
    /// it (``Contact``).
    public var contact: Contact?
    /// Optional, said by the submitting channel: true when the dossier's documents were digitised at reception
    /// (scanned and certified into electronic form by the one-stop desk, or submitted as electronic originals);
    /// false when they were not; absent when the channel does not say. Read by the digitisation indicator and
    /// carried on the national portal record.
    public var digitised: Bool?
    /// Optional, said by the submitting channel: true when the applicant's identity was verified with VNeID (the
    /// national electronic identification) when the dossier was submitted; absent when the channel does not say.
    /// Carried on the national portal record. Not personal data: a yes/no about the check, never the identity.
    public var vneidVerified: Bool?

    public init(
        id: String, procedure: String, submittedAt: Date, channel: Channel, commune: String, applicant: Applicant,
        documents: [String], facts: [String: FactValue], receiptSecretSha256: String? = nil
    ) {
        self.receiptSecretSha256 = receiptSecretSha256
        self.id = id
        self.procedure = procedure
        self.submittedAt = submittedAt
        self.channel = channel
        self.commune = commune
        self.applicant = applicant
        self.documents = documents
        self.facts = facts
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, procedure, submittedAt, channel, commune, applicant, documents, facts, receiptSecretSha256, contact
        case digitised, vneidVerified
    }

    /// Whether `text` is a SHA-256 as the intake takes it: 64 lowercase hexadecimal digits.
    public static func isSHA256Hex(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    public init(from decoder: any Decoder) throws {
        try Dossier.rejectUnknownKeys(decoder, allowed: Set(CodingKeys.allCases.map(\.stringValue)))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try Dossier.matching(c, .id, Dossier.isUUID, "expected a UUID (8-4-4-4-12 hexadecimal digits)")
        procedure = try Dossier.matching(
            c, .procedure, Dossier.isProcedureCode, "expected a procedure code like 2.000633")
        let submitted = try c.decode(String.self, forKey: .submittedAt)
        guard let date = ISO8601Instant.parse(submitted) else {
            throw DecodingError.dataCorruptedError(
                forKey: .submittedAt, in: c,
                debugDescription: "expected an ISO-8601 instant with offset, e.g. 2026-11-27T09:30:00+07:00")
        }
        submittedAt = date
        channel = try Dossier.enumeration(c, .channel)
        commune = try Dossier.matching(c, .commune, Dossier.isCommuneCode, "expected a 5-digit commune code")
        applicant = try c.decode(Applicant.self, forKey: .applicant)
        documents = try c.decode([String].self, forKey: .documents)
        for (i, document) in documents.enumerated() where !Dossier.isKebab(document) {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: [CodingKeys.documents, AnyKey(index: i)],
                    debugDescription: "expected a document-type id (lowercase kebab-case)"))
        }
        facts = try c.decode([String: FactValue].self, forKey: .facts)
        if c.contains(.receiptSecretSha256) {
            receiptSecretSha256 = try Dossier.matching(
                c, .receiptSecretSha256, Dossier.isSHA256Hex,
                "expected the SHA-256 of the receipt secret as 64 lowercase hexadecimal digits (never the secret)")
        }
        contact = try c.decodeIfPresent(Contact.self, forKey: .contact)
        // Present means true or false (the schema's boolean): null is refused like any other type.
        if c.contains(.digitised) { digitised = try c.decode(Bool.self, forKey: .digitised) }
        if c.contains(.vneidVerified) { vneidVerified = try c.decode(Bool.self, forKey: .vneidVerified) }
        for (name, value) in facts {
            switch value {
            case .string, .integer, .number, .bool: continue
            case .null, .array:
                throw DecodingError.dataCorrupted(
                    .init(
                        codingPath: [CodingKeys.facts, AnyKey(name)],
                        debugDescription: "expected a string, number or boolean"))
            }
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(procedure, forKey: .procedure)
        try c.encode(ISO8601Instant.format(submittedAt), forKey: .submittedAt)
        try c.encode(channel, forKey: .channel)
        try c.encode(commune, forKey: .commune)
        try c.encode(applicant, forKey: .applicant)
        try c.encode(documents, forKey: .documents)
        try c.encode(facts, forKey: .facts)
        try c.encodeIfPresent(receiptSecretSha256, forKey: .receiptSecretSha256)
        try c.encodeIfPresent(digitised, forKey: .digitised)
        try c.encodeIfPresent(vneidVerified, forKey: .vneidVerified)
        // Never `contact`: personal data that stays in PostgreSQL (``Contact``).
    }

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int?
        init(_ string: String) {
            stringValue = string
        }
        init(index: Int) {
            stringValue = String(index)
            intValue = index
        }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) {
            stringValue = String(intValue)
            self.intValue = intValue
        }
    }

    static func rejectUnknownKeys(_ decoder: any Decoder, allowed: Set<String>) throws {
        let all = try decoder.container(keyedBy: AnyKey.self)
        for key in all.allKeys where !allowed.contains(key.stringValue) {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath + [key], debugDescription: "unknown property"))
        }
    }

    static func matching<K: CodingKey>(
        _ c: KeyedDecodingContainer<K>, _ key: K, _ test: (String) -> Bool, _ expected: String
    ) throws -> String {
        let value = try c.decode(String.self, forKey: key)
        guard test(value) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: expected)
        }
        return value
    }

    /// A UUID in 8-4-4-4-12 hexadecimal digits (the dossier id). The field checks of `init(from:)`, public so that hand-written readers accept exactly the same.
    public static func isUUID(_ s: String) -> Bool { isUUID(utf8: s.utf8) }

    /// ``isUUID(_:)`` on UTF-8 bytes (a reader's, before it makes a `String`).
    @inlinable
    public static func isUUID<Bytes: Sequence<UInt8>>(utf8: Bytes) -> Bool {
        var i = 0
        for c in utf8 {
            if i == 8 || i == 13 || i == 18 || i == 23 {
                if c != UInt8(ascii: "-") { return false }
            } else if !((c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70)) {
                return false
            }
            i += 1
            if i > 36 { return false }
        }
        return i == 36
    }

    /// A national procedure code, `1.xxxxxx` or `2.xxxxxx`. The field checks of `init(from:)`, public so that hand-written readers accept exactly the same.
    public static func isProcedureCode(_ s: String) -> Bool { isProcedureCode(utf8: s.utf8) }

    /// ``isProcedureCode(_:)`` on UTF-8 bytes.
    @inlinable
    public static func isProcedureCode<Bytes: Sequence<UInt8>>(utf8: Bytes) -> Bool {
        var i = 0
        for c in utf8 {
            switch i {
            case 0: if c != UInt8(ascii: "1") && c != UInt8(ascii: "2") { return false }
            case 1: if c != UInt8(ascii: ".") { return false }
            case 2..<8: if !(c >= 48 && c <= 57) { return false }
            default: return false
            }
            i += 1
        }
        return i == 8
    }

    /// A five-digit commune code. The field checks of `init(from:)`, public so that hand-written readers accept exactly the same.
    public static func isCommuneCode(_ s: String) -> Bool { isCommuneCode(utf8: s.utf8) }

    /// ``isCommuneCode(_:)`` on UTF-8 bytes.
    @inlinable
    public static func isCommuneCode<Bytes: Sequence<UInt8>>(utf8: Bytes) -> Bool {
        var i = 0
        for c in utf8 {
            if !(c >= 48 && c <= 57) || i == 5 { return false }
            i += 1
        }
        return i == 5
    }

    /// Lower-case words and digits joined by single dashes (document ids). The field checks of `init(from:)`, public so that hand-written readers accept exactly the same.
    public static func isKebab(_ s: String) -> Bool { isKebab(utf8: s.utf8) }

    /// ``isKebab(_:)`` on UTF-8 bytes.
    @inlinable
    public static func isKebab<Bytes: Sequence<UInt8>>(utf8: Bytes) -> Bool {
        var previousDash = true
        for c in utf8 {
            if c == UInt8(ascii: "-") {
                if previousDash { return false }
                previousDash = true
            } else if (c >= 97 && c <= 122) || (c >= 48 && c <= 57) {
                previousDash = false
            } else {
                return false
            }
        }
        return !previousDash
    }

    /// Anything but whitespace. The field checks of `init(from:)`, public so that hand-written readers accept exactly the same.
    public static func hasNonSpace(_ s: String) -> Bool {
        s.unicodeScalars.contains { !$0.properties.isWhitespace }
    }

    static func nonEmpty<K: CodingKey>(_ c: KeyedDecodingContainer<K>, _ key: K) throws -> String {
        let value = try c.decode(String.self, forKey: key)
        guard !value.isEmpty else {
            throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "must not be empty")
        }
        return value
    }

    static func enumeration<K: CodingKey, E: RawRepresentable & CaseIterable>(
        _ c: KeyedDecodingContainer<K>, _ key: K
    ) throws -> E where E.RawValue == String {
        let raw = try c.decode(String.self, forKey: key)
        guard let value = E(rawValue: raw) else {
            let allowed = E.allCases.map(\.rawValue).joined(separator: ", ")
            throw DecodingError.dataCorruptedError(
                forKey: key, in: c, debugDescription: "expected one of \(allowed); got \"\(raw)\"")
        }
        return value
    }
}

extension Dossier.Applicant {
    enum CodingKeys: String, CodingKey {
        case kind, id, name
    }

    public init(from decoder: any Decoder) throws {
        try Dossier.rejectUnknownKeys(decoder, allowed: ["kind", "id", "name"])
        let c = try decoder.container(keyedBy: CodingKeys.self)
        kind = try Dossier.enumeration(c, .kind)
        id = try Dossier.matching(c, .id, Dossier.hasNonSpace, "must not be blank")
        name = try Dossier.matching(c, .name, Dossier.hasNonSpace, "must not be blank")
    }
}

extension Dossier {
    /// Decodes an intake message body, naming the field and what is wrong when it is not a valid dossier.
    ///
    /// Checks what `schemas/intake.schema.json` requires: every property present, no unknown property, the id a
    /// UUID, codes well-formed, facts strings, numbers or booleans.
    public static func decode(json: Data) throws(IntakeError) -> Dossier {
        do {
            return try JSONDecoder().decode(Dossier.self, from: json)
        } catch let error as DecodingError {
            throw IntakeError(error)
        } catch {
            throw IntakeError(field: "", problem: "not a valid dossier")
        }
    }
}
