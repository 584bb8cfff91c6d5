import Foundation
import Testing

@testable import Authority

@Suite("Rule evaluation")
struct RuleSetTests {
    let bundle: AuthorityBundle
    let now = Fixture.instant("2026-11-27T10:00:00+07:00")

    init() throws {
        bundle = try Fixture.bundle()
    }

    private func evaluate(_ dossier: Dossier, department: DepartmentID = "industry-trade", at instant: Date? = nil)
        -> Evaluation
    {
        bundle.ruleSets[department]!.evaluate(
            dossier, department: department, delegations: bundle.delegations, catalogue: bundle.catalogue,
            at: instant ?? now)
    }

    @Test func approveAutomatically() {
        let e = evaluate(Fixture.dossier())
        #expect(e.outcome == .approve)
        #expect(e.review == .auto)
        #expect(e.ruleId == "it-auto-online-enterprise")
        #expect(e.delegationId == "uq-ct-2024-01")
        #expect(e.delegationInstrument == "15/QĐ-UBND")
        #expect(e.escalationReason == nil)
        #expect(e.legalBasis == "Nghị định 67/2013/NĐ-CP, Điều 27")
        #expect(e.ruleSetVersion == bundle.ruleSets["industry-trade"]!.version)
    }

    @Test func approveForAnOfficialToSign() {
        let e = evaluate(Fixture.dossier(channel: .counter))
        #expect(e.outcome == .approve)
        #expect(e.review == .official)
        #expect(e.ruleId == "it-default")
    }

    @Test func refuseWithTheLegalReason() {
        let e = evaluate(
            Fixture.dossier(facts: ["capitalVnd": .integer(1_000_000_000), "distanceToSchoolM": .number(80.5)]))
        #expect(e.outcome == .refuse)
        #expect(e.review == .official)
        #expect(e.ruleId == "it-tobacco-near-school")
        #expect(e.reason == "Điểm bán cách trường học dưới 100 m")
        #expect(e.legalBasis == "Nghị định 67/2013/NĐ-CP, Điều 26 khoản 2")
    }

    @Test func supplementWhenRequiredDocumentsAreMissing() {
        let e = evaluate(Fixture.dossier(documents: ["application-form"]))
        #expect(e.outcome == .supplement)
        #expect(e.missingDocuments == ["business-registration"])
        #expect(e.ruleId == nil)
        #expect(e.delegationId == "uq-ct-2024-01")
        #expect(e.explanation.stage == .documents)
        let none = evaluate(Fixture.dossier(documents: []))
        #expect(none.missingDocuments == ["application-form", "business-registration"])
    }

    @Test func supplementByRule() {
        var dossier = Fixture.dossier()
        dossier.facts["fireSafetyValid"] = .bool(false)
        let e = evaluate(dossier)
        #expect(e.outcome == .supplement)
        #expect(e.ruleId == "it-fire-safety-invalid")
        #expect(e.missingDocuments.isEmpty)
    }

    @Test func escalateByRule() {
        let e = evaluate(
            Fixture.dossier(facts: ["capitalVnd": .integer(30_000_000_000), "distanceToSchoolM": .integer(500)]))
        #expect(e.outcome == .escalate)
        #expect(e.ruleId == "it-large-capital")
        #expect(e.escalationReason == nil)
        #expect(e.delegationId == "uq-ct-2024-01")
    }

    @Test func forwardToTheNextDepartment() {
        let dossier = Fixture.dossier(
            procedure: "2.000581", documents: ["application-form"],
            facts: ["capitalVnd": .integer(1_000_000_000), "needsEnvironmentalPermit": .bool(true)])
        let e = evaluate(dossier)
        #expect(e.outcome == .forward)
        #expect(e.forwardTo == "environment")
        #expect(e.review == .auto)
        let byPost = evaluate(
            Fixture.dossier(
                procedure: "2.000581", channel: .post, documents: ["application-form"],
                facts: ["capitalVnd": .integer(1_000_000_000), "needsEnvironmentalPermit": .bool(true)]))
        #expect(byPost.outcome == .approve)
        #expect(byPost.ruleId == "it-default")
    }

