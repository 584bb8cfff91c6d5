import Crypto
import Foundation
import _CryptoExtras

/// A principal's public key for commands: RSA (PKCS #1 v1.5, SHA-256; 2048 bits or more) or ECDSA P-256 (SHA-256).
///
/// `@unchecked Sendable`: swift-crypto's P-256 key structs are not marked Sendable, yet they are immutable values
/// (their BoringSSL objects are never mutated after creation and verifying is thread-safe); the RSA keys are Sendable.
public enum CommandKey: @unchecked Sendable {
    case rsa(_RSA.Signing.PublicKey)
    case p256(P256.Signing.PublicKey)

    /// The algorithm name written in signatures.
    public var algorithm: CommandSignature.Algorithm {
        switch self {
        case .rsa: .rsaPKCS1SHA256
        case .p256: .ecdsaP256SHA256
        }
    }

    /// The key as a SubjectPublicKeyInfo (DER).
    public var spkiDER: Data {
        switch self {
        case .rsa(let key): key.derRepresentation
        case .p256(let key): key.derRepresentation
        }
    }

    /// A key from a SubjectPublicKeyInfo (DER) of the given algorithm.
    public init(algorithm: CommandSignature.Algorithm, spkiDER: Data) throws {
        switch algorithm {
        case .rsaPKCS1SHA256:
            let key = try _RSA.Signing.PublicKey(derRepresentation: spkiDER)
            guard key.keySizeInBits >= 2048 else { throw CommandSignature.KeyError.rsaTooShort(key.keySizeInBits) }
            self = .rsa(key)
        case .ecdsaP256SHA256:
            self = .p256(try P256.Signing.PublicKey(derRepresentation: spkiDER))
        }
    }

    /// Whether `signature` is this key's signature of `message`.
    public func isValidSignature(_ signature: Data, for message: [UInt8]) -> Bool {
        switch self {
        case .rsa(let key):
            return key.isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: signature), for: message, padding: .insecurePKCS1v1_5)
        case .p256(let key):
            guard let parsed = try? P256.Signing.ECDSASignature(derRepresentation: signature) else { return false }
            return key.isValidSignature(parsed, for: message)
        }
    }
}

/// A private key that signs commands (held by the official, in a file of mode 0600; never in PostgreSQL).
/// `@unchecked Sendable` for the reason given at ``CommandKey``.
public enum CommandSigningKey: @unchecked Sendable {
    case rsa(_RSA.Signing.PrivateKey)
    case p256(P256.Signing.PrivateKey)

    public var publicKey: CommandKey {
        switch self {
        case .rsa(let key): .rsa(key.publicKey)
        case .p256(let key): .p256(key.publicKey)
        }
    }

    /// Reads a PEM private key (PKCS #8 or the traditional RSA / EC forms).
    public init(pem: String) throws {
        if pem.contains("BEGIN RSA PRIVATE KEY") {
            self = .rsa(try _RSA.Signing.PrivateKey(pemRepresentation: pem))
        } else if pem.contains("BEGIN EC PRIVATE KEY") {
            self = .p256(try P256.Signing.PrivateKey(pemRepresentation: pem))
        } else if let key = try? P256.Signing.PrivateKey(pemRepresentation: pem) {
            self = .p256(key)
        } else {
            self = .rsa(try _RSA.Signing.PrivateKey(pemRepresentation: pem))
        }
    }

    /// A new RSA-2048 key.
    public static func newRSA2048() throws -> CommandSigningKey { .rsa(try _RSA.Signing.PrivateKey(keySize: .bits2048)) }

    /// A new ECDSA P-256 key.
    public static func newP256() -> CommandSigningKey { .p256(P256.Signing.PrivateKey()) }

    /// The key as PEM (PKCS #8).
    public var pemRepresentation: String {
        switch self {
        case .rsa(let key): key.pkcs8PEMRepresentation
        case .p256(let key): key.pemRepresentation
        }
    }

    /// The signature of `message` (raw RSA, or DER ECDSA).
    public func signature(for message: [UInt8]) throws -> Data {
        switch self {
        case .rsa(let key): try key.signature(for: message, padding: .insecurePKCS1v1_5).rawRepresentation
        case .p256(let key): try key.signature(for: message).derRepresentation
        }
    }
}
