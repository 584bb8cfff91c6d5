import Authority
import Foundation
import Testing

@testable import Credentials

@Suite("Signing certificates: chains to the trusted CAs, validity, keys")
struct SigningCertificateTests {
    static let now = Date()
    static let day: TimeInterval = 86_400

    static func ca() throws -> DevelopmentCA {
        try DevelopmentCA(notBefore: now.addingTimeInterval(-10 * day), notAfter: now.addingTimeInterval(400 * day))
    }

    @Test("RSA-2048 and P-256 certificates issued by a trusted CA verify, and their keys check signatures")
    func validChains() async throws {
        let ca = try Self.ca()
        for kind in DevelopmentCA.KeyKind.allCases {
            let (key, certificate) = try ca.issue(
                commonName: "Director \(kind)", kind: kind, notBefore: Self.now.addingTimeInterval(-Self.day),
                notAfter: Self.now.addingTimeInterval(365 * Self.day))
            #expect(await certificate.verify(roots: [ca.certificate], at: Self.now) == nil, "\(kind)")
            #expect(certificate.key.algorithm == (kind == .rsa2048 ? .rsaPKCS1SHA256 : .ecdsaP256SHA256))
            #expect(certificate.key.spkiDER == key.publicKey.spkiDER)
            // Read back from PEM and DER: the same certificate.
            let fromPEM = try SigningCertificate(contents: Array(certificate.pem.utf8))
            let fromDER = try SigningCertificate(contents: certificate.der)
            #expect(fromPEM.sha256 == certificate.sha256 && fromDER.sha256 == certificate.sha256)
            let message = Array("motcua".utf8)
            #expect(certificate.key.isValidSignature(try key.signature(for: message), for: message))
            // The private key survives its PEM file.
            let reread = try CommandSigningKey(pem: key.pemRepresentation)
            #expect(reread.publicKey.spkiDER == key.publicKey.spkiDER)
        }
    }

    @Test("refused: another CA, expired, not yet valid, no trusted CA at all")
    func refusedChains() async throws {
        let ca = try Self.ca()
        let other = try Self.ca()
        let (_, certificate) = try ca.issue(
            commonName: "Specialist", kind: .p256, notBefore: Self.now.addingTimeInterval(-Self.day),
            notAfter: Self.now.addingTimeInterval(30 * Self.day))
        let wrongCA = await certificate.verify(roots: [other.certificate], at: Self.now)
        #expect(wrongCA?.description.contains("does not chain to a CA the City trusts") == true)
        let (_, expired) = try ca.issue(
            commonName: "Expired", kind: .rsa2048, notBefore: Self.now.addingTimeInterval(-5 * Self.day),
            notAfter: Self.now.addingTimeInterval(-Self.day))
        #expect(await expired.verify(roots: [ca.certificate], at: Self.now)?.description.contains("expired") == true)
        #expect(await certificate.verify(roots: [ca.certificate], at: Self.now.addingTimeInterval(-3 * Self.day))?
            .description.contains("not valid before") == true)
        #expect(await certificate.verify(roots: [], at: Self.now)?.description.contains("deploy/trust") == true)
    }

    @Test("a certificate must hold an RSA or P-256 key and be a certificate")
    func malformed() {
        #expect(throws: SigningCertificate.Problem.self) { try SigningCertificate(contents: Array("not a certificate".utf8)) }
    }

    @Test("the trusted CAs are read from a directory of PEM files")
    func trustDirectory() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("motcua-trust-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let ca = try Self.ca()
        try ca.certificatePEM.write(to: directory.appendingPathComponent("city.pem"), atomically: true, encoding: .utf8)
        try "ignored".write(to: directory.appendingPathComponent("README.md"), atomically: true, encoding: .utf8)
        #expect(try TrustedCAs.load(directory: directory.path) == [ca.certificate])
    }
}
