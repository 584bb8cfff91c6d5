import Authority
import Crypto
import Foundation
import SwiftASN1
@_spi(FixedExpiryValidationTime) import X509
import _CryptoExtras

/// An official's or a service's signing certificate (X.509), as issued by a CA the City trusts: RSA-2048 or more
/// (most Vietnamese officials' certificates) or ECDSA P-256.
///
/// This module is the only one that parses certificates: `motcua officials add` verifies the chain here and
/// records the key and validity, which is all the workers (which do not link swift-certificates) need.
public struct SigningCertificate: Sendable {
    public let certificate: Certificate
    public let der: [UInt8]
    public let key: CommandKey

    /// A certificate that cannot be used, with what to do.
    public struct Problem: Error, CustomStringConvertible, Equatable {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    /// Reads a certificate from PEM text or DER bytes.
    public init(contents: [UInt8]) throws(Problem) {
        let text = String(decoding: contents, as: UTF8.self)
        do {
            if text.contains("-----BEGIN CERTIFICATE-----") {
                let document = try PEMDocument(pemString: text)
                der = document.derBytes
            } else {
                der = contents
            }
            certificate = try Certificate(derEncoded: der)
        } catch {
            throw Problem("not an X.509 certificate (PEM or DER): \(error)")
        }
        if let rsa = _RSA.Signing.PublicKey(certificate.publicKey) {
            guard rsa.keySizeInBits >= 2048 else {
                throw Problem("an RSA key of \(rsa.keySizeInBits) bits: officials' certificates need 2048 bits or more")
            }
            key = .rsa(rsa)
        } else if let p256 = P256.Signing.PublicKey(certificate.publicKey) {
            key = .p256(p256)
        } else {
            throw Problem("the certificate's key is neither RSA nor ECDSA P-256, the two kinds MotCua verifies")
        }
    }

    public init(_ certificate: Certificate) throws(Problem) {
        var serializer = DER.Serializer()
        do {
            try serializer.serialize(certificate)
        } catch {
            throw Problem("the certificate does not serialise: \(error)")
        }
        try self.init(contents: serializer.serializedBytes)
    }

    /// Lowercase hexadecimal SHA-256 of the DER certificate.
    public var sha256: String { SHA256.hash(data: der).map { String(format: "%02x", $0) }.joined() }
    public var notValidBefore: Date { certificate.notValidBefore }
    public var notValidAfter: Date { certificate.notValidAfter }
    public var subject: String { String(describing: certificate.subject) }

    /// PEM text of the certificate.
    public var pem: String { PEMDocument(type: "CERTIFICATE", derBytes: der).pemString }

    /// Verifies that the certificate chains to one of `roots` (through `intermediates`) and is valid at `instant`
    /// (RFC 5280); returns the problem when it does not.
    public func verify(roots: [Certificate], intermediates: [Certificate] = [], at instant: Date) async -> Problem? {
        guard !roots.isEmpty else {
            return Problem("no trusted CA certificates: put the City's trusted CA certificates (PEM) in deploy/trust/")
        }
        if instant < notValidBefore { return Problem("the certificate is not valid before \(ISO8601Instant.format(notValidBefore))") }
        if instant > notValidAfter { return Problem("the certificate expired at \(ISO8601Instant.format(notValidAfter))") }
        var verifier = Verifier(rootCertificates: CertificateStore(roots)) {
            RFC5280Policy(fixedExpiryValidationTime: instant)
        }
        switch await verifier.validate(leaf: certificate, intermediates: CertificateStore(intermediates)) {
        case .validCertificate:
            return nil
        case .couldNotValidate(let failures):
            let reasons = failures.map { String(describing: $0.policyFailureReason) }
            return Problem(
                "the certificate does not chain to a CA the City trusts (deploy/trust/)"
                    + (reasons.isEmpty ? "" : ": " + reasons.joined(separator: "; ")))
        }
    }
}

/// The CA certificates the City trusts for officials' signatures: every `.pem`/`.crt` (PEM) or `.der` file of a
/// directory (deploy/trust/).
public enum TrustedCAs {
    public static func load(directory: String) throws -> [Certificate] {
        let url = URL(fileURLWithPath: directory)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        var roots: [Certificate] = []
        for name in names where [".pem", ".crt", ".der"].contains(where: { name.hasSuffix($0) }) {
            let bytes = Array(try Data(contentsOf: url.appendingPathComponent(name)))
            do {
                if name.hasSuffix(".der") {
                    roots.append(try Certificate(derEncoded: bytes))
                } else {
                    let documents = try PEMDocument.parseMultiple(pemString: String(decoding: bytes, as: UTF8.self))
                    for document in documents where document.discriminator == "CERTIFICATE" {
                        roots.append(try Certificate(derEncoded: document.derBytes))
                    }
                }
            } catch {
                throw SigningCertificate.Problem("\(directory)/\(name) is not a CA certificate: \(error)")
            }
        }
        return roots
    }
}
