import Foundation
import Testing

@testable import Authority

/// The compiled evaluation (fact slots, interned strings, shared facts between the delegation check and the table,
/// compact explanations) against a plain recursive reference written from the documented semantics, over generated
/// rule tables, delegation records and dossiers: the same outcome, delegation, rule, and the same reason for every
/// earlier rule.
@Suite("Evaluation against a reference evaluator")
struct EvaluationDifferentialTests {
    // MARK: - Reference

    typealias Why = ConditionProgram.Why

    /// nil when the condition holds, else the node that decided it does not and why (the compiled program's
    /// verdict: the first failing child of an `all`, the `any` or `not` node itself).
    static func verdict(_ c: Condition, _ d: Dossier) -> (node: Condition, why: Why)? {
        switch c {
        case .always:
            return nil
        case .all(let cs):
            for child in cs {
                if let v = verdict(child, d) { return v }
            }
            return nil
        case .any(let cs):
            for child in cs where verdict(child, d) == nil { return nil }
            return (c, .isFalse)
        case .not(let child):
            return verdict(child, d) == nil ? (c, .isFalse) : nil
        case .compare(let field, let op, let literal):
            return leaf(field, op, literal, d).map { (c, $0) }
        }
    }

    static func leaf(_ field: Condition.Field, _ op: Condition.Operator, _ literal: FactValue, _ d: Dossier) -> Why? {
        switch field {
        case .procedure: return string(d.procedure, op, literal)
        case .commune: return string(d.commune, op, literal)
        case .channel: return string(d.channel.rawValue, op, literal)
        case .applicantKind: return string(d.applicant.kind.rawValue, op, literal)
        case .documents: return documents(d.documents, op, literal)
        case .fact(let name):
            guard let value = d.facts[name] else {
                return op == .exists && literal == .bool(false) ? nil : .missing
            }
            if op == .exists { return literal == .bool(true) ? nil : .isFalse }
            return compare(value, op, literal)
        }
    }

    static func allStrings(_ items: [FactValue]) -> Bool {
        items.allSatisfy { if case .string = $0 { return true } else { return false } }
    }

    static func string(_ s: String, _ op: Condition.Operator, _ literal: FactValue) -> Why? {
        func holds(_ b: Bool) -> Why? { b ? nil : .isFalse }
        switch (op, literal) {
        case (.exists, .bool(let b)): return holds(b)
        case (.eq, .string(let l)): return holds(s == l)
        case (.ne, .string(let l)): return holds(s != l)
        case (.lt, .string(let l)): return holds(s < l)
        case (.lte, .string(let l)): return holds(s <= l)
        case (.gt, .string(let l)): return holds(s > l)
        case (.gte, .string(let l)): return holds(s >= l)
        case (.in, .array(let items)): return holds(items.contains(.string(s)))
        case (.notIn, .array(let items)): return holds(!items.contains(.string(s)))
        default: return .typeMismatch
        }
    }

    static func documents(_ documents: [String], _ op: Condition.Operator, _ literal: FactValue) -> Why? {
        func holds(_ b: Bool) -> Why? { b ? nil : .isFalse }
        switch (op, literal) {
        case (.exists, .bool(let b)): return holds(documents.isEmpty == !b)
        case (.eq, .string(let l)): return holds(documents.contains(l))
        case (.ne, .string(let l)): return holds(!documents.contains(l))
        case (.in, .array(let items)) where allStrings(items):
            return holds(documents.contains { items.contains(.string($0)) })
        case (.notIn, .array(let items)) where allStrings(items):
            return holds(!documents.contains { items.contains(.string($0)) })
        default: return .typeMismatch
        }
    }

    static func ordered<T: Comparable>(_ a: T, _ b: T, _ op: Condition.Operator) -> Why? {
        let holds: Bool
        switch op {
        case .eq: holds = a == b
        case .ne: holds = a != b
        case .lt: holds = a < b
        case .lte: holds = a <= b
        case .gt: holds = a > b
        case .gte: holds = a >= b
        default: return .typeMismatch
        }
        return holds ? nil : .isFalse
    }

    static func membership(_ value: FactValue, _ items: [FactValue], _ op: Condition.Operator) -> Why? {
        let found = items.contains { compare(value, .eq, $0) == nil }
        switch op {
        case .in: return found ? nil : .isFalse
        case .notIn: return found ? .isFalse : nil
        default: return .typeMismatch
        }
    }

