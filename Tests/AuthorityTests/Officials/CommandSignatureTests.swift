import Foundation
import Testing

@testable import Authority

@Suite("Signed commands and the registry's checks")
struct CommandSignatureTests {
    static let instant = Date(timeIntervalSince1970: 1_796_000_000)
    static let topic = "dossiers.labour"
    static let type = "motcua.official.sign"

    struct Signer {
        var principal: Principal
        var key: CommandSigningKey
    }

    static func signer(
        _ id: String, role: PrincipalRole, department: String = "labour", key: CommandSigningKey,
        validFrom: Date = instant.addingTimeInterval(-86_400), validTo: Date = instant.addingTimeInterval(86_400)
    ) -> Signer {
        Signer(
            principal: Principal(
                id: id, displayName: id, department: department, division: nil, role: role, key: key.publicKey,
                certificateSHA256: String(repeating: "a", count: 64), validFrom: validFrom, validTo: validTo,
                registeredAt: instant.addingTimeInterval(-3600)),
            key: key)
    }

    static func command(_ signer: Signer, at: Date = instant, outcome: String = "refuse", topic: String = topic) throws
        -> [UInt8]
    {
        let json = #"{"at":"\#(ISO8601Instant.format(at))","decision":"\#(outcome)","dossierId":"d-1","official":{"department":"labour","id":"\#(signer.principal.id)"},"round":0,"step":0}"#
        return try CommandSignature.sign(
            Array(json.utf8), type: type, topic: topic, principal: signer.principal.id,
            certificate: signer.principal.certificateSHA256, key: signer.key)
    }

    static func check(_ registry: OfficialRegistry, _ bytes: [UInt8], now: Date = instant) -> Result<Principal, CommandRefusal> {
        registry.authenticate(command: bytes, type: type, topic: topic, commandAt: instant, at: now)
    }

    @Test("RSA-2048 and P-256 signatures verify; a changed field, another topic or type, another key do not")
    func verification() throws {
        for key in [try CommandSigningKey.newRSA2048(), CommandSigningKey.newP256()] {
            let director = Self.signer("labour-director", role: .director, key: key)
            let registry = OfficialRegistry(principals: [director.principal], inForceSince: Self.instant.addingTimeInterval(-3600))
            let signed = try Self.command(director)
            #expect(try Self.check(registry, signed).get().id == "labour-director")
            // Reordered members and white space: the same canonical form.
            let text = String(decoding: signed, as: UTF8.self).replacingOccurrences(of: ",", with: " , ")
            #expect(try Self.check(registry, Array(text.utf8)).get().id == "labour-director")
            // A refusal turned into an approval.
            let tampered = String(decoding: signed, as: UTF8.self).replacingOccurrences(of: "\"refuse\"", with: "\"approve\"")
            #expect(Self.check(registry, Array(tampered.utf8)).failureCode == "bad-signature")
            // The same bytes on another department's topic or as another type.
            #expect(registry.authenticate(command: signed, type: Self.type, topic: "dossiers.culture", commandAt: Self.instant, at: Self.instant).failureCode == "bad-signature")
            #expect(registry.authenticate(command: signed, type: "motcua.applicant.withdraw", topic: Self.topic, commandAt: Self.instant, at: Self.instant).failureCode == "bad-signature")
            // Signed with another key under the director's name.
            // Signed with another key of the same kind under the director's name; one of the other kind is not
            // even the registered certificate's algorithm.
            let sameKind: CommandSigningKey
            let otherKind: CommandSigningKey
            switch key {
            case .rsa: (sameKind, otherKind) = (try .newRSA2048(), .newP256())
            case .p256: (sameKind, otherKind) = (.newP256(), try .newRSA2048())
            }
            let impostor = Self.signer("labour-director", role: .director, key: sameKind)
            #expect(Self.check(registry, try Self.command(impostor)).failureCode == "bad-signature")
            let otherAlgorithm = Self.signer("labour-director", role: .director, key: otherKind)
            #expect(Self.check(registry, try Self.command(otherAlgorithm)).failureCode == "unknown-certificate")
        }
    }

