import Audit
import Authority
@testable import EffectivelyOnce
import Foundation
import Messages
import Pages
import ServiceCommands
@testable import Services
import Simulation
import Store
import TestSupport
import Testing

@Suite("Decider and department checks on the real deploy/ data")
struct DeciderTests {
    let bundle: AuthorityBundle
    init() throws {
        bundle = try AuthorityBundle.load(from: TestEnvironment.root.appendingPathComponent("deploy"))
    }

    let instant = Date(timeIntervalSince1970: 1_795_746_600)  // 2026-11-27 09:30 +07

    func decide(_ dossier: Dossier, _ department: DepartmentID) throws -> StepDecision {
        let ruleSet = try #require(bundle.ruleSets[department])
        return Decider.decide(
            dossier, department: department, bundle: bundle, ruleSet: ruleSet, checks: .builtIn(for: department),
            at: instant)
    }

    @Test("a malformed enterprise code turns an approval into a supplement request, citing the check")
    func enterpriseCode() throws {
        var generator = DossierGenerator(bundle: bundle, seed: 3)
        var dossier = generator.next(procedure: "2.000633", submittedAt: instant, outsideShare: 0)
        dossier.facts["priorViolations"] = .integer(0)
        // The check applies to enterprises (the generator draws organisations too for this procedure).
        dossier.applicant.kind = .enterprise
        dossier.applicant.id = "0101234567"
        let approved = try decide(dossier, "industry-trade")
        #expect(approved.outcome == .approve)
        #expect(approved.finding == nil)
        dossier.applicant.id = "12AB"
        let supplement = try decide(dossier, "industry-trade")
        #expect(supplement.outcome == .supplement)
        #expect(supplement.finding?.check == "enterprise-code-format")
        #expect(Decider.explanation(of: supplement).departmentCheck?.legalBasis.contains("01/2021") == true)
        dossier.applicant.id = "0101234567-001"
        #expect(try decide(dossier, "industry-trade").finding == nil)
    }

    @Test("explanations are encoded once for all batches, listed once per batch; a full cache starts over")
    func explanationTexts() throws {
        var generator = DossierGenerator(bundle: bundle, seed: 5)
        let decisions = try (0..<300).map { _ in
            try decide(generator.next(department: "industrial-zones", submittedAt: instant), "industrial-zones")
        }
        let encoder = MessageCoding.encoder()
        func encoded(_ decision: StepDecision) throws -> String {
            String(decoding: try encoder.encode(Decider.explanation(of: decision)), as: UTF8.self)
        }
        let texts = ExplanationTexts()
        var first = ExplanationMemo(encoded: texts)
        let indices = try decisions.map { try first.index(of: $0, encoder: encoder) }
        for (decision, index) in zip(decisions, indices) { #expect(first.texts[index] == (try encoded(decision))) }
        #expect(Set(first.texts).count == first.texts.count)
        #expect(first.texts.count > 1 && first.texts.count < decisions.count / 4, "\(first.texts.count) kinds")
        #expect(texts.count == first.texts.count)
        // The next batch finds every text encoded already.
        var second = ExplanationMemo(encoded: texts)
        for decision in decisions { _ = try second.index(of: decision, encoder: encoder) }
        #expect(second.texts == first.texts)
        #expect(texts.count == first.texts.count)
        // A cache of two starts over when full, and still gives every decision its own text.
        let small = ExplanationTexts(capacity: 2)
        var third = ExplanationMemo(encoded: small)
        let thirdIndices = try decisions.map { try third.index(of: $0, encoder: encoder) }
        for (decision, index) in zip(decisions, thirdIndices) { #expect(third.texts[index] == (try encoded(decision))) }
        #expect(small.count <= 2)
    }

    @Test("a work permit over 24 months is refused by the industrial-zones check when the table would approve")
    func permitDuration() throws {
        let check = DepartmentChecks.industrialZones
        var generator = DossierGenerator(bundle: bundle, seed: 4)
        var dossier = generator.next(department: "industrial-zones", submittedAt: instant, outsideShare: 0)
        dossier.facts["permitMonths"] = .integer(30)
        #expect(check.run(dossier)?.outcome == .refuse)
        dossier.facts["permitMonths"] = .integer(24)
        #expect(check.run(dossier) == nil)
    }

    @Test("the generator is reproducible and covers every outcome across departments")
    func generatorCoversOutcomes() throws {
        var a = DossierGenerator(bundle: bundle, seed: 9)
        var b = DossierGenerator(bundle: bundle, seed: 9)
        var outcomes = Set<Outcome>()
        for _ in 0..<600 {
            let dossier = a.next(submittedAt: instant, outsideShare: 0.3)
            #expect(dossier == b.next(submittedAt: instant, outsideShare: 0.3))
            let procedure = try #require(bundle.catalogue.procedure(dossier.procedure))
            outcomes.insert(try decide(dossier, procedure.steps[0].department).outcome)
        }
        #expect(outcomes == Set(Outcome.allCases))
    }
}
