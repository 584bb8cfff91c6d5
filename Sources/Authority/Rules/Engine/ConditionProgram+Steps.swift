extension ConditionProgram {
    /// A leaf of a plan's code (`steps(rules:bitOffsets:)`): the rules of one plan one after the other, a failing
    /// rule continuing with the next, and the common comparisons specialised, so that the whole table runs in one
    /// loop of few branches.
    struct Step {
        /// What a step does: the leaf's general `test`, or a specialised comparison that asks `test` whenever the
        /// fact is not in the form it expects.
        enum Op: UInt8 {
            /// The leaf's `test`.
            case general
            /// Holds.
            case always
            /// A fact against an integer literal (`bits`), `flag` the orderings that hold.
            case orderInt
            /// A fact against a number literal (`number`), `flag` the orderings that hold.
            case orderNumber
            /// A string fact's interned id in `mask`; holds when found if `polarity`.
            case member
            /// The commune's or procedure code's interned id in `mask`; holds when found if `polarity`.
            case memberField
            /// The dossier's channel, by case (`mask`).
            case channel
            /// The applicant kind, by case (`mask`).
            case applicantKind
            /// A boolean fact against `bits`; holds when equal if `polarity` (eq), when different otherwise (ne).
            case boolean
        }

        var op: Op
        /// `orderInt`, `orderNumber`: the orderings that hold (`Order`).
        var flag: UInt8
        /// `member`, `memberField`: holds when found; `boolean`: holds when equal.
        var polarity: Bool
        /// The failure's bit position in the packed words (see `Explanation.PackedFailures`).
        var packOffset: UInt8
        var slot: Int32
        /// As `Instruction.onTrue`/`onFalse`, relocated into the steps; any negative value but `jumpHolds` fails
        /// the rule.
        var onTrue: Int32
        var onFalse: Int32
        /// The leaf in `code`, for `general`.
        var leaf: Int32
        /// The rule (its index in the table).
        var rule: Int32
        /// Where the next rule of the plan starts, or -1 after the last.
        var nextRule: Int32
        /// The position of this leaf within its rule, shifted left by 2: the failure's code without its `test`
        /// result.
        var local: UInt64
        var bits: Int64
        var number: Double
        var mask: UInt64
    }

    /// The steps of `rules` (roots, in order), each failure packed at `bitOffsets` (one per rule).
    func steps(rules: [Int32], bitOffsets: [UInt8]) -> ContiguousArray<Step> {
        ConditionProgram.steps(code: code, entries: entries, rules: rules, bitOffsets: bitOffsets)
    }

    static func steps(
        code: ContiguousArray<Instruction>, entries: [Int32], rules: [Int32], bitOffsets: [UInt8]
    ) -> ContiguousArray<Step> {
        func leafCount(root: Int) -> Int {
            let end = root + 1 < entries.count ? Int(entries[root + 1]) : code.count
            return end - Int(entries[root])
        }
        var steps = ContiguousArray<Step>()
        var starts: [Int] = []
        var total = 0
        for r in rules {
            starts.append(total)
            total += leafCount(root: Int(r))
        }
        for (p, r) in rules.enumerated() {
            let entry = Int(entries[Int(r)])
            let base = starts[p]
            let nextRule = p + 1 < rules.count ? Int32(starts[p + 1]) : -1
            func relocated(_ target: Int32) -> Int32 { target >= 0 ? Int32(base + Int(target) - entry) : target }
            for k in 0..<leafCount(root: Int(r)) {
                let n = code[entry + k]
                var step = Step(
                    op: .general, flag: Order.never, polarity: false, packOffset: bitOffsets[p], slot: n.slot,
                    onTrue: relocated(n.onTrue), onFalse: relocated(n.onFalse), leaf: Int32(entry + k), rule: r,
                    nextRule: nextRule, local: UInt64(k) << 2, bits: n.bits, number: n.number, mask: n.mask)
                switch n.kind {
                case .always:
                    step.op = .always
                case .channel:
                    step.op = .channel
                case .applicantKind:
                    step.op = .applicantKind
                case .procedure, .commune:
                    if n.precomputed != .nothing {
                        step.op = .memberField
                        step.polarity = n.precomputed == .inMask
                    }
                case .fact:
                    if n.order != Order.never && n.literalKind == .integer {
                        step.op = .orderInt
                        step.flag = n.order
                    } else if n.order != Order.never && n.literalKind == .number {
                        step.op = .orderNumber
                        step.flag = n.order
                    } else if n.precomputed == .inMask || n.precomputed == .notInMask {
                        step.op = .member
                        step.polarity = n.precomputed == .inMask
                    } else if n.literalKind == .boolean && (n.op == .eq || n.op == .ne) {
                        step.op = .boolean
                        step.polarity = n.op == .eq
                    }
                default:
                    break
                }
                steps.append(step)
            }
        }
        return steps
    }
}