    static func compare(_ value: FactValue, _ op: Condition.Operator, _ literal: FactValue) -> Why? {
        if op == .exists { return literal == .bool(true) ? nil : (literal == .bool(false) ? .isFalse : .typeMismatch) }
        switch value {
        case .string(let s):
            return string(s, op, literal)
        case .integer(let i):
            switch literal {
            case .integer(let l): return ordered(i, l, op)
            case .number(let l): return ordered(Double(i), l, op)
            case .array(let items) where !allStrings(items): return membership(value, items, op)
            default: return .typeMismatch
            }
        case .number(let x):
            switch literal {
            case .integer(let l): return ordered(x, Double(l), op)
            case .number(let l): return ordered(x, l, op)
            case .array(let items) where !allStrings(items): return membership(value, items, op)
            default: return .typeMismatch
            }
        case .bool(let b):
            switch (op, literal) {
            case (.eq, .bool(let l)): return b == l ? nil : .isFalse
            case (.ne, .bool(let l)): return b != l ? nil : .isFalse
            case (.in, .array(let items)) where !allStrings(items): return membership(value, items, op)
            case (.notIn, .array(let items)) where !allStrings(items): return membership(value, items, op)
            default: return .typeMismatch
            }
        case .null:
            switch (op, literal) {
            case (.eq, .null): return nil
            case (.ne, .null): return .isFalse
            default: return .missing
            }
        case .array(let items):
            switch op {
            case .eq, .in:
                return items.contains { compare($0, op, literal) == nil } ? nil : .isFalse
            case .ne, .notIn:
                let positive: Condition.Operator = op == .ne ? .eq : .in
                return items.contains { compare($0, positive, literal) == nil } ? .isFalse : nil
            default:
                return .typeMismatch
            }
        }
    }

    struct Expected: Equatable, CustomStringConvertible {
        var outcome: Outcome
        var review: Review
        var stage: Explanation.Stage
        var delegationId: String?
        var escalated: Bool
        var ruleId: String?
        var missing: [String]
        var checks: [Explanation.RuleCheck]
        var legalBasis: String?
        var reason: String?

        var description: String {
            "\(outcome) \(review) \(stage) delegation \(delegationId ?? "-") rule \(ruleId ?? "-") missing \(missing) "
                + checks.map { "\($0.rule):\($0.result.rawValue):\($0.failedCondition ?? "")/\($0.because ?? "")" }
                .joined(separator: " ")
        }
    }

    static func reference(
        _ ruleSet: RuleSet, _ d: Dossier, department: DepartmentID, registry: DelegationRegistry, catalogue: Catalogue,
        at instant: Date
    ) -> Expected {
        // Delegation: the first record in force whose scope and conditions cover the dossier; a later one wins over
        // a record it supersedes.
        let candidates = registry.records(delegatee: department, procedure: d.procedure)
        let superseded = Set(registry.records.compactMap(\.supersedes))
        var granted: Delegation?
        for record in candidates {
            guard record.status(at: instant) == nil, record.covers(d) else { continue }
            if let c = record.conditions, verdict(c, d) != nil { continue }
            if granted == nil || superseded.contains(granted!.id) { granted = record }
        }
        guard let granted else {
            return Expected(
                outcome: .escalate, review: .official, stage: .delegation, delegationId: nil, escalated: true,
                ruleId: nil, missing: [], checks: [], legalBasis: nil, reason: nil)
        }
        if let procedure = catalogue.procedure(d.procedure) {
            let missing = procedure.documents.filter { !d.documents.contains($0) }
            if !missing.isEmpty {
                return Expected(
                    outcome: .supplement, review: .auto, stage: .documents, delegationId: granted.id, escalated: false,
                    ruleId: nil, missing: missing, checks: [], legalBasis: procedure.legalBasis.first,
                    reason: "missing required documents")
            }
        }
        var checks: [Explanation.RuleCheck] = []
        for rule in ruleSet.rules {
            if let procedures = rule.procedures, !procedures.contains(d.procedure) {
                checks.append(.init(rule: rule.id, result: .notApplicable))
                continue
            }
            if let v = verdict(rule.condition, d) {
                checks.append(
                    .init(rule: rule.id, result: .notMatched, failedCondition: v.node.description, because: v.why.text))
                continue
            }
            checks.append(.init(rule: rule.id, result: .fired))
            return Expected(
                outcome: rule.outcome, review: rule.outcome == .refuse ? .official : rule.review, stage: .rules,
                delegationId: granted.id, escalated: false, ruleId: rule.id, missing: [], checks: checks,
                legalBasis: rule.legalBasis, reason: rule.reason)
        }
        Issue.record("a loaded table ends with a catch-all")
        return Expected(
            outcome: .escalate, review: .official, stage: .rules, delegationId: granted.id, escalated: false,
            ruleId: nil, missing: [], checks: checks, legalBasis: nil, reason: nil)
    }

