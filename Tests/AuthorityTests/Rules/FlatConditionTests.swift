import Foundation
import Testing

@testable import Authority

/// The flat encoding (leaves with jump targets, run by one loop) must give exactly the verdicts of a recursive
/// evaluation: the same node and reason, with `all` / `any` short-circuiting.
@Suite("Flat condition code")
struct FlatConditionTests {
    private let dossier = Fixture.dossier(
        channel: .post, commune: "00004",
        facts: [
            "n": .integer(3), "x": .number(2.5), "s": .string("mining"), "b": .bool(true), "none": .null,
            "list": .array([.string("a"), .string("b")]),
        ])

    /// Recursive reference with nodes numbered in pre-order (every child numbered, even after a short-circuit).
    private func reference(_ c: Condition, _ next: inout Int32) -> ConditionProgram.Verdict {
        let index = next
        next += 1
        switch c {
        case .always:
            return .holds
        case .all(let cs):
            var result = ConditionProgram.Verdict.holds
            for child in cs {
                let v = reference(child, &next)
                if result.isTrue && !v.isTrue { result = v }
            }
            return result
        case .any(let cs):
            var holds = false
            for child in cs where reference(child, &next).isTrue { holds = true }
            return holds ? .holds : .init(node: index, why: .isFalse)
        case .not(let child):
            return reference(child, &next).isTrue ? .init(node: index, why: .isFalse) : .holds
        case .compare:
            let v = ConditionProgram(conditions: [c]).evaluate(root: 0, dossier)
            return v.isTrue ? .holds : .init(node: index, why: v.why)
        }
    }

    private let t = Condition.compare(.fact("n"), .eq, .integer(3))
    private let f = Condition.compare(.fact("n"), .gt, .integer(3))
    private let missing = Condition.compare(.fact("absent"), .eq, .integer(1))
    private let mismatch = Condition.compare(.channel, .eq, .integer(1))

    private func check(_ conditions: [Condition]) {
        let program = ConditionProgram(conditions: conditions)
        var next: Int32 = 0
        for (i, c) in conditions.enumerated() {
            let expected = reference(c, &next)
            #expect(program.evaluate(root: i, dossier) == expected, "\(c)")
        }
        // Every jump goes forward or ends the run.
        for (p, leaf) in program.code.enumerated() {
            #expect(leaf.onTrue < 0 || Int(leaf.onTrue) > p)
            #expect(leaf.onFalse < 0 || Int(leaf.onFalse) > p)
        }
    }

    @Test func nestingAgreesWithRecursiveEvaluation() {
        let leaves = [t, f, missing, mismatch, .always]
        var shapes: [Condition] = []
        for a in leaves {
            for b in leaves {
                shapes += [
                    .all([a, b]), .any([a, b]), .not(a), .all([.not(a), .any([b, a])]), .any([.all([a, b]), .not(b)]),
                    .not(.all([a, .any([b])])), .not(.any([a, .not(b)])), .all([.any([a, .all([b, .not(a)])]), b]),
                    .any([.not(.not(a)), .all([]), b]), .all([.any([]), a]), .any([.any([a]), .any([b])]),
                ]
            }
        }
        shapes += [.all([]), .any([]), .not(.all([])), .not(.any([])), t, f, missing]
        check(shapes)  // one program, many roots
        for shape in shapes { check([shape]) }
    }

    @Test func shortCircuitVerdicts() {
        let second = Condition.compare(.fact("x"), .lt, .number(1))
        // all: the first failing child decides, later ones are not run.
        #expect(ConditionProgram(conditions: [.all([t, missing, f])]).evaluate(root: 0, dossier) == .init(node: 2, why: .missing))
        #expect(ConditionProgram(conditions: [.all([f, second])]).evaluate(root: 0, dossier) == .init(node: 1, why: .isFalse))
        // any: the first holding child decides; when none holds, the any node is the reason.
        #expect(ConditionProgram(conditions: [.any([missing, t, mismatch])]).evaluate(root: 0, dossier).isTrue)
        #expect(ConditionProgram(conditions: [.any([missing, f])]).evaluate(root: 0, dossier) == .init(node: 0, why: .isFalse))
        // not of a failing all holds; not of a holding any fails with the not node.
        #expect(ConditionProgram(conditions: [.not(.all([t, f]))]).evaluate(root: 0, dossier).isTrue)
        #expect(ConditionProgram(conditions: [.all([t, .not(.any([f, t]))])]).evaluate(root: 0, dossier) == .init(node: 2, why: .isFalse))
        // The encoding: all [a, b] → a continues to b on true, fails with its own verdict on false.
        let code = ConditionProgram(conditions: [.all([t, f])]).code
        #expect(code.count == 2)
        #expect(code[0].onTrue == 1 && code[0].onFalse == ConditionProgram.jumpOwn)
        #expect(code[1].onTrue == ConditionProgram.jumpHolds && code[1].onFalse == ConditionProgram.jumpOwn)
        // any [a, b] → a holds the any on true, continues to b on false; b fails with the any node (0).
        let anyCode = ConditionProgram(conditions: [.any([t, f])]).code
        #expect(anyCode[0].onTrue == ConditionProgram.jumpHolds && anyCode[0].onFalse == 1)
        #expect(anyCode[1].onFalse == -3 - 0)
        // not a → swaps the targets.
        let notCode = ConditionProgram(conditions: [.not(t)]).code
        #expect(notCode[0].onTrue == -3 - 0 && notCode[0].onFalse == ConditionProgram.jumpHolds)
    }

