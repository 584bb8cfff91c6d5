import Authority
import Foundation
import Messages
import Postgres
import Services
import Store
import TestSupport
import Testing

/// `motcua apology` as a signed command (issue 18): the apology desk checks the slip's signature and the signer's role
/// against the registry of officials; forged, unsigned and unauthorised slips are refused with a `command-rejected`
/// event and change nothing.
@Suite("Apology slips are signed commands")
struct SignedApologyTests {
    static let now = CoordinatorFixture.instant("2026-03-05T10:00:00+07:00")

    struct Signer {
        var principal: Principal
        var key: CommandSigningKey
    }

    static func signer(_ id: String, role: PrincipalRole, department: String = "industry-trade") -> Signer {
        let key = CommandSigningKey.newP256()
        return Signer(
            principal: Principal(
                id: id, displayName: id, department: department, division: nil, role: role, key: key.publicKey,
                certificateSHA256: String(repeating: "b", count: 64), validFrom: now.addingTimeInterval(-86_400),
                validTo: now.addingTimeInterval(86_400), registeredAt: now.addingTimeInterval(-3600)),
            key: key)
    }

    /// The slip's JSON as kcat would carry it (unsigned), for `official`.
    static func slip(_ dossier: String, official: String, newDate: String = "2026-03-13") throws -> [UInt8] {
        let request = ApologyRequest(
            commandId: UUID(), dossierId: dossier, step: 0,
            official: Official(id: official, department: "industry-trade"), reason: "a second site visit",
            newDate: newDate, at: now)
        return Array(try MessageCoding.encoder().encode(request))
    }

    static func signed(_ bytes: [UInt8], by signer: Signer, department: DepartmentID = "industry-trade") throws -> [UInt8] {
        try CommandSignature.sign(
            bytes, type: MessageType.apology, topic: SignedCommands.topic(department: department),
            principal: signer.principal.id, certificate: signer.principal.certificateSHA256, key: signer.key)
    }

    /// The reasons of the `command-rejected` events of a dossier in the outbox.
    static func rejections(_ dossier: String, in fixture: CoordinatorFixture) throws -> [String] {
        try fixture.database.query(
            """
            SELECT convert_from(payload, 'UTF8')::jsonb->'data'->>'reason' AS reason FROM outbox
            WHERE key = $1 AND topic = 'dossier.events' AND convert_from(payload, 'UTF8')::jsonb->>'type' = 'command-rejected'
            """, [dossier]
        ).map { try $0.decodeIfPresent(String.self, "reason") ?? "" }
    }

    @Test("unsigned, forged, a specialist's, another department's, one naming someone else: refused with their reason, nothing moves; a head of division's is recorded")
    func signedSlips() throws {
        let fixture = try CoordinatorFixture()
        defer { fixture.drop() }
        let head = Self.signer("it-head", role: .headOfDivision)
        let specialist = Self.signer("it-specialist", role: .specialist)
        let otherHead = Self.signer("ld-head", role: .headOfDivision, department: "labour")
        let impostor = Self.signer("it-head", role: .headOfDivision)  // another key under the head's name
        let registry = OfficialRegistry(
            principals: [head.principal, specialist.principal, otherHead.principal],
            inForceSince: Self.now.addingTimeInterval(-3600))
        let desk = fixture.desk
        var ids: [String] = []
        for _ in 0..<7 {
            let id = CoordinatorFixture.dossierId()
            try fixture.receive(id, at: "2026-03-02T09:00:00+07:00", due: "2026-03-09")
            ids.append(id)
        }
        let attacks: [(dossier: String, command: [UInt8], code: String)] = [
            (ids[0], try Self.slip(ids[0], official: "it-head"), "unsigned"),
            (ids[1], try Self.signed(Self.slip(ids[1], official: "it-head"), by: impostor), "bad-signature"),
            (ids[2], try Self.signed(Self.slip(ids[2], official: "it-specialist"), by: specialist), "role-not-allowed"),
            (ids[3], try Self.signed(Self.slip(ids[3], official: "ld-head"), by: otherHead, department: "labour"), "bad-signature"),
            (ids[4], try Self.signed(Self.slip(ids[4], official: "ld-head"), by: otherHead), "wrong-department"),
            (ids[5], try Self.signed(Self.slip(ids[5], official: "someone-else"), by: head), "not-the-delegate"),
        ]
        for attack in attacks {
            do {
                try desk.issue(signed: attack.command, registry: registry, at: Self.now, on: fixture.database)
                Issue.record("\(attack.code): the slip was recorded")
            } catch let refused as ApologyRefused {
                #expect(refused.refusal.code == attack.code, "\(refused)")
            }
            let reasons = try Self.rejections(attack.dossier, in: fixture)
            #expect(reasons.count == 1 && reasons[0].hasPrefix(attack.code + ":"), "\(attack.code): \(reasons)")
            // Nothing moved.
            #expect(try fixture.deadline(attack.dossier, step: 0).due == "2026-03-09")
        }
        #expect(try fixture.count("SELECT count(*) FROM apologies") == 0)
        #expect(try fixture.count("SELECT count(*) FROM outbox WHERE ce_type = $1", [CoordinatorEvent.messageType(.apologyIssued)]) == 0)

        // The head of division of the deadline's department signs: recorded under their id.
        try desk.issue(
            signed: try Self.signed(Self.slip(ids[6], official: "it-head"), by: head), registry: registry, at: Self.now,
            on: fixture.database)
        #expect(try fixture.deadline(ids[6], step: 0).due == "2026-03-13")
        #expect(try fixture.count("SELECT count(*) FROM apologies WHERE dossier_id = $1 AND issued_by = 'it-head'", [ids[6]]) == 1)
        #expect(try fixture.published(.apologyIssued, ids[6]) == 1)
        #expect(try Self.rejections(ids[6], in: fixture).isEmpty)
    }

    @Test("before the registry's first record a slip is accepted unsigned, as before")
    func beforeTheRegistry() throws {
        let fixture = try CoordinatorFixture()
        defer { fixture.drop() }
        let id = CoordinatorFixture.dossierId()
        try fixture.receive(id, at: "2026-03-02T09:00:00+07:00", due: "2026-03-09")
        try fixture.desk.issue(
            signed: try Self.slip(id, official: "official-1"), registry: .empty, at: Self.now, on: fixture.database)
        #expect(try fixture.count("SELECT count(*) FROM apologies WHERE dossier_id = $1 AND issued_by = 'official-1'", [id]) == 1)
    }
}