    static func observed(_ e: Evaluation) -> Expected {
        Expected(
            outcome: e.outcome, review: e.review, stage: e.explanation.stage, delegationId: e.delegationId,
            escalated: e.escalationReason != nil, ruleId: e.ruleId, missing: e.missingDocuments,
            checks: e.explanation.ruleChecks, legalBasis: e.legalBasis, reason: e.reason)
    }

    // MARK: - Generation

    /// Strings with canonically equivalent spellings (é precomposed and decomposed) and non-ASCII ones, so that
    /// byte comparisons must fall back to String equality where it differs from byte equality.
    static let words = ["a", "b", "mining", "food", "ăn", "caf\u{E9}", "cafe\u{301}", "zz", "", "0000a"]
    static let factNames = ["n", "x", "s", "b", "cap", "t", "long-fact-name-beyond-fifteen", "ph\u{1EDF}", "nul"]
    static let procedures = ["2.000633", "2.000581", "1.000001"]
    static let communes = ["00001", "00002", "00003", "0000\u{0661}"]
    static let documentTypes = ["application-form", "business-registration", "passport"]

    struct Generator {
        var rng: SplitMix64

        mutating func int(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
        mutating func pick<T>(_ xs: [T]) -> T { xs[int(xs.count)] }
        mutating func chance(_ percent: Int) -> Bool { int(100) < percent }

        mutating func scalar() -> FactValue {
            switch int(6) {
            case 0, 1: return .integer(Int64(int(7)) - 2)
            case 2: return .number(Double(int(9)) / 2 - 1)
            case 3: return .bool(chance(50))
            default: return .string(pick(EvaluationDifferentialTests.words))
            }
        }

        mutating func factValue() -> FactValue {
            switch int(20) {
            case 0: return .null
            case 1: return .array([scalar(), scalar()])
            default: return scalar()
            }
        }

        mutating func list() -> FactValue {
            let count = int(4)
            if chance(50) {
                return .array((0..<count).map { _ in .string(pick(EvaluationDifferentialTests.words)) })
            }
            return .array((0..<count).map { _ in scalar() })
        }

        mutating func compare() -> Condition {
            let field: Condition.Field
            switch int(12) {
            case 0: field = .procedure
            case 1: field = .commune
            case 2: field = .channel
            case 3: field = .applicantKind
            case 4: field = .documents
            default: field = .fact(pick(EvaluationDifferentialTests.factNames))
            }
            var op = pick(Condition.Operator.allCases)
            if case .documents = field, ![.in, .notIn, .exists, .eq, .ne].contains(op) { op = .in }
            let literal: FactValue
            switch op {
            case .in, .notIn:
                switch field {
                case .procedure: literal = .array([.string(pick(EvaluationDifferentialTests.procedures)), scalar()])
                case .commune: literal = .array([.string(pick(EvaluationDifferentialTests.communes))])
                case .channel: literal = .array([.string(pick(["online", "post", "counter"]))])
                case .applicantKind: literal = .array([.string(pick(["citizen", "enterprise"]))])
                case .documents: literal = .array([.string(pick(EvaluationDifferentialTests.documentTypes))])
                case .fact: literal = list()
                }
            case .exists:
                literal = .bool(chance(50))
            default:
                switch field {
                case .procedure: literal = chance(80) ? .string(pick(EvaluationDifferentialTests.procedures)) : scalar()
                case .commune: literal = .string(pick(EvaluationDifferentialTests.communes))
                case .channel: literal = .string(pick(["online", "post", "counter", "fax"]))
                case .applicantKind: literal = .string(pick(["citizen", "enterprise", "organisation"]))
                case .documents: literal = .string(pick(EvaluationDifferentialTests.documentTypes))
                case .fact: literal = scalar()
                }
            }
            return .compare(field, op, literal)
        }

        mutating func condition(depth: Int = 0) -> Condition {
            guard depth < 3, chance(45) else { return compare() }
            switch int(3) {
            case 0: return .all((0..<(1 + int(3))).map { _ in condition(depth: depth + 1) })
            case 1: return .any((0..<(1 + int(3))).map { _ in condition(depth: depth + 1) })
            default: return .not(condition(depth: depth + 1))
            }
        }

        mutating func dossier() -> Dossier {
            var facts: [String: FactValue] = [:]
            for name in EvaluationDifferentialTests.factNames where chance(70) { facts[name] = factValue() }
            // Spellings that differ in bytes but not as Strings.
            if chance(10) { facts["ph\u{1EDF}"] = nil; facts["pho\u{31B}\u{309}"] = .integer(1) }
            return Dossier(
                id: "4b3f2a5e-6c1d-4e8f-9a0b-1c2d3e4f5a6b", procedure: pick(EvaluationDifferentialTests.procedures),
                submittedAt: Date(timeIntervalSince1970: 1_790_000_000),
                channel: pick(Dossier.Channel.allCases), commune: pick(EvaluationDifferentialTests.communes),
                applicant: .init(kind: pick(Dossier.Applicant.Kind.allCases), id: "0101234567", name: "A"),
                documents: EvaluationDifferentialTests.documentTypes.filter { _ in chance(85) }, facts: facts)
        }
    }

