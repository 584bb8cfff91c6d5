import Foundation

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
