import Foundation

/// A department's decision table, compiled once and versioned by the SHA-256 of its canonical form.
///
/// The canonical form is the file's content as JSON with sorted keys and no layout (see ``canonicalText``), so the
/// version does not change when keys are reordered, comments edited or the file reformatted, and changes when any
/// value (a threshold, an outcome, a citation) does. Workers store ``canonicalText`` once per version; replay
/// rebuilds the identical rule set with ``init(canonicalText:)``.
public struct RuleSet: Sendable {
    /// The department whose worker uses the table.
    public let department: String
    /// Always `first`: the first rule whose condition holds decides.
    public let hitPolicy: String
    public let rules: [Rule]
    /// Lowercase hexadecimal SHA-256 of ``canonicalText``.
    public let version: String
    /// The canonical JSON form of the rule file.
    public let canonicalText: String

    let compiled: CompiledRules

    /// Rebuilds a rule set from its stored canonical text (or any YAML/JSON text of a rule file).
    ///
    /// The version is computed from the canonical form of what was parsed, so a stored text gives back exactly
    /// the version recorded with it.
    public init(canonicalText: String) throws(ValidationReport) {
        try self.init(yaml: canonicalText, file: "<rule set>")
    }

    /// Parses and compiles a rule file's text without the JSON Schema or catalogue checks of the bundle loader.
    public init(yaml: String, file: String = "<rules>") throws(ValidationReport) {
        var report = ValidationReport()
        let root: YAMLNode
        do {
            root = try YAMLNode.parse(yaml)
        } catch {
            report.error(file, error.line, error.message)
            throw report
        }
        guard let ruleSet = RuleSet.parse(root, file: file, report: &report), !report.hasErrors else {
            throw report
        }
        self = ruleSet
    }

    init(department: String, hitPolicy: String, rules: [Rule], canonicalText: String) {
        self.department = department
        self.hitPolicy = hitPolicy
        self.rules = rules
        self.canonicalText = canonicalText
        self.version = sha256Hex(canonicalText)
        self.compiled = CompiledRules(rules: rules, version: version)
    }

    /// The rule with this id.
    public func rule(id: String) -> Rule? {
        rules.first { $0.id == id }
    }
}

extension RuleSet {
    /// Reads a rule file, reporting every structural problem (the same ones the schema reports, for texts that
    /// did not go through it) and every unreachable rule.
    static func parse(_ root: YAMLNode, file: String, report: inout ValidationReport) -> RuleSet? {
        guard root.members != nil else {
            report.error(file, root.line, "a rule file must be an object with department, hitPolicy and rules")
            return nil
        }
        guard let department = root["department"]?.string else {
            report.error(file, root.line, "missing department")
            return nil
        }
        let hitPolicy = root["hitPolicy"]?.string ?? "first"
        if hitPolicy != "first" {
            report.error(file, root["hitPolicy"]?.line ?? root.line, "hitPolicy must be first, got \"\(hitPolicy)\"")
        }
        guard let ruleNodes = root["rules"]?.array, !ruleNodes.isEmpty else {
            report.error(file, root["rules"]?.line ?? root.line, "rules must be a non-empty list")
            return nil
        }
        var rules: [Rule] = []
        var ids: [String: Int] = [:]
        var ok = true
        for node in ruleNodes {
            guard let rule = parseRule(node, file: file, report: &report) else {
                ok = false
                continue
            }
            if let previous = ids[rule.id] {
                report.error(file, node.line, "duplicate rule id \"\(rule.id)\" (first at line \(previous))")
                ok = false
            }
            ids[rule.id] = node.line
            if let earlier = rules.first(where: { rule.isShadowed(by: $0) }) {
                let why =
                    earlier.isCatchAll ? "it comes after the catch-all" : "it matches every dossier this one would"
                report.error(
                    file, node.line,
                    "rule \"\(rule.id)\" can never fire: \(why) \"\(earlier.id)\" (line \(earlier.line))")
            }
            rules.append(rule)
        }
        guard ok else { return nil }
        if let last = rules.last, !last.isCatchAll {
            report.error(
                file, last.line,
                "the table must end with a catch-all rule (when: { always: true }, no procedures); \"\(last.id)\" is not"
            )
        }
        return RuleSet(department: department, hitPolicy: hitPolicy, rules: rules, canonicalText: root.canonicalJSON)
    }