    static func json(_ v: FactValue) -> String {
        switch v {
        case .string(let s):
            return String(decoding: try! JSONEncoder().encode(s), as: UTF8.self)
        case .integer(let i): return String(i)
        case .number(let d): return d == d.rounded() ? String(format: "%.1f", d) : String(d)
        case .bool(let b): return String(b)
        case .null: return "null"
        case .array(let items): return "[" + items.map(json).joined(separator: ", ") + "]"
        }
    }

    static func json(_ c: Condition) -> String {
        switch c {
        case .always: return "{\"always\": true}"
        case .all(let cs): return "{\"all\": [" + cs.map(json).joined(separator: ", ") + "]}"
        case .any(let cs): return "{\"any\": [" + cs.map(json).joined(separator: ", ") + "]}"
        case .not(let inner): return "{\"not\": \(json(inner))}"
        case .compare(let field, let op, let value):
            return "{\"field\": \(json(.string(field.description))), \"\(op.rawValue)\": \(json(value))}"
        }
    }

    static func ruleSet(_ g: inout Generator, maxRules: Int = 15) -> RuleSet? {
        var rules: [String] = []
        for i in 0..<(1 + g.int(maxRules - 1)) {
            let procedures =
                g.chance(25) ? ", \"procedures\": [\(json(.string(g.pick(procedures))))]" : ""
            let outcome = g.pick(["approve", "refuse", "escalate", "supplement", "forward"])
            let review = outcome == "refuse" || g.chance(50) ? "official" : "auto"
            let forward = outcome == "forward" ? ", \"forwardTo\": \"environment\"" : ""
            let reason = g.chance(50) ? ", \"reason\": \"rule \(i)\"" : ""
            rules.append(
                "{\"id\": \"r\(i)\", \"when\": \(json(g.condition()))\(procedures), \"outcome\": \"\(outcome)\", "
                    + "\"review\": \"\(review)\", \"legalBasis\": \"NĐ \(i)\"\(forward)\(reason)}")
        }
        rules.append(
            "{\"id\": \"default\", \"when\": {\"always\": true}, \"outcome\": \"approve\", \"review\": \"auto\", "
                + "\"legalBasis\": \"NĐ 0\"}")
        let text = "{\"department\": \"industry-trade\", \"hitPolicy\": \"first\", \"rules\": [\n"
            + rules.joined(separator: ",\n") + "]}"
        return try? RuleSet(yaml: text)
    }

    static func delegations(_ g: inout Generator) -> DelegationRegistry {
        var records: [Delegation] = []
        for i in 0..<(1 + g.int(3)) {
            let delegatee = g.chance(85) ? "industry-trade" : "environment"
            let codes = Array(Set((0..<(1 + g.int(2))).map { _ in g.pick(EvaluationDifferentialTests.procedures) }))
            let territory = g.chance(80) ? ["*"] : [g.pick(communes), g.pick(communes)]
            let subjects = g.chance(30) ? ", \"subjects\": [\"enterprise\", \"citizen\"]" : ""
            let conditions = g.chance(60) ? "\"conditions\": \(json(g.condition())), " : ""
            let validTo = g.pick(["2026-01-31", "2027-12-31", "2030-12-31"])
            let revoked =
                g.chance(15)
                ? "\"revokedAt\": \"2026-06-01T00:00:00+07:00\", \"revokingInstrument\": "
                    + "{\"number\": \"9/QĐ-UBND\", \"date\": \"2026-05-30\", \"signer\": \"Chủ tịch\"}, " : ""
            let supersedes = i > 0 && g.chance(40) ? "\"supersedes\": \"uq-\(i - 1)\", " : ""
            let text = """
                {\(conditions)\(revoked)\(supersedes)"delegatee": "\(delegatee)", "delegator": "city", "id": "uq-\(i)",\
                "instrument": {"date": "2024-01-05", "number": "\(i)/QĐ-UBND", "signer": "Chủ tịch"},\
                "mode": "delegation", "scope": {"procedures": [\(codes.sorted().map { json(.string($0)) }.joined(separator: ", "))],\
                "territory": [\(territory.map { json(.string($0)) }.joined(separator: ", "))]\(subjects)},\
                "validFrom": "2024-01-15", "validTo": "\(validTo)"}
                """
            if let record = try? Delegation(snapshotJSON: text) { records.append(record) }
        }
        if g.chance(50) {
            // A record without conditions for every procedure, so that many dossiers reach the table.
            let text = """
                {"delegatee": "industry-trade", "delegator": "city", "id": "uq-open",\
                "instrument": {"date": "2024-01-05", "number": "99/QĐ-UBND", "signer": "Chủ tịch"},\
                "mode": "delegation", "scope": {"procedures": ["1.000001", "2.000581", "2.000633"],\
                "territory": ["*"]}, "validFrom": "2024-01-15", "validTo": "2030-12-31"}
                """
            records.append(try! Delegation(snapshotJSON: text))
        }
        return DelegationRegistry(records: records)
    }