    @Test func escalateWithoutDelegation() {
        // Environment has no delegation for the tobacco procedure at all.
        let other = evaluate(Fixture.dossier(), department: "environment")
        #expect(other.outcome == .escalate)
        #expect(other.escalationReason == .noDelegation)
        #expect(other.delegationId == nil)
        #expect(other.explanation.delegationCandidates.isEmpty)
        #expect(other.explanation.stage == .delegation)
    }

    @Test func escalateOutsideTheScope() {
        // A record in force whose subjects exclude the applicant: outside conditions (deploy/FORMATS.md).
        let citizen = evaluate(Fixture.dossier(kind: .citizen))
        #expect(citizen.outcome == .escalate)
        #expect(citizen.escalationReason == .outsideConditions)
        #expect(citizen.explanation.delegationCandidates.first?.detail?.contains("applicant kind citizen") == true)
    }

    @Test func escalateOutsideTheConditions() {
        let e = evaluate(
            Fixture.dossier(facts: ["capitalVnd": .integer(60_000_000_000), "distanceToSchoolM": .integer(500)]))
        #expect(e.outcome == .escalate)
        #expect(e.escalationReason == .outsideConditions)
        #expect(e.explanation.stage == .delegation)
        let check = e.explanation.delegationCandidates.first
        #expect(check?.id == "uq-ct-2024-01")
        #expect(check?.detail == "facts.capitalVnd lte 50000000000: false")
        // A missing fact is outside the conditions too.
        let missing = evaluate(Fixture.dossier(facts: [:]))
        #expect(missing.escalationReason == .outsideConditions)
        #expect(missing.explanation.delegationCandidates.first?.detail?.hasSuffix("field missing") == true)
    }

    @Test func escalateWhenExpiredOrNotYetValid() {
        let expired = evaluate(Fixture.dossier(), at: Fixture.instant("2028-01-01T08:00:00+07:00"))
        #expect(expired.escalationReason == .expired)
        // 31/12/2027 is still valid in Hanoi even when the instant is written in UTC on 31/12.
        let lastDay = evaluate(Fixture.dossier(), at: Fixture.instant("2027-12-31T16:59:59Z"))
        #expect(lastDay.outcome == .approve)
        let early = evaluate(Fixture.dossier(), at: Fixture.instant("2024-01-14T23:00:00+07:00"))
        #expect(early.escalationReason == .notYetValid)
    }

    @Test func escalateWhenRevoked() {
        let dossier = Fixture.dossier(
            procedure: "1.010727", documents: ["application-form", "eia-report"], facts: [:])
        let before = evaluate(dossier, department: "environment", at: Fixture.instant("2026-06-30T16:59:59+07:00"))
        #expect(before.outcome == .approve)
        #expect(before.delegationId == "uq-tnmt-2023-02")
        let after = evaluate(dossier, department: "environment", at: Fixture.instant("2026-06-30T17:00:00+07:00"))
        #expect(after.outcome == .escalate)
        #expect(after.escalationReason == .revoked)
        #expect(after.explanation.delegationCandidates.first?.detail?.contains("2890/QĐ-UBND") == true)
    }