    @Test func everyOperatorInsideCompositeNodes() {
        let cases: [(Condition.Field, Condition.Operator, FactValue, Bool)] = [
            (.fact("n"), .eq, .integer(3), true), (.fact("n"), .ne, .integer(3), false),
            (.fact("n"), .lt, .integer(4), true), (.fact("n"), .lte, .integer(2), false),
            (.fact("n"), .gt, .number(2.5), true), (.fact("n"), .gte, .integer(4), false),
            (.fact("n"), .in, .array([.integer(1), .integer(3)]), true), (.fact("n"), .notIn, .array([.integer(3)]), false),
            (.fact("n"), .exists, .bool(true), true), (.fact("absent"), .exists, .bool(false), true),
            (.fact("x"), .lt, .integer(3), true), (.fact("x"), .gte, .number(2.5), true),
            (.fact("s"), .eq, .string("mining"), true), (.fact("s"), .ne, .string("mining"), false),
            (.fact("s"), .in, .array([.string("food"), .string("mining")]), true),
            (.fact("s"), .notIn, .array([.string("mining")]), false), (.fact("s"), .lt, .string("z"), true),
            (.fact("s"), .gt, .string("z"), false), (.fact("b"), .eq, .bool(true), true),
            (.fact("b"), .ne, .bool(true), false), (.fact("none"), .eq, .null, true),
            (.fact("list"), .eq, .string("b"), true), (.fact("list"), .notIn, .array([.string("a")]), false),
            (.channel, .eq, .string("post"), true), (.channel, .ne, .string("post"), false),
            (.commune, .in, .array([.string("00004")]), true), (.commune, .lte, .string("00003"), false),
            (.procedure, .eq, .string("2.000633"), true), (.applicantKind, .notIn, .array([.string("citizen")]), true),
            (.documents, .in, .array([.string("passport")]), false), (.documents, .exists, .bool(true), true),
        ]
        #expect(Set(cases.map(\.1)) == Set(Condition.Operator.allCases))
        for (field, op, value, expected) in cases {
            let leaf = Condition.compare(field, op, value)
            let program = ConditionProgram(conditions: [
                leaf, .all([.always, leaf]), .any([f, leaf]), .not(leaf), .not(.not(.any([.all([leaf])]))),
            ])
            #expect(program.evaluate(root: 0, dossier).isTrue == expected, "\(leaf)")
            #expect(program.evaluate(root: 1, dossier).isTrue == expected, "\(leaf)")
            #expect(program.evaluate(root: 2, dossier).isTrue == expected, "\(leaf)")
            #expect(program.evaluate(root: 3, dossier).isTrue == !expected, "\(leaf)")
            #expect(program.evaluate(root: 4, dossier).isTrue == expected, "\(leaf)")
            check([leaf, .all([leaf, t]), .any([leaf, missing]), .not(leaf)])
        }
    }

    @Test func delegationConditionsReadSharedFacts() {
        let rules = ConditionProgram(conditions: [
            .compare(.fact("s"), .eq, .string("food")), .compare(.fact("n"), .gt, .integer(0)),
        ])
        let delegation = ConditionProgram(conditions: [
            .all([
                .compare(.fact("s"), .in, .array([.string("mining")])), .compare(.fact("n"), .lte, .integer(3)),
                .compare(.fact("x"), .gt, .number(2)),  // not read by the rules: looked up in the dossier
            ])
        ])
        withUnsafePointer(to: dossier) { d in
            rules.withFacts(of: d, slots: [0, 1]) { facts in
                let shared = ConditionProgram.SharedFacts(program: rules, facts: facts)
                #expect(delegation.evaluate(root: 0, d, sharing: shared).isTrue)
                #expect(delegation.holds(d, sharing: shared))
            }
            // Nothing looked up (every slot `Loaded.notLookedUp`): the delegation looks its facts up itself.
            rules.withFacts(of: d, slots: []) { facts in
                let notLoaded = ConditionProgram.SharedFacts(program: rules, facts: facts)
                #expect(delegation.evaluate(root: 0, d, sharing: notLoaded).isTrue)
                #expect(delegation.holds(d, sharing: notLoaded))
            }
        }
    }
}
