import Foundation
import Testing

@testable import Authority

/// The delegation check reads the rules' loaded facts in place (`ConditionProgram.quickHolds`, `holds`), the
/// registry walks its candidates in place comparing delegatees by bytes first, the catalogue checks the required
/// documents by bytes first, and the fact walk finds names the representation table misses by their bytes. Each
/// against the general path on the values it does not expect: NaN, integer/number mixes, strings, booleans,
/// absent facts, facts not looked up, NFD and non-ASCII spellings, U+212A KELVIN SIGN.
@Suite("Shared facts for the delegation check, byte comparisons")
struct SharedDelegationTests {
    typealias Reference = EvaluationDifferentialTests

    static func dossier(_ facts: [String: FactValue], channel: Dossier.Channel = .online) -> Dossier {
        Dossier(
            id: "4b3f2a5e-6c1d-4e8f-9a0b-1c2d3e4f5a6b", procedure: "2.000581",
            submittedAt: Date(timeIntervalSince1970: 1_790_000_000), channel: channel, commune: "00001",
            applicant: .init(kind: .enterprise, id: "0101234567", name: "A"),
            documents: ["application-form"], facts: facts)
    }

    /// `holds` against the general evaluation of the same root, with the rules' facts loaded by walking the
    /// dossier (every slot) and by looking up only some slots (the others `Loaded.notLookedUp`).
    static func checkHolds(_ delegation: ConditionProgram, rules: ConditionProgram, _ d: Dossier) {
        let expected = delegation.evaluate(root: 0, d).isTrue
        withUnsafePointer(to: d) { p in
            let all = (0..<rules.factNames.count).map(Int32.init)
            for slots in [all, [], Array(all.prefix(1))] {
                rules.withFacts(of: p, slots: slots) { facts in
                    let shared = ConditionProgram.SharedFacts(program: rules, facts: facts)
                    #expect(delegation.holds(p, sharing: shared) == expected, "\(d.facts) slots \(slots)")
                    #expect(delegation.evaluate(root: 0, p, sharing: shared).isTrue == expected)
                }
            }
        }
    }

    @Test func delegationConditionsOnTheRulesFacts() {
        let rules = ConditionProgram(conditions: [
            .compare(.fact("capitalVnd"), .gt, .integer(5)), .compare(.fact("s"), .eq, .string("food")),
            .compare(.fact("b"), .eq, .bool(true)), .compare(.fact("ph\u{1EDF}"), .gte, .number(1.5)),
        ])
        let delegations: [Condition] = [
            .compare(.fact("capitalVnd"), .lte, .integer(500)),
            .compare(.fact("capitalVnd"), .lt, .number(2.5)),
            .compare(.fact("capitalVnd"), .ne, .integer(3)),
            .compare(.fact("b"), .eq, .bool(true)),
            .compare(.fact("b"), .ne, .bool(true)),
            .compare(.fact("s"), .in, .array([.string("mining"), .string("caf\u{E9}")])),
            // The NFD spelling of a rule's fact name is the same fact.
            .compare(.fact("pho\u{31B}\u{309}"), .gt, .integer(1)),
            // Not read by the rules: looked up in the dossier.
            .compare(.fact("x"), .gt, .number(2)),
            .all([.compare(.channel, .eq, .string("post")), .compare(.fact("capitalVnd"), .gte, .integer(0))]),
            .any([.compare(.applicantKind, .eq, .string("citizen")), .not(.compare(.fact("b"), .eq, .bool(false)))]),
            .compare(.fact("capitalVnd"), .exists, .bool(true)),
            .always,
        ]
        let values: [FactValue?] = [
            nil, .integer(3), .integer(600), .integer(-1), .number(2), .number(2.5), .number(.nan), .number(-.infinity),
            .bool(true), .bool(false), .string("3"), .string("caf\u{E9}"), .string("cafe\u{301}"), .null,
            .array([.integer(3)]),
        ]
        for condition in delegations {
            let delegation = ConditionProgram(conditions: [condition])
            for value in values {
                for channel in [Dossier.Channel.online, .post] {
                    var facts: [String: FactValue] = ["other": .integer(1)]
                    for name in ["capitalVnd", "b", "s", "x", "ph\u{1EDF}"] { facts[name] = value }
                    SharedDelegationTests.checkHolds(
                        delegation, rules: rules, SharedDelegationTests.dossier(facts, channel: channel))
                    var one: [String: FactValue] = [:]
                    one["capitalVnd"] = value
                    SharedDelegationTests.checkHolds(
                        delegation, rules: rules, SharedDelegationTests.dossier(one, channel: channel))
                }
            }
        }
    }

