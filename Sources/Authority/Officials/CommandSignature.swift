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

    /// The bytes a signature covers, from the command's JSON as sent (the `signature` member left out): the one
    /// function signers and verifiers make them with.
    public static func signingInput(type: String, topic: String, command: some Collection<UInt8>)
        throws(CanonicalJSON.ParseError) -> [UInt8]
    {
        var input = header(type: type, topic: topic, capacity: command.count)
        _ = try CanonicalJSON.write(command, removing: [member], into: &input)
        return input
    }

    /// The signing input's first bytes: the domain, the type and the topic, each followed by a newline, then a NUL
    /// byte; room for `capacity` more.
    static func header(type: String, topic: String, capacity: Int) -> [UInt8] {
        var header: [UInt8] = []
        header.reserveCapacity(domain.utf8.count + type.utf8.count + topic.utf8.count + 4 + capacity)
        for part in [domain, type, topic] {
            header.append(contentsOf: part.utf8)
            header.append(UInt8(ascii: "\n"))
        }
        header.append(0)
        return header
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
        // The command's canonical fields with the signature member added, in canonical form again.
        var body: [UInt8] = []
        guard try CanonicalJSON.write(command, removing: [member], into: &body).isObject else {
            throw CanonicalJSON.ParseError(offset: 0, problem: "a command is a JSON object")
        }
        let fields = try JSONEncoder().encode(signature)
        var joined = Array("{\"\(member)\":".utf8) + fields
        if body.count > 2 { joined.append(UInt8(ascii: ",")) }
        joined.append(contentsOf: body.dropFirst())
        return try CanonicalJSON.canonicalBytes(of: joined)
    }
}
