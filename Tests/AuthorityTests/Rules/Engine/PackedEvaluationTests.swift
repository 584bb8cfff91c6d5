import Foundation
import Testing

@testable import Authority

/// The rules stage runs a plan's rules as one program of specialised steps and packs each failure into two words
/// (`CompiledRules.Plan.steps`, `Explanation.PackedFailures`); tables whose failures do not fit use the general
/// leaf loop and a `FailureList`. Both against the reference evaluator, and the specialised steps on the values
/// they do not expect (a number against an integer literal, NaN, a string where a number is compared, NFD and
/// non-ASCII strings in lists).
@Suite("Packed failures and specialised steps")
struct PackedEvaluationTests {
    typealias Reference = EvaluationDifferentialTests

    static let instant = ISO8601Instant.parse("2026-11-27T10:00:00+07:00")!

    /// A registry whose one record covers every generated dossier, so that every evaluation reaches the table.
    static let openRegistry = DelegationRegistry(records: [
        try! Delegation(
            snapshotJSON: """
                {"delegatee": "industry-trade", "delegator": "city", "id": "uq-open",\
                "instrument": {"date": "2024-01-05", "number": "99/QĐ-UBND", "signer": "Chủ tịch"},\
                "mode": "delegation", "scope": {"procedures": ["1.000001", "2.000581", "2.000633"],\
                "territory": ["*"]}, "validFrom": "2024-01-15", "validTo": "2030-12-31"}
                """)
    ])

    static func check(_ ruleSet: RuleSet, _ d: Dossier, _ registry: DelegationRegistry = openRegistry) {
        let e = ruleSet.evaluate(
            d, department: "industry-trade", delegations: registry, catalogue: Reference.catalogue, at: instant)
        let expected = Reference.reference(
            ruleSet, d, department: "industry-trade", registry: registry, catalogue: Reference.catalogue,
            at: instant)
        #expect(Reference.observed(e) == expected, "\(d.facts) \(d.procedure)")
        let again = ruleSet.evaluate(
            d, department: "industry-trade", delegations: registry, catalogue: Reference.catalogue, at: instant)
        #expect(again == e)
        let decoded = try? JSONDecoder().decode(Explanation.self, from: JSONEncoder().encode(e.explanation))
        #expect(decoded == e.explanation)
        #expect(decoded?.ruleChecks == e.explanation.ruleChecks)
    }

    static func table(_ conditions: [String]) -> RuleSet {
        var rules = conditions.enumerated().map { i, c in
            "{\"id\": \"r\(i)\", \"when\": \(c), \"outcome\": \"escalate\", \"review\": \"official\", "
                + "\"legalBasis\": \"NĐ \(i)\", \"reason\": \"rule \(i)\"}"
        }
        rules.append(
            "{\"id\": \"default\", \"when\": {\"always\": true}, \"outcome\": \"approve\", \"review\": \"auto\", "
                + "\"legalBasis\": \"NĐ 0\"}")
        return try! RuleSet(
            yaml: "{\"department\": \"industry-trade\", \"hitPolicy\": \"first\", \"rules\": [\n"
                + rules.joined(separator: ",\n") + "]}")
    }

    static func dossier(_ facts: [String: FactValue], commune: String = "00001") -> Dossier {
        Dossier(
            id: "4b3f2a5e-6c1d-4e8f-9a0b-1c2d3e4f5a6b", procedure: "2.000581",
            submittedAt: Date(timeIntervalSince1970: 1_790_000_000), channel: .online, commune: commune,
            applicant: .init(kind: .enterprise, id: "0101234567", name: "A"),
            documents: ["application-form"], facts: facts)
    }

    @Test func generatedTablesBothPackedAndNot() {
        var packed = 0
        var unpacked = 0
        for seed in 1000..<1200 {
            var g = Reference.Generator(rng: SplitMix64(seed: UInt64(seed)))
            // Up to 150 rules: many plans no longer fit in the packed words.
            guard let ruleSet = Reference.ruleSet(&g, maxRules: 150) else { continue }
            for _ in 0..<25 {
                let d = g.dossier()
                if ruleSet.compiled.plan(for: d.procedure).packs { packed += 1 } else { unpacked += 1 }
                PackedEvaluationTests.check(ruleSet, d)
            }
        }
        #expect(packed > 300 && unpacked > 300, "packed \(packed), unpacked \(unpacked)")
    }