    @Test func generatedDelegationConditions() {
        var g = Reference.Generator(rng: SplitMix64(seed: 77))
        for _ in 0..<300 {
            let rules = ConditionProgram(conditions: (0..<(1 + g.int(4))).map { _ in g.condition() })
            let delegation = ConditionProgram(conditions: [g.condition()])
            for _ in 0..<10 { SharedDelegationTests.checkHolds(delegation, rules: rules, g.dossier()) }
        }
    }

    @Test func delegateesAndDocumentsComparedAsStrings() {
        let strings = [
            "", "a", "industry-trade", "industrial-zones", "application-form", "application-forn", "passport",
            "caf\u{E9}", "cafe\u{301}", "K", "\u{212A}", "a-document-id-beyond-fifteen", "a-document-id-beyond-fifteeN",
        ]
        // Heap forms of the same texts (another representation, the same bytes).
        let heap = strings.map { s -> String in
            var copy = String(decoding: Array(s.utf8), as: UTF8.self)
            copy.reserveCapacity(64)
            return copy
        }
        for a in strings + heap {
            for b in strings + heap {
                #expect(DelegationRegistry.same(a, b) == (a == b), "\(a) \(b)")
                if RawStringTable.sameBytes(a, b) { #expect(a == b, "\(a) \(b)") }
                #expect(RawStringTable.sameBytes(a, b) == (Array(a.utf8) == Array(b.utf8)), "\(a) \(b)")
            }
        }
        let required = ["application-form", "caf\u{E9}", "K", "a-document-id-beyond-fifteen"]
        let catalogue = Catalogue(
            departments: [], documentTypes: [],
            procedures: [
                Procedure(
                    code: "2.000581", name: "P", gloss: "P", department: "industry-trade",
                    timeLimit: TimeLimit(value: 10, unit: .workingDays), onlineLevel: .full, legalBasis: ["NĐ 1"],
                    documents: required),
                Procedure(
                    code: "2.000633", name: "Q", gloss: "Q", department: "industry-trade",
                    timeLimit: TimeLimit(value: 10, unit: .workingDays), onlineLevel: .full, legalBasis: ["NĐ 2"],
                    documents: []),
            ])
        var g = Reference.Generator(rng: SplitMix64(seed: 5))
        for _ in 0..<400 {
            let documents = (0..<g.int(6)).map { _ in g.pick(strings + heap) }
            for (i, procedure) in catalogue.procedures.enumerated() {
                var d = SharedDelegationTests.dossier([:])
                d.documents = documents
                let lacks = withUnsafePointer(to: d) { catalogue.core.lacksDocument($0, procedure: i) }
                #expect(lacks == !procedure.documents.allSatisfy(documents.contains), "\(documents)")
            }
        }
    }

    @Test func factNamesMissedByTheRepresentationTable() {
        let names = [
            "foreignOwnershipPct", "ab", "capitalVndAdjustedForInflation", "ph\u{1EDF}", "exactly-fifteen", "K",
        ]
        let rules = ConditionProgram(conditions: names.map { .compare(.fact($0), .gt, .integer(0)) })
        let keys =
            names + [
                "pho\u{31B}\u{309}", "\u{212A}", "foreignOwnershipPcT", "foreignOwnershipPc",
                "capitalVndAdjustedForInflatioN",
                "exactly-fifteeN", "zz",
            ]
        var g = Reference.Generator(rng: SplitMix64(seed: 9))
        for _ in 0..<300 {
            var facts: [String: FactValue] = [:]
            for key in keys where g.chance(50) {
                // Heap keys, as a decoder makes them, and literals.
                var heapKey = String(decoding: Array(key.utf8), as: UTF8.self)
                if g.chance(50) { heapKey.reserveCapacity(64) }
                facts[g.chance(50) ? heapKey : key] = g.scalar()
            }
            let d = SharedDelegationTests.dossier(facts)
            withUnsafePointer(to: d) { p in
                let all = (0..<rules.factNames.count).map(Int32.init)
                rules.withFacts(of: p, slots: all) { loaded in
                    for (slot, name) in rules.factNames.enumerated() {
                        #expect(loaded.value(slot) == d.facts[name], "\(name) in \(d.facts)")
                    }
                }
            }
        }
    }
}