    @Test func escalationReasonsHaveKebabCaseRawValues() {
        #expect(
            EscalationReason.allCases.map(\.rawValue) == [
                "no-delegation", "outside-conditions", "expired", "not-yet-valid", "revoked",
            ])
    }

    @Test func explanationListsWhyEarlierRulesDidNotFire() throws {
        let e = evaluate(Fixture.dossier())
        let checks = e.explanation.ruleChecks
        #expect(
            checks.map(\.rule) == [
                "it-tobacco-near-school", "it-fire-safety-invalid", "it-large-capital", "it-forward-env",
                "it-auto-online-enterprise",
            ])
        #expect(
            checks[0]
                == .init(
                    rule: "it-tobacco-near-school", result: .notMatched,
                    failedCondition: "facts.distanceToSchoolM lt 100", because: "false"))
        #expect(
            checks[1]
                == .init(
                    rule: "it-fire-safety-invalid", result: .notMatched,
                    failedCondition: "facts.fireSafetyValid eq false", because: "field missing"))
        #expect(checks[2].failedCondition == "facts.capitalVnd gt 20000000000")
        #expect(checks[3].result == .notApplicable)
        #expect(checks[4].result == .fired)
        #expect(e.explanation.firedRule == "it-auto-online-enterprise")
        #expect(e.explanation.delegation?.id == "uq-ct-2024-01")

        // The failing part of an `all` is named, not the whole condition.
        let counter = evaluate(Fixture.dossier(channel: .counter))
        #expect(counter.explanation.ruleChecks[4].failedCondition == "channel eq online")

        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try encoder.encode(e.explanation), as: UTF8.self)
        #expect(json.contains("\"stage\":\"rules\""))
        #expect(json.contains("\"rule\":\"it-auto-online-enterprise\""))
        #expect(json.contains("\"failedCondition\":\"facts.distanceToSchoolM lt 100\""))
        let decoded = try JSONDecoder().decode(Explanation.self, from: Data(json.utf8))
        #expect(decoded == e.explanation)
        #expect(decoded.ruleChecks == checks)
    }

    @Test func versionIsStableUnderReformattingAndChangesWithAThreshold() throws {
        let original = try RuleSet(yaml: Fixture.environmentRules)
        let reformatted = try RuleSet(
            yaml: """
                # comments do not matter
                rules: [ { legalBasis: 'Luật Bảo vệ môi trường 2020, Điều 43', review: official,
                           outcome: approve, when: {always: true}, id: env-default } ]
                hitPolicy: "first"
                department:    environment
                """)
        #expect(reformatted.version == original.version)
        #expect(original.version.count == 64)
        #expect(original.version.allSatisfy { "0123456789abcdef".contains($0) })

        let table = Fixture.industryTradeRules
        let base = try RuleSet(yaml: table)
        let reordered = try RuleSet(
            yaml: table.replacingOccurrences(
                of: "{ field: facts.distanceToSchoolM, lt: 100 }",
                with: "{lt: 100,   field: \"facts.distanceToSchoolM\"}"))
        #expect(reordered.version == base.version)
        let changed = try RuleSet(yaml: table.replacingOccurrences(of: "lt: 100 }", with: "lt: 150 }"))
        #expect(changed.version != base.version)
        let float = try RuleSet(yaml: table.replacingOccurrences(of: "lt: 100 }", with: "lt: 100.0 }"))
        #expect(float.version == base.version)
    }

    @Test func canonicalTextRebuildsTheSameRuleSet() throws {
        let ruleSet = bundle.ruleSets["industry-trade"]!
        let rebuilt = try RuleSet(canonicalText: ruleSet.canonicalText)
        #expect(rebuilt.version == ruleSet.version)
        #expect(rebuilt.canonicalText == ruleSet.canonicalText)
        #expect(rebuilt.rules.map(\.id) == ruleSet.rules.map(\.id))
        #expect(rebuilt.rules.map(\.condition) == ruleSet.rules.map(\.condition))
        for dossier in [Fixture.dossier(), Fixture.dossier(channel: .counter), Fixture.dossier(kind: .citizen)] {
            let a = ruleSet.evaluate(
                dossier, department: "industry-trade", delegations: bundle.delegations, catalogue: bundle.catalogue,
                at: now)
            let b = rebuilt.evaluate(
                dossier, department: "industry-trade", delegations: bundle.delegations, catalogue: bundle.catalogue,
                at: now)
            #expect(a.outcome == b.outcome && a.ruleId == b.ruleId && a.explanation == b.explanation)
        }
    }

    @Test func delegationSnapshotsRebuildTheRecord() throws {
        let snapshot = try #require(bundle.delegations.snapshot(id: "uq-ct-2024-01"))
        #expect(snapshot.version.count == 64)
        #expect(!snapshot.canonicalJSON.contains("\n"))
        let record = try Delegation(snapshotJSON: snapshot.canonicalJSON)
        #expect(record.version == snapshot.version)
        #expect(record.validTo == Fixture.date("2027-12-31"))
        let registry = DelegationRegistry(records: [record])
        let a = evaluate(Fixture.dossier())
        let b = bundle.ruleSets["industry-trade"]!.evaluate(
            Fixture.dossier(), department: "industry-trade", delegations: registry, catalogue: bundle.catalogue, at: now
        )
        #expect(a == b)
    }

    @Test func unreachableRulesAreRejected() throws {
        let shadowed = Fixture.industryTradeRules.replacingOccurrences(
            of: "  - id: it-default",
            with: """
                  - id: it-default-early
                    when: { always: true }
                    outcome: approve
                    review: official
                    legalBasis: "x"
                  - id: it-default
                """)
        let line =
            shadowed.split(separator: "\n", omittingEmptySubsequences: false)
            .firstIndex { $0 == "  - id: it-default" }! + 1
        #expect {
            _ = try RuleSet(yaml: shadowed, file: "rules/industry-trade.yaml")
        } throws: { error in
            (error as! ValidationReport).errors.contains {
                $0.description.hasPrefix("rules/industry-trade.yaml:\(line): ")
                    && $0.message.contains("\"it-default\" can never fire")
            }
        }
        let duplicateCondition = Fixture.industryTradeRules.replacingOccurrences(
            of: "  - id: it-default",
            with: """
                  - id: it-tobacco-again
                    procedures: ["2.000633"]
                    when: { field: facts.distanceToSchoolM, lt: 100 }
                    outcome: approve
                    review: official
                    legalBasis: "x"
                  - id: it-default
                """)
        #expect {
            _ = try RuleSet(yaml: duplicateCondition)
        } throws: { error in
            (error as! ValidationReport).errors.contains { $0.message.contains("\"it-tobacco-again\" can never fire") }
        }
        let noCatchAll = Fixture.environmentRules.replacingOccurrences(
            of: "when: { always: true }", with: "when: { field: channel, eq: online }")
        #expect {
            _ = try RuleSet(yaml: noCatchAll)
        } throws: { error in
            (error as! ValidationReport).errors.contains { $0.message.contains("must end with a catch-all") }
        }
    }

    @Test func conditionOperators() throws {
        let table = """
            department: industry-trade
            hitPolicy: first
            rules:
              - { id: r-ne, when: { field: facts.s, ne: "x" }, outcome: approve, review: auto, legalBasis: "b" }
              - { id: r-in, when: { field: facts.n, in: [1, 2.5, 3] }, outcome: approve, review: auto, legalBasis: "b" }
              - { id: r-notin, when: { field: commune, notIn: ["00004"] }, outcome: approve, review: auto, legalBasis: "b" }
              - { id: r-gte, when: { field: facts.n, gte: 10 }, outcome: approve, review: auto, legalBasis: "b" }
              - { id: r-exists, when: { field: facts.flag, exists: true }, outcome: approve, review: auto, legalBasis: "b" }
              - { id: r-docs, when: { field: documents, in: [eia-report] }, outcome: approve, review: auto, legalBasis: "b" }
              - { id: r-not, when: { not: { field: applicant.kind, in: [enterprise, household] } }, outcome: approve, review: auto, legalBasis: "b" }
              - { id: r-any, when: { any: [ { field: facts.s, eq: "y" }, { field: facts.n, lt: -1 } ] }, outcome: approve, review: auto, legalBasis: "b" }
              - { id: r-default, when: { always: true }, outcome: refuse, review: official, legalBasis: "b" }
            """
        let ruleSet = try RuleSet(yaml: table)
        func fired(
            _ facts: [String: FactValue], commune: String = "00004", kind: Dossier.Applicant.Kind = .enterprise,
            documents: [String] = ["application-form", "business-registration"]
        ) -> String? {
            var all = facts
            all["capitalVnd"] = .integer(1)
            let dossier = Fixture.dossier(commune: commune, kind: kind, documents: documents, facts: all)
            return ruleSet.evaluate(
                dossier, department: "industry-trade", delegations: bundle.delegations, catalogue: bundle.catalogue,
                at: now
            ).ruleId
        }
        #expect(fired(["s": .string("z")]) == "r-ne")
        #expect(fired(["s": .string("x")]) == "r-default")
        #expect(fired(["s": .integer(1), "n": .integer(1)]) == "r-in")  // ne across types is false; 1 in [1, 2.5, 3]
        #expect(fired(["n": .number(2.5)]) == "r-in")
        #expect(fired([:], commune: "00007") == "r-notin")
        #expect(fired(["n": .integer(10)]) == "r-gte")
        #expect(fired(["n": .string("10")]) == "r-default")  // a string never compares with a number
        #expect(fired(["flag": .bool(false)]) == "r-exists")
        #expect(fired([:], documents: ["application-form", "business-registration", "eia-report"]) == "r-docs")
        #expect(fired(["n": .integer(-5)]) == "r-any")
    }
}