    private static func parseRule(_ node: YAMLNode, file: String, report: inout ValidationReport) -> Rule? {
        guard node.members != nil else {
            report.error(file, node.line, "a rule must be an object")
            return nil
        }
        guard let id = node["id"]?.string, !id.isEmpty else {
            report.error(file, node.line, "a rule needs an id")
            return nil
        }
        var procedures: [String]?
        if let list = node["procedures"] {
            guard let items = list.array, !items.isEmpty, items.allSatisfy({ $0.string != nil }) else {
                report.error(file, list.line, "rule \"\(id)\": procedures must be a non-empty list of procedure codes")
                return nil
            }
            procedures = items.compactMap(\.string)
        }
        guard let whenNode = node["when"] else {
            report.error(file, node.line, "rule \"\(id)\": missing when")
            return nil
        }
        guard let condition = Condition.parse(whenNode, file: file, report: &report) else { return nil }
        guard let outcomeNode = node["outcome"], let outcome = outcomeNode.string.flatMap(Outcome.init(rawValue:))
        else {
            let allowed = Outcome.allCases.map(\.rawValue).joined(separator: ", ")
            report.error(
                file, node["outcome"]?.line ?? node.line,
                "rule \"\(id)\": outcome must be one of \(allowed); got \(node["outcome"]?.brief ?? "nothing")")
            return nil
        }
        guard let reviewNode = node["review"], let review = reviewNode.string.flatMap(Review.init(rawValue:)) else {
            report.error(
                file, node["review"]?.line ?? node.line,
                "rule \"\(id)\": review must be auto or official; got \(node["review"]?.brief ?? "nothing")")
            return nil
        }
        if outcome == .refuse && review != .official {
            report.error(
                file, node["review"]?.line ?? node.line,
                "rule \"\(id)\": a refusal is always signed: review must be official")
        }
        let forwardTo = node["forwardTo"]?.string
        if outcome == .forward && forwardTo == nil {
            report.error(file, node.line, "rule \"\(id)\": forward needs forwardTo (the next department)")
        }
        if outcome != .forward, let f = node["forwardTo"] {
            report.error(file, f.line, "rule \"\(id)\": forwardTo is only for outcome forward")
        }
        let legalBasis = node["legalBasis"]?.string
        if legalBasis == nil {
            report.error(file, node.line, "rule \"\(id)\": every rule cites its legalBasis")
        }
        return Rule(
            id: id, procedures: procedures, condition: condition, outcome: outcome, review: review,
            legalBasis: legalBasis, reason: node["reason"]?.string, forwardTo: forwardTo, line: node.line)
    }
}

/// The compiled form of a rule table: one condition program and, per procedure, the rules that apply and the
/// facts they read.
final class CompiledRules: Sendable {
    /// A reference, so that the evaluation takes one retain for both arrays.
    final class Plan: Sendable {
        let rules: [Int32]
        let slots: [Int32]
        /// Its index in `planList`, or -1 for `defaultPlan`: what an explanation records of it.
        let index: Int32
        /// Where each rule of `rules` starts in the program's code.
        let entries: [Int32]
        /// Each rule's failure packed (see `Explanation.PackedFailures`): its bit position, and how many bits.
        /// Empty when the failures of every rule do not fit in the packed words: then they go to a `FailureList`.
        let bitOffsets: [UInt8]
        let bitWidths: [UInt8]
        /// The rules' leaves as one program (`ConditionProgram.steps`); empty unless `packs`.
        let steps: ContiguousArray<ConditionProgram.Step>