    @Test func aTwentyRuleTablePacks() {
        let conditions = (0..<19).map { i in
            i % 2 == 0
                ? "{\"all\": [{\"field\": \"facts.n\", \"gt\": \(i)}, {\"field\": \"channel\", \"eq\": \"post\"}]}"
                : "{\"any\": [{\"field\": \"facts.x\", \"gte\": \(i).5}, {\"not\": {\"field\": \"facts.b\", \"eq\": true}}]}"
        }
        let ruleSet = PackedEvaluationTests.table(conditions)
        #expect(ruleSet.compiled.defaultPlan.packs)
        for n in [-1, 0, 5, 30] {
            PackedEvaluationTests.check(ruleSet, PackedEvaluationTests.dossier(["n": .integer(Int64(n)), "b": .bool(n > 0)]))
        }
    }

    @Test func specialisedStepsOnUnexpectedValues() {
        let ops = ["eq", "ne", "lt", "lte", "gt", "gte"]
        var conditions: [String] = []
        for op in ops {
            conditions.append("{\"field\": \"facts.v\", \"\(op)\": 2}")
            conditions.append("{\"field\": \"facts.v\", \"\(op)\": 2.5}")
            conditions.append("{\"field\": \"facts.v\", \"\(op)\": -1}")
        }
        conditions.append("{\"field\": \"facts.v\", \"eq\": true}")
        conditions.append("{\"field\": \"facts.v\", \"ne\": false}")
        conditions.append("{\"field\": \"facts.v\", \"in\": [\"caf\\u00e9\", \"ăn\", \"2\"]}")
        conditions.append("{\"field\": \"facts.v\", \"notIn\": [\"a\", \"2\"]}")
        conditions.append("{\"field\": \"commune\", \"in\": [\"00002\", \"0000\\u0661\"]}")
        conditions.append("{\"not\": {\"any\": [{\"field\": \"facts.v\", \"lt\": 0}, {\"field\": \"facts.v\", \"gt\": 100}]}}")
        // One rule per condition, so that every step's answer shows in the explanation.
        let ruleSet = PackedEvaluationTests.table(conditions)
        #expect(ruleSet.compiled.defaultPlan.packs)
        let values: [FactValue?] = [
            nil, .integer(2), .integer(-1), .integer(3), .number(2), .number(2.5), .number(-0.5), .number(.nan),
            .number(.infinity), .bool(true), .bool(false), .string("2"), .string("caf\u{E9}"),
            .string("cafe\u{301}"), .string("ăn"), .string("a"), .null, .array([.integer(2), .string("a")]),
        ]
        for value in values {
            for commune in ["00001", "00002", "0000\u{0661}"] {
                var facts: [String: FactValue] = ["other": .integer(1)]
                if let value { facts["v"] = value }
                PackedEvaluationTests.check(ruleSet, PackedEvaluationTests.dossier(facts, commune: commune))
            }
        }
    }

    @Test func equalExplanationsFromDifferentLeaves() {
        // `not(any[a, b])` fails at the `not` whichever of a and b held: different packed codes, equal explanations.
        let ruleSet = PackedEvaluationTests.table([
            "{\"not\": {\"any\": [{\"field\": \"facts.a\", \"eq\": 1}, {\"field\": \"facts.b\", \"eq\": 1}]}}"
        ])
        func evaluate(_ facts: [String: FactValue]) -> Evaluation {
            ruleSet.evaluate(
                PackedEvaluationTests.dossier(facts), department: "industry-trade",
                delegations: PackedEvaluationTests.openRegistry, catalogue: Reference.catalogue,
                at: PackedEvaluationTests.instant)
        }
        let first = evaluate(["a": .integer(1)])
        let second = evaluate(["a": .integer(0), "b": .integer(1)])
        #expect(first.explanation == second.explanation)
        #expect(first == second)
        #expect(first.explanation.ruleChecks.first?.result == .notMatched)
        #expect(evaluate(["a": .integer(0)]).explanation != first.explanation)
    }
}
