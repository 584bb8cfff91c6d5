import Authority
import Crypto
import Foundation
import SwiftASN1
import X509
import _CryptoExtras

/// A test certificate authority for development and the demo (`motcua officials dev-ca`): its own key and
/// self-signed certificate, and officials' keys and certificates issued by it. Never for production: the City's
/// officials hold certificates of licensed CAs.
public struct DevelopmentCA: Sendable {
    public let certificate: Certificate
    let key: Certificate.PrivateKey

    public enum KeyKind: String, Sendable, CaseIterable {
        case rsa2048 = "rsa2048"
        case p256 = "p256"
    }

    /// A new CA valid from `notBefore` to `notAfter`.
    public init(name: String = "MotCua development CA", notBefore: Date, notAfter: Date) throws {
        let caKey = P256.Signing.PrivateKey()
        key = Certificate.PrivateKey(caKey)
        let subject = try DistinguishedName {
            CommonName(name)
            OrganizationName("MotCua development (not for production)")
        }
        certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: key.publicKey,
            notValidBefore: notBefore, notValidAfter: notAfter, issuer: subject, subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: key)
    }

    /// The CA read back from its certificate and key (PEM).
    public init(certificatePEM: String, keyPEM: String) throws {
        certificate = try Certificate(pemEncoded: certificatePEM)
        key = Certificate.PrivateKey(try P256.Signing.PrivateKey(pemRepresentation: keyPEM))
    }

    public var keyPEM: String {
        get throws { try key.serializeAsPEM().pemString }
    }

    public var certificatePEM: String {
        get throws { try certificate.serializeAsPEM().pemString }
    }

    /// A new key of `kind` and a certificate for it, issued to `commonName` for `notBefore…notAfter`.
    public func issue(
        commonName: String, kind: KeyKind, notBefore: Date, notAfter: Date
    ) throws -> (key: CommandSigningKey, certificate: SigningCertificate) {
        let signingKey: CommandSigningKey
        let publicKey: Certificate.PublicKey
        switch kind {
        case .rsa2048:
            let rsa = try _RSA.Signing.PrivateKey(keySize: .bits2048)
            signingKey = .rsa(rsa)
            publicKey = Certificate.PrivateKey(rsa).publicKey
        case .p256:
            let p256 = P256.Signing.PrivateKey()
            signingKey = .p256(p256)
            publicKey = Certificate.PrivateKey(p256).publicKey
        }
        let issued = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: publicKey,
            notValidBefore: notBefore, notValidAfter: notAfter, issuer: certificate.subject,
            subject: try DistinguishedName { CommonName(commonName) }, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, nonRepudiation: true))
            },
            issuerPrivateKey: key)
        return (signingKey, try SigningCertificate(issued))
    }
}