        init(rules: [Int32], slots: [Int32], index: Int32, program: ConditionProgram) {
            self.rules = rules
            self.slots = slots
            self.index = index
            entries = rules.map { program.entries[Int($0)] }
            // A failure is the position of the leaf that decided it within its rule, and how it left (2 bits).
            // A code never straddles two words.
            var offsets: [UInt8] = []
            var widths: [UInt8] = []
            var position = 0
            for r in rules {
                let leaves = program.leafCount(root: Int(r))
                let width = (leaves > 1 ? Int.bitWidth - (leaves - 1).leadingZeroBitCount : 0) + 2
                if position / 64 != (position + width - 1) / 64 { position = (position + 63) / 64 * 64 }
                offsets.append(UInt8(truncatingIfNeeded: position))
                widths.append(UInt8(width))
                position += width
            }
            let fits = position <= Explanation.PackedFailures.capacity
            bitOffsets = fits ? offsets : []
            bitWidths = fits ? widths : []
            steps = fits && !rules.isEmpty ? program.steps(rules: rules, bitOffsets: offsets) : []
        }

        /// Whether failures are packed into an explanation's words (else a `FailureList`).
        var packs: Bool { !steps.isEmpty }
    }

    let rules: [Rule]
    /// What each rule's decisions cite, shared by every evaluation it decides.
    let citations: [Evaluation.Citation]
    let version: String
    let program: ConditionProgram
    let plans: [String: Plan]
    let defaultPlan: Plan
    /// `plans` for the hot path: procedure code → index into `planList`.
    private let planLookup: StringIndex
    private let planList: [Plan]
    /// `planList` and `defaultPlan` without reference counts (this object keeps them alive), for the hot path.
    private let planRefs: [Unmanaged<Plan>]
    private let defaultPlanRef: Unmanaged<Plan>

    /// `plan(for:hash:)` without a retain: valid as long as this object is.
    func unretainedPlan(for procedure: String, hash: UInt64?) -> Unmanaged<Plan> {
        guard !planRefs.isEmpty, let i = planLookup[procedure, hash: hash] else { return defaultPlanRef }
        return planRefs.withUnsafeBufferPointer { $0[i] }
    }

    func plan(for procedure: String) -> Plan {
        plan(for: procedure, hash: StringIndex.asciiHash(procedure))
    }

    /// `plan(for:)` with `hash` = `StringIndex.asciiHash(procedure)`.
    func plan(for procedure: String, hash: UInt64?) -> Plan {
        if planList.isEmpty { return defaultPlan }
        guard let i = planLookup[procedure, hash: hash] else { return defaultPlan }
        return planList[i]
    }

    /// The plan with this `Plan.index`.
    func plan(at index: Int32) -> Plan {
        index < 0 ? defaultPlan : planList[Int(index)]
    }

    init(rules: [Rule], version: String) {
        self.rules = rules
        self.version = version
        citations = rules.map {
            Evaluation.Citation(ruleId: $0.id, legalBasis: $0.legalBasis, reason: $0.reason, forwardTo: $0.forwardTo)
        }
        let program = ConditionProgram(conditions: rules.map(\.condition))
        self.program = program
        func plan(for procedure: String?, index: Int32) -> Plan {
            var indices: [Int32] = []
            var slots = Set<Int32>()
            for (i, rule) in rules.enumerated() {
                if let procedures = rule.procedures {
                    guard let procedure, procedures.contains(procedure) else { continue }
                }
                indices.append(Int32(i))
                slots.formUnion(program.slotsOfRoot[i])
            }
            return Plan(rules: indices, slots: slots.sorted(), index: index, program: program)
        }
        let codes = Set(rules.flatMap { $0.procedures ?? [] }).sorted()
        var plans: [String: Plan] = [:]
        for (i, code) in codes.enumerated() {
            plans[code] = plan(for: code, index: Int32(i))
        }
        self.plans = plans
        defaultPlan = plan(for: nil, index: -1)
        planList = codes.map { plans[$0]! }
        planRefs = planList.map { Unmanaged.passUnretained($0) }
        defaultPlanRef = Unmanaged.passUnretained(defaultPlan)
        planLookup = StringIndex(Dictionary(uniqueKeysWithValues: codes.enumerated().map { ($1, $0) }))
    }
}
