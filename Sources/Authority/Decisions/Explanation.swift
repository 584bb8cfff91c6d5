/// Why an evaluation came out as it did: the delegation used (or why none applied), the rule that fired, and for
/// each earlier rule the condition that did not hold.
///
/// Built cheaply on the hot path (indices into the compiled rule set); the text of the rule checks is rendered only
/// when read or encoded. Encodes to JSON as
/// `{"stage":…,"delegation":{…},"delegationCandidates":[…],"missingDocuments":[…],"rule":…,"ruleChecks":[…]}`.
public struct Explanation: Sendable, Equatable, Codable {
    /// The check that decided the outcome.
    public enum Stage: String, Sendable, Codable, Hashable {
        /// No delegation applied: escalated.
        case delegation
        /// Required documents missing: supplement.
        case documents
        /// The decision table decided.
        case rules
    }

    /// A delegation record considered, and whether it applied.
    public struct DelegationCheck: Sendable, Equatable, Hashable, Codable {
        public var id: String
        public var instrument: String?
        /// `applies`, or the escalation reason's raw value (`expired`, `revoked`, …).
        public var status: String
        /// Details: the failed condition, the validity period, the revocation.
        public var detail: String?

        public init(id: String, instrument: String?, status: String, detail: String? = nil) {
            self.id = id
            self.instrument = instrument
            self.status = status
            self.detail = detail
        }
    }

    /// What happened to one rule of the table.
    public struct RuleCheck: Sendable, Equatable, Hashable, Codable {
        /// What happened to a rule.
        public enum Result: String, Sendable, Codable, Hashable {
            case fired
            /// Its condition did not hold.
            case notMatched = "not-matched"
            /// It is limited to other procedures.
            case notApplicable = "not-applicable"
        }

        public var rule: String
        public var result: Result
        /// The condition that decided it did not hold (for `not-matched`).
        public var failedCondition: String?
        /// `false`, `field missing` or `type mismatch`.
        public var because: String?

        public init(rule: String, result: Result, failedCondition: String? = nil, because: String? = nil) {
            self.rule = rule
            self.result = result
            self.failedCondition = failedCondition
            self.because = because
        }
    }

    struct Failure: Sendable, Equatable {
        var rule: Int32
        var node: Int32
        var why: ConditionProgram.Why
    }

    /// The failures of one evaluation in one exact-size object: a non-generic class, so that creating it skips
    /// the generic metadata lookup an `Array` of a struct pays on every allocation. Immutable once filled.
    final class FailureList: ManagedBuffer<Int, Failure> {
        /// Moves `count` failures from `source` into a new list.
        static func make(moving source: UnsafeMutablePointer<Failure>, count: Int) -> FailureList {
            let list = unsafeDowncast(FailureList.create(minimumCapacity: count) { _ in count }, to: FailureList.self)
            list.withUnsafeMutablePointerToElements { $0.moveInitialize(from: source, count: count) }
            return list
        }

        var count: Int { header }

        subscript(i: Int) -> Failure { withUnsafeMutablePointerToElements { $0[i] } }

        var all: [Failure] { (0..<count).map { self[$0] } }
    }

    /// The failures of one evaluation when its plan's codes fit in two words (`CompiledRules.Plan.bitOffsets`):
    /// per rule before the one that fired, the position of the leaf that decided it within the rule and that
    /// leaf's `ConditionProgram.test` result (0 held but led to a failing `not`, else 1 + `Why`). The leaf's jumps
    /// give the verdict back (`ConditionProgram.verdict(packed:entry:)`).
    struct PackedFailures: Sendable, Equatable {
        static let capacity = 128
        var w0: UInt64 = 0
        var w1: UInt64 = 0
    }

    /// A delegation check shared by every evaluation that relies on the same record.
    final class SharedCheck: Sendable {
        let check: DelegationCheck

        init(_ check: DelegationCheck) {
            self.check = check
        }
    }

    /// What the rules stage never has: one optional reference, so that building and dropping a rules-stage
    /// explanation touches as few references as possible.
    private final class Extra: Sendable {
        let delegationCandidates: [DelegationCheck]
        let missingDocuments: [String]
        let decodedRule: String?
        let rendered: [RuleCheck]?

        init(
            delegationCandidates: [DelegationCheck], missingDocuments: [String], decodedRule: String?,
            rendered: [RuleCheck]?
        ) {
            self.delegationCandidates = delegationCandidates
            self.missingDocuments = missingDocuments
            self.decodedRule = decodedRule
            self.rendered = rendered
        }
    }

    public let stage: Stage
    /// When no delegation applied: each record for the procedure and delegatee, and why it did not apply.
    public var delegationCandidates: [DelegationCheck] { extra?.delegationCandidates ?? [] }
    public var missingDocuments: [String] { extra?.missingDocuments ?? [] }

    private let used: SharedCheck?
    private let compiled: CompiledRules?
    /// Immutable once filled, hence safe to share.
    private nonisolated(unsafe) let failures: FailureList?
    private let firedIndex: Int32
    /// The plan (`CompiledRules.Plan.index`) whose rules were tried, when `packed` holds their failures.
    private let planIndex: Int32
    private let packed: PackedFailures
    private let extra: Extra?
    private var decodedRule: String? { extra?.decodedRule }
    private var rendered: [RuleCheck]? { extra?.rendered }

    /// The version of the compiled rule set the explanation refers to.
    var compiledVersion: String? { compiled?.version }