    @Test("unknown signer, unsigned, revoked, expired, not yet valid, future-dated: each refused with its code")
    func keyValidity() throws {
        let director = Self.signer("labour-director", role: .director, key: .newP256())
        var registry = OfficialRegistry(principals: [director.principal], inForceSince: Self.instant.addingTimeInterval(-3600))
        let stranger = Self.signer("intern-nobody", role: .director, key: .newP256())
        #expect(try Self.check(registry, Self.command(stranger)).failureCode == "unknown-official")
        let unsigned = Array(#"{"at":"2026-12-01T00:00:00Z","dossierId":"d-1","step":0}"#.utf8)
        #expect(Self.check(registry, unsigned).failureCode == "unsigned")
        let signed = try Self.command(director)
        #expect(Self.check(registry, signed, now: Self.instant.addingTimeInterval(2 * 86_400)).failureCode == "key-expired")
        #expect(Self.check(registry, signed, now: Self.instant.addingTimeInterval(-2 * 86_400)).failureCode == "key-not-yet-valid")
        #expect(registry.authenticate(
            command: try Self.command(director, at: Self.instant.addingTimeInterval(3600)), type: Self.type,
            topic: Self.topic, commandAt: Self.instant.addingTimeInterval(3600), at: Self.instant).failureCode == "future-dated")
        registry.revoke("labour-director", at: Self.instant.addingTimeInterval(-1), reason: "key lost")
        #expect(Self.check(registry, signed).failureCode == "key-revoked")
        #expect(!OfficialRegistry().isInForce(at: Self.instant))
        #expect(registry.isInForce(at: Self.instant))
    }

    @Test("a specialist cannot sign a final decision; a deputy only with a work authorisation for the procedure then")
    func authority() throws {
        let director = Self.signer("labour-director", role: .director, key: .newP256())
        let deputy = Self.signer("labour-deputy", role: .deputyDirector, key: .newP256())
        let specialist = Self.signer("labour-specialist", role: .specialist, key: .newP256())
        let portal = Self.signer("portal", role: .service, department: "one-stop", key: .newP256())
        var registry = OfficialRegistry(
            principals: [director.principal, deputy.principal, specialist.principal, portal.principal],
            inForceSince: Self.instant)
        #expect(registry.maySignFinal(director.principal, department: "labour", procedure: "p", at: Self.instant) == nil)
        #expect(registry.maySignFinal(director.principal, department: "culture", procedure: "p", at: Self.instant)?.code == "wrong-department")
        #expect(registry.maySignFinal(specialist.principal, department: "labour", procedure: "p", at: Self.instant)?.code == "role-not-allowed")
        #expect(registry.maySignFinal(deputy.principal, department: "labour", procedure: "p", at: Self.instant)?.code == "not-the-delegate")
        registry.authorise(WorkAuthorisation(
            deputy: "labour-deputy", forOfficial: "labour-director", procedures: ["p"],
            validFrom: Self.instant.addingTimeInterval(-60), validTo: Self.instant.addingTimeInterval(60), instrument: "15/QĐ"))
        #expect(registry.maySignFinal(deputy.principal, department: "labour", procedure: "p", at: Self.instant) == nil)
        #expect(registry.maySignFinal(deputy.principal, department: "labour", procedure: "q", at: Self.instant)?.code == "not-the-delegate")
        #expect(registry.maySignFinal(deputy.principal, department: "labour", procedure: "p", at: Self.instant.addingTimeInterval(120))?.code == "not-the-delegate")
        // Channels carry applicants' commands; officials do not, and channels do not act for a department.
        #expect(registry.mayCarryApplicantCommand(portal.principal) == nil)
        #expect(registry.mayCarryApplicantCommand(director.principal)?.code == "role-not-allowed")
        #expect(registry.mayActForDepartment(portal.principal, department: "labour")?.code == "role-not-allowed")
        #expect(registry.mayActForDepartment(specialist.principal, department: "labour") == nil)
    }

    @Test("the signing input is domain-separated: prefix, type, topic, then the canonical fields without the signature")
    func signingInput() throws {
        let input = try CommandSignature.signingInput(
            type: "t", topic: "dossiers.x", command: Array(#"{"b":2,"signature":{"v":1},"a":1}"#.utf8))
        #expect(input == Array("motcua-command-v1\nt\ndossiers.x\n".utf8) + [0] + Array(#"{"a":1,"b":2}"#.utf8))
    }
}

extension Result where Failure == CommandRefusal {
    var failureCode: String? {
        if case .failure(let refusal) = self { return refusal.code }
        return nil
    }
}