    static let catalogue = Catalogue(
        departments: [
            Department(id: "city", name: "UBND", gloss: "City", agencyCode: "UB", head: "chu-tich"),
            Department(id: "industry-trade", name: "Sở Công Thương", gloss: "DoIT", agencyCode: "CT", head: "gd"),
        ],
        documentTypes: documentTypes.map { DocumentType(id: $0, name: $0, gloss: $0) },
        procedures: [
            Procedure(
                code: "2.000633", name: "Thuốc lá", gloss: "Tobacco", department: "industry-trade",
                timeLimit: TimeLimit(value: 15, unit: .workingDays), onlineLevel: .full, legalBasis: ["NĐ 67/2013"],
                documents: ["application-form", "business-registration"]),
            Procedure(
                code: "2.000581", name: "Rượu", gloss: "Alcohol", department: "industry-trade",
                timeLimit: TimeLimit(value: 15, unit: .workingDays), onlineLevel: .partial,
                legalBasis: ["NĐ 105/2017"], documents: ["application-form"]),
        ])

    // MARK: - Tests

    @Test func compiledEvaluationAgreesWithTheReference() {
        let instants = [
            ISO8601Instant.parse("2026-11-27T10:00:00+07:00")!, ISO8601Instant.parse("2026-03-01T08:00:00+07:00")!,
        ]
        var tables = 0
        var evaluations = 0
        var stages: [Explanation.Stage: Int] = [:]
        for seed in 0..<400 {
            var g = Generator(rng: SplitMix64(seed: UInt64(seed)))
            guard let ruleSet = EvaluationDifferentialTests.ruleSet(&g) else { continue }
            let registry = EvaluationDifferentialTests.delegations(&g)
            tables += 1
            for _ in 0..<40 {
                let d = g.dossier()
                let instant = g.pick(instants)
                let e = ruleSet.evaluate(
                    d, department: "industry-trade", delegations: registry,
                    catalogue: EvaluationDifferentialTests.catalogue, at: instant)
                let expected = EvaluationDifferentialTests.reference(
                    ruleSet, d, department: "industry-trade", registry: registry,
                    catalogue: EvaluationDifferentialTests.catalogue, at: instant)
                let context: String = "seed \(seed)" + ": \(d.facts) \(d.commune) \(d.procedure) \(d.applicant.kind) at \(instant) " + registry.records.map { "\($0.id) \($0.delegatee) \($0.scope.territory) \($0.supersedes ?? "") \($0.revokedAt.map { "\($0)" } ?? "") \($0.validTo!) \($0.conditions?.description ?? "-")" }.joined(separator: " | ")
                #expect(EvaluationDifferentialTests.observed(e) == expected, Comment(rawValue: context))
                #expect(e.ruleSetVersion == ruleSet.version)
                #expect(e.explanation.firedRule == expected.ruleId)
                #expect(e.delegationInstrument == registry[id: expected.delegationId ?? ""]?.instrument.number)
                // Deterministic, and the explanation survives encoding.
                let again = ruleSet.evaluate(
                    d, department: "industry-trade", delegations: registry,
                    catalogue: EvaluationDifferentialTests.catalogue, at: instant)
                #expect(again == e)
                let decoded = try? JSONDecoder().decode(Explanation.self, from: JSONEncoder().encode(e.explanation))
                #expect(decoded == e.explanation)
                evaluations += 1
                stages[e.explanation.stage, default: 0] += 1
            }
        }
        #expect(tables > 300)
        // Every stage is exercised.
        #expect(stages.count == 3 && stages.values.allSatisfy { $0 > 1000 }, "\(stages)")
    }
}
