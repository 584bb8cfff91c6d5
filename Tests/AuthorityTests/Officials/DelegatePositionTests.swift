import Foundation
import Testing

@testable import Authority

/// A delegation names its delegate's position; the registry says who holds it when (issue 18, item 2).
@Suite("The delegate's position: who may sign a final decision under a delegation")
struct DelegatePositionTests {
    typealias Fixture = CommandSignatureTests
    static let instant = CommandSignatureTests.instant

    static func registry() -> (OfficialRegistry, [String: Principal]) {
        let people = [
            Fixture.signer("ld-director", role: .director, key: .newP256()),
            Fixture.signer("ld-deputy", role: .deputyDirector, key: .newP256()),
            Fixture.signer("ld-head", role: .headOfDivision, key: .newP256()),
            Fixture.signer("ld-specialist", role: .specialist, key: .newP256()),
            // A director whose certificate ran out yesterday no longer holds the position.
            Fixture.signer(
                "ld-old-director", role: .director, key: .newP256(), validFrom: instant.addingTimeInterval(-90 * 86_400),
                validTo: instant.addingTimeInterval(-86_400)),
        ].map(\.principal)
        let registry = OfficialRegistry(principals: people, inForceSince: instant.addingTimeInterval(-3600))
        return (registry, Dictionary(uniqueKeysWithValues: people.map { ($0.id, $0) }))
    }

    static func authorisation(for holder: String, procedures: [String] = ["p"]) -> WorkAuthorisation {
        WorkAuthorisation(
            deputy: "ld-deputy", forOfficial: holder, procedures: procedures,
            validFrom: instant.addingTimeInterval(-3600), validTo: instant.addingTimeInterval(3600), instrument: "15/QĐ-SNV")
    }

    func code(
        _ registry: OfficialRegistry, _ principal: Principal?, _ position: Delegation.Position, procedure: String = "p"
    ) -> String {
        registry.maySignFinal(
            principal!, department: "labour", procedure: procedure, position: position, at: Self.instant)?.code ?? "ok"
    }

    @Test("the registry says who holds a position at an instant: role, department, a key valid and not revoked then")
    func holders() {
        var (registry, _) = Self.registry()
        #expect(registry.holders(of: .director, department: "labour", at: Self.instant).map(\.id) == ["ld-director"])
        #expect(registry.holders(of: .headOfDivision, department: "labour", at: Self.instant).map(\.id) == ["ld-head"])
        #expect(registry.holders(of: .director, department: "culture", at: Self.instant).isEmpty)
        // A day ago (the old director's last instant, the new one's first) both held it; after a revocation the
        // revoked one no longer does.
        #expect(registry.holders(of: .director, department: "labour", at: Self.instant.addingTimeInterval(-86_400))
            .map(\.id) == ["ld-director", "ld-old-director"])
        registry.revoke("ld-director", at: Self.instant.addingTimeInterval(-60), reason: "left the post")
        #expect(registry.holders(of: .director, department: "labour", at: Self.instant).isEmpty)
        #expect(registry.holders(of: .director, department: "labour", at: Self.instant.addingTimeInterval(-120))
            .map(\.id) == ["ld-director"])
    }

    @Test("a director's delegation: the director signs; a head of division is not the delegate; a specialist never")
    func directorDelegation() {
        let (registry, people) = Self.registry()
        #expect(code(registry, people["ld-director"], .director) == "ok")
        #expect(code(registry, people["ld-head"], .director) == "not-the-delegate")
        #expect(code(registry, people["ld-deputy"], .director) == "not-the-delegate")
        #expect(code(registry, people["ld-specialist"], .director) == "role-not-allowed")
        // Not the holder any more (certificate expired): not the delegate, even though registered as director.
        #expect(code(registry, people["ld-old-director"], .director) == "not-the-delegate")
    }

    @Test("a deputy signs only with a work authorisation from the position's holder then, for that procedure")
    func deputies() {
        var (registry, people) = Self.registry()
        // Authorised by a director who no longer holds the position: refused.
        registry.authorise(Self.authorisation(for: "ld-old-director"))
        #expect(code(registry, people["ld-deputy"], .director) == "not-the-delegate")
        // Authorised by the head of division, on a director's delegation: refused.
        registry.authorise(Self.authorisation(for: "ld-head"))
        #expect(code(registry, people["ld-deputy"], .director) == "not-the-delegate")
        // By the head of division, on a delegation whose delegate is the head of division: accepted.
        #expect(code(registry, people["ld-deputy"], .headOfDivision) == "ok")
        // By the director, for this procedure: accepted; for another procedure: refused.
        registry.authorise(Self.authorisation(for: "ld-director"))
        #expect(code(registry, people["ld-deputy"], .director) == "ok")
        #expect(code(registry, people["ld-deputy"], .director, procedure: "q") == "not-the-delegate")
        // The director revoked: the authorisation they gave no longer lets the deputy sign.
        registry.revoke("ld-director", at: Self.instant.addingTimeInterval(-1), reason: "left the post")
        #expect(code(registry, people["ld-deputy"], .director) == "not-the-delegate")
    }

    @Test("a head of division's delegation: the head signs, the director is not its delegate, a specialist never")
    func headOfDivisionDelegation() {
        let (registry, people) = Self.registry()
        #expect(code(registry, people["ld-head"], .headOfDivision) == "ok")
        #expect(code(registry, people["ld-director"], .headOfDivision) == "not-the-delegate")
        #expect(code(registry, people["ld-specialist"], .headOfDivision) == "role-not-allowed")
        #expect(code(registry, people["ld-deputy"], .deputyDirector) == "ok")
    }

    @Test("a delegation names its delegate's position; records without one mean the director; an unknown one is an error")
    func parsing() throws {
        let base = #"{"id":"uq-x","instrument":{"number":"1/QĐ","date":"2024-01-01","signer":"Chủ tịch"},"#
            + #""mode":"devolution","delegator":"city","delegatee":"labour","#
            + #""scope":{"procedures":["p"],"territory":["*"]},"validFrom":"2024-01-02""#
        #expect(try Delegation(snapshotJSON: base + "}").delegate == .director)
        #expect(try Delegation(snapshotJSON: base + #","delegate":{"position":"head-of-division"}}"#).delegate == .headOfDivision)
        #expect(throws: ValidationReport.self) {
            try Delegation(snapshotJSON: base + #","delegate":{"position":"specialist"}}"#)
        }
    }
}