    /// The delegation used; nil when none applied.
    public var delegation: DelegationCheck? { used?.check }

    /// The rule that fired.
    public var firedRule: String? {
        if firedIndex >= 0, let compiled { return compiled.rules[Int(firedIndex)].id }
        return decodedRule
    }

    /// What the fired rule's decision cites.
    var firedCitation: Evaluation.Citation? {
        if firedIndex >= 0, let compiled { return compiled.citations[Int(firedIndex)] }
        return nil
    }

    /// Each rule tried before the one that fired (every rule of the plan when none did) and why it did not hold.
    var failureList: [Failure] {
        if let failures { return failures.all }
        guard let compiled, stage == .rules else { return [] }
        let plan = compiled.plan(at: planIndex)
        guard plan.packs else { return [] }
        var list: [Failure] = []
        for (p, rule) in plan.rules.enumerated() {
            if rule == firedIndex { break }
            let offset = Int(plan.bitOffsets[p])
            let word = offset < 64 ? packed.w0 : packed.w1
            let bits = Int(truncatingIfNeeded: (word >> UInt64(offset & 63)) & ((1 << UInt64(plan.bitWidths[p])) - 1))
            let verdict = compiled.program.verdict(packed: bits, entry: plan.entries[p])
            list.append(Failure(rule: rule, node: verdict.node, why: verdict.why))
        }
        return list
    }

    init(
        stage: Stage, delegation: SharedCheck?, delegationCandidates: [DelegationCheck] = [],
        missingDocuments: [String] = [], compiled: CompiledRules? = nil, failures: FailureList? = nil,
        firedIndex: Int32 = -1, packed: PackedFailures = PackedFailures(), planIndex: Int32 = -1
    ) {
        self.stage = stage
        self.used = delegation
        self.extra =
            delegationCandidates.isEmpty && missingDocuments.isEmpty
            ? nil
            : Extra(
                delegationCandidates: delegationCandidates, missingDocuments: missingDocuments, decodedRule: nil,
                rendered: nil)
        self.compiled = compiled
        self.failures = failures
        self.firedIndex = firedIndex
        self.packed = packed
        self.planIndex = planIndex
    }

    /// The rules up to the one that fired (every rule when none did), each with what happened to it.
    public var ruleChecks: [RuleCheck] {
        if let rendered { return rendered }
        guard let compiled, stage == .rules else { return [] }
        let end = firedIndex >= 0 ? Int(firedIndex) : compiled.rules.count - 1
        guard end >= 0 else { return [] }
        var checks: [RuleCheck] = []
        var f = 0
        let failures = failureList
        let failureCount = failures.count
        for i in 0...end {
            let rule = compiled.rules[i]
            if i == Int(firedIndex) {
                checks.append(RuleCheck(rule: rule.id, result: .fired))
            } else if f < failureCount, failures[f].rule == Int32(i) {
                let failure = failures[f]
                f += 1
                checks.append(
                    RuleCheck(
                        rule: rule.id, result: .notMatched,
                        failedCondition: compiled.program.sources[Int(failure.node)].description,
                        because: failure.why.text))
            } else {
                checks.append(RuleCheck(rule: rule.id, result: .notApplicable))
            }
        }
        return checks
    }

    enum CodingKeys: String, CodingKey {
        case stage, delegation, delegationCandidates, missingDocuments, rule, ruleChecks
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        stage = try c.decode(Stage.self, forKey: .stage)
        used = try c.decodeIfPresent(DelegationCheck.self, forKey: .delegation).map(SharedCheck.init)
        extra = Extra(
            delegationCandidates: try c.decodeIfPresent([DelegationCheck].self, forKey: .delegationCandidates) ?? [],
            missingDocuments: try c.decodeIfPresent([String].self, forKey: .missingDocuments) ?? [],
            decodedRule: try c.decodeIfPresent(String.self, forKey: .rule),
            rendered: try c.decodeIfPresent([RuleCheck].self, forKey: .ruleChecks) ?? [])
        compiled = nil
        failures = nil
        firedIndex = -1
        packed = PackedFailures()
        planIndex = -1
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(stage, forKey: .stage)
        try c.encodeIfPresent(delegation, forKey: .delegation)
        if !delegationCandidates.isEmpty { try c.encode(delegationCandidates, forKey: .delegationCandidates) }
        if !missingDocuments.isEmpty { try c.encode(missingDocuments, forKey: .missingDocuments) }
        try c.encodeIfPresent(firedRule, forKey: .rule)
        let checks = ruleChecks
        if !checks.isEmpty { try c.encode(checks, forKey: .ruleChecks) }
    }

    public static func == (lhs: Explanation, rhs: Explanation) -> Bool {
        guard lhs.stage == rhs.stage, lhs.used === rhs.used || lhs.delegation == rhs.delegation,
            lhs.delegationCandidates == rhs.delegationCandidates, lhs.missingDocuments == rhs.missingDocuments,
            lhs.firedRule == rhs.firedRule
        else { return false }
        if let a = lhs.compiled, let b = rhs.compiled, a === b {
            guard lhs.firedIndex == rhs.firedIndex else { return false }
            if lhs.failures == nil && rhs.failures == nil && lhs.planIndex == rhs.planIndex
                && lhs.packed == rhs.packed
            {
                return true
            }
            return lhs.failureList == rhs.failureList
        }
        return lhs.ruleChecks == rhs.ruleChecks
    }
}
