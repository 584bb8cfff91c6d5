import Foundation

/// The signature carried by a signed command (its `signature` field), and the bytes it signs.
///
/// What is signed is domain-separated: `motcua-command-v1`, the message type (`ce_type`), the logical target
/// topic (without a deployment's prefix), and the command's own fields in canonical JSON (RFC 8785, ``CanonicalJSON``)
/// without the `signature` member, each followed by a newline (a NUL byte ends the header lines, which cannot hold
/// one). A signature made for one type, topic or set of fields verifies for no other.
public struct CommandSignature: Codable, Sendable, Hashable {
    public enum Algorithm: String, Codable, Sendable, Hashable, CaseIterable {
        case rsaPKCS1SHA256 = "rsa-pkcs1-sha256"
        case ecdsaP256SHA256 = "ecdsa-p256-sha256"
    }

    public enum KeyError: Error, CustomStringConvertible {
        case rsaTooShort(Int)
        public var description: String {
            switch self {
            case .rsaTooShort(let bits): "an RSA key of \(bits) bits: 2048 or more are required"
            }
        }
    }

    /// The registered principal whose key signed.
    public var principal: String
    public var algorithm: Algorithm
    /// SHA-256 (hex) of the signing certificate, so a rotated key is named exactly.
    public var certificate: String
    /// The signature, base64.
    public var value: String

    public init(principal: String, algorithm: Algorithm, certificate: String, value: String) {
        self.principal = principal
        self.algorithm = algorithm
        self.certificate = certificate
        self.value = value
    }

    public static let domain = "motcua-command-v1"
    /// The name of the member that carries the signature in a command's JSON.
    public static let member = "signature"

    /// The bytes a signature covers, from the command's JSON as sent (the `signature` member left out).
    public static func signingInput(type: String, topic: String, command: some Collection<UInt8>)
        throws(CanonicalJSON.ParseError) -> [UInt8]
    {
        let body = try CanonicalJSON.canonicalBytes(of: command, removing: [member])
        return Array("\(domain)\n\(type)\n\(topic)\n".utf8) + [0] + body
    }

    /// The bytes a signature covers, from the canonical text of the command's fields (the `signature` member left
    /// out): what ``signingInput(type:topic:command:)`` makes of the JSON as sent.
    static func signingInput(type: String, topic: String, canonical: String) -> [UInt8] {
        Array("\(domain)\n\(type)\n\(topic)\n".utf8) + [0] + Array(canonical.utf8)
    }

    /// The command JSON `command` (without a signature) signed by `key` as `principal`: the JSON with its
    /// `signature` member added, in canonical form.
    public static func sign(
        _ command: some Collection<UInt8>, type: String, topic: String, principal: String, certificate: String,
        key: CommandSigningKey
    ) throws -> [UInt8] {
        let input = try signingInput(type: type, topic: topic, command: command)
        let signature = CommandSignature(
            principal: principal, algorithm: key.publicKey.algorithm, certificate: certificate,
            value: try key.signature(for: input).base64EncodedString())
        guard case .object(var members) = try CanonicalJSON.parse(command) else {
            throw CanonicalJSON.ParseError(offset: 0, problem: "a command is a JSON object")
        }
        members[member] = .object([
            "principal": .string(signature.principal), "algorithm": .string(signature.algorithm.rawValue),
            "certificate": .string(signature.certificate), "value": .string(signature.value),
        ])
        return Array(CanonicalJSON.text(.object(members)).utf8)
    }
}
