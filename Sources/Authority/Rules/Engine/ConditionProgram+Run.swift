extension ConditionProgram {
    /// Evaluates one root on its own (delegation conditions).
    func evaluate(root: Int, _ dossier: Dossier) -> Verdict {
        withUnsafePointer(to: dossier) { d in evaluate(root: root, d) }
    }

    func evaluate(root: Int, _ d: UnsafePointer<Dossier>) -> Verdict {
        withFacts(of: d, slots: slotsOfRoot[root]) { facts in evaluate(root: root, d, facts) }
    }

    /// Evaluates root `root` with facts already loaded (by slot).
    func evaluate(root: Int, _ dossier: UnsafePointer<Dossier>, _ facts: Facts) -> Verdict {
        code.withUnsafeBufferPointer { code in
            literals.withUnsafeBufferPointer { literals in
                withUnsafePointer(
                    to: Context(code: code, literals: literals, dossier: dossier, facts: facts)
                ) { ConditionProgram.run(entries[root], $0) }
            }
        }
    }

    /// Evaluates one root (delegation conditions) reading the facts `shared` loaded where it can, and looking up
    /// only the others in the dossier.
    func evaluate(root: Int, _ dossier: UnsafePointer<Dossier>, sharing shared: SharedFacts) -> Verdict {
        let count = max(slotCount, 1)
        return withUnsafeTemporaryAllocation(of: Loaded.self, capacity: count) { loaded in
            withUnsafeTemporaryAllocation(of: FactValue.self, capacity: count) { others in
                let l = loaded.baseAddress!
                let o = others.baseAddress!
                l.initialize(repeating: Loaded.absent, count: count)
                defer {
                    for slot in 0..<count where l[slot].kind.isInSideBuffer {
                        (o + slot).deinitialize(count: 1)
                    }
                }
                _ = load(slots: slotsOfRoot[root], dossier, sharing: shared, loaded: l, others: o)
                return evaluate(
                    root: root, dossier, Facts(loaded: UnsafeBufferPointer(loaded), others: UnsafeBufferPointer(others))
                )
            }
        }
    }

    /// `holds(_:sharing:)` without loading anything, when every step it runs is a comparison of a number or a
    /// boolean fact that `shared` loaded in the form the step expects (or needs no fact: `always`, the channel, the
    /// applicant kind): the step then reads `shared`'s slot in place. nil as soon as a step needs more (a string, a
    /// fact absent, not looked up, NaN, of another type, or a name the other program does not have): `holds` then
    /// loads and runs the steps, asking the general `test` where needed.
    @inline(__always)
    func quickHolds(_ dossier: UnsafePointer<Dossier>, sharing shared: SharedFacts) -> Bool? {
        soleSteps.withUnsafeBufferPointer { steps -> Bool? in
            guard let steps = steps.baseAddress else { return nil }
            return factNames.withUnsafeBufferPointer { names -> Bool? in
                var pc = 0
                while true {
                    let s = steps + pc
                    var why: LeafResult
                    switch s.pointee.op {
                    case .always:
                        why = .holds
                    case .orderInt, .orderNumber, .boolean:
                        let theirs = shared.slot(ofFactNamed: names[Int(s.pointee.slot)])
                        guard theirs >= 0 else { return nil }
                        let l = shared.facts.loaded[Int(theirs)]
                        switch s.pointee.op {
                        case .orderInt:
                            if l.kind == .integer {
                                why = Order.of(l.bits, s.pointee.bits) & s.pointee.flag != 0 ? .holds : .isFalse
                            } else if l.kind == .number && !l.number.isNaN {
                                why = Order.of(l.number, s.pointee.number) & s.pointee.flag != 0 ? .holds : .isFalse
                            } else {
                                return nil
                            }
                        case .orderNumber:
                            let a = l.number
                            let b = s.pointee.number
                            guard l.kind.isNumeric && !a.isNaN && !b.isNaN else { return nil }
                            why = Order.of(a, b) & s.pointee.flag != 0 ? .holds : .isFalse
                        default:
                            guard l.kind == .boolean else { return nil }
                            why = (l.bits == s.pointee.bits) == s.pointee.polarity ? .holds : .isFalse
                        }
                    case .channel:
                        why = ConditionProgram.byCase(
                            ConditionProgram.channelIndex(dossier.pointee.channel), s.pointee.mask)
                    case .applicantKind:
                        why = ConditionProgram.byCase(
                            ConditionProgram.kindIndex(dossier.pointee.applicant.kind), s.pointee.mask)
                    case .general, .member, .memberField:
                        return nil
                    }
                    let next = why == .holds ? s.pointee.onTrue : s.pointee.onFalse
                    if next >= 0 {
                        pc = Int(next)
                        continue
                    }
                    return next == ConditionProgram.jumpHolds
                }
            }
        }
    }

    /// Whether root 0 holds (a program of one root: a delegation's conditions), reading the facts `shared` loaded
    /// where it can and looking up only the others in the dossier: the answer of
    /// `evaluate(root: 0, dossier, sharing: shared).isTrue`, through the specialised steps (`soleSteps`), which ask
    /// the leaf's general `test` whenever a fact is not of the form they expect.
    func holds(_ dossier: UnsafePointer<Dossier>, sharing shared: SharedFacts) -> Bool {
        if let quick = quickHolds(dossier, sharing: shared) { return quick }
        if soleSteps.isEmpty { return evaluate(root: 0, dossier, sharing: shared).isTrue }
        let count = max(slotCount, 1)
        return withUnsafeTemporaryAllocation(of: Loaded.self, capacity: count) { loaded in
            withUnsafeTemporaryAllocation(of: FactValue.self, capacity: count) { others in
                let l = loaded.baseAddress!
                let o = others.baseAddress!
                l.initialize(repeating: Loaded.absent, count: count)
                let stored = load(slots: soleSlots, dossier, sharing: shared, loaded: l, others: o)
                let facts = Facts(
                    loaded: UnsafeBufferPointer(start: l, count: count),
                    others: UnsafeBufferPointer(start: o, count: count))
                let fired = code.withUnsafeBufferPointer { code in
                    literals.withUnsafeBufferPointer { literals in
                        soleSteps.withUnsafeBufferPointer { steps in
                            var context = Context(code: code, literals: literals, dossier: dossier, facts: facts)
                            var packed = Explanation.PackedFailures()
                            return ConditionProgram.run(steps.baseAddress!, &context, packed: &packed)
                        }
                    }
                }
                if stored {
                    for slot in 0..<count where l[slot].kind.isInSideBuffer {
                        (o + slot).deinitialize(count: 1)
                    }
                }
                return fired >= 0
            }
        }
    }

    /// The first of `rules` (roots) whose condition holds, or -1; records each failure before it.
    func firstHolding(
        _ rules: [Int32], _ dossier: UnsafePointer<Dossier>, _ facts: Facts, failures: inout Explanation.FailureList?
    ) -> Int32 {
        code.withUnsafeBufferPointer { code in
            literals.withUnsafeBufferPointer { literals in
                entries.withUnsafeBufferPointer { entries in
                    // Failures go to the stack, then into one array of the exact size.
                    withUnsafeTemporaryAllocation(of: Explanation.Failure.self, capacity: max(rules.count, 1)) {
                        buffer in
                        let out = buffer.baseAddress!
                        var count = 0
                        var fired: Int32 = -1
                        var context = Context(code: code, literals: literals, dossier: dossier, facts: facts)
                        for r in rules {
                            let verdict = ConditionProgram.run(entries[Int(r)], &context)
                            if verdict.isTrue {
                                fired = r
                                break
                            }
                            (out + count).initialize(
                                to: Explanation.Failure(rule: r, node: verdict.node, why: verdict.why))
                            count += 1
                        }
                        if count > 0 {
                            failures = Explanation.FailureList.make(moving: out, count: count)
                        }
                        return fired
                    }
                }
            }
        }
    }

    /// The first rule of `plan` whose condition holds (its index in the table), or -1; each failure before it is
    /// packed into `packed` (`plan.packs` must hold): the position of the leaf that decided it within the rule,
    /// and the leaf's `test` result (see `Explanation.PackedFailures`). Nothing is allocated.
    ///
    /// Each specialised step answers as `test` would for the leaf; when the fact's loaded form is not the one
    /// it expects, it asks `test`.
    func firstHolding(
        _ plan: CompiledRules.Plan, _ dossier: UnsafePointer<Dossier>, _ facts: Facts,
        packed: inout Explanation.PackedFailures
    ) -> Int32 {
        code.withUnsafeBufferPointer { code in
            literals.withUnsafeBufferPointer { literals in
                plan.steps.withUnsafeBufferPointer { steps in
                    var context = Context(code: code, literals: literals, dossier: dossier, facts: facts)
                    return ConditionProgram.run(steps.baseAddress!, &context, packed: &packed)
                }
            }
        }
    }

    /// Runs the steps of a plan from the first: a rule that fails records its failure and continues with the
    /// next rule; the first rule that holds ends the run (its index), as does the last failure (-1).
    @inline(__always)
    private static func run(
        _ steps: UnsafePointer<Step>, _ c: UnsafePointer<Context>, packed: inout Explanation.PackedFailures
    ) -> Int32 {
        let loaded = c.pointee.facts.loaded.baseAddress!
        let code = c.pointee.code.baseAddress!
        var w0: UInt64 = 0
        var w1: UInt64 = 0
        var pc = 0
        var fired: Int32 = -1
        while true {
            let s = steps + pc
            var why: LeafResult
            switch s.pointee.op {
            case .always:
                why = .holds
            case .orderInt:
                let l = loaded + Int(s.pointee.slot)
                let kind = l.pointee.kind
                if kind == .integer {
                    why = Order.of(l.pointee.bits, s.pointee.bits) & s.pointee.flag != 0 ? .holds : .isFalse
                } else if kind == .number && !l.pointee.number.isNaN {
                    why = Order.of(l.pointee.number, s.pointee.number) & s.pointee.flag != 0 ? .holds : .isFalse
                } else {
                    why = test(code + Int(s.pointee.leaf), c)
                }
            case .orderNumber:
                let l = loaded + Int(s.pointee.slot)
                let a = l.pointee.number
                let b = s.pointee.number
                if l.pointee.kind.isNumeric && !a.isNaN && !b.isNaN {
                    why = Order.of(a, b) & s.pointee.flag != 0 ? .holds : .isFalse
                } else {
                    why = test(code + Int(s.pointee.leaf), c)
                }
            case .member:
                let l = loaded + Int(s.pointee.slot)
                if l.pointee.kind == .string {
                    let id = l.pointee.bits
                    let found = id >= 0 && (s.pointee.mask >> UInt64(id)) & 1 != 0
                    why = found == s.pointee.polarity ? .holds : .isFalse
                } else {
                    why = test(code + Int(s.pointee.leaf), c)
                }
            case .memberField:
                let id = loaded[Int(s.pointee.slot)].bits
                let found = id >= 0 && (s.pointee.mask >> UInt64(id)) & 1 != 0
                why = found == s.pointee.polarity ? .holds : .isFalse
            case .channel:
                why = byCase(channelIndex(c.pointee.dossier.pointee.channel), s.pointee.mask)
            case .applicantKind:
                why = byCase(kindIndex(c.pointee.dossier.pointee.applicant.kind), s.pointee.mask)
            case .boolean:
                let l = loaded + Int(s.pointee.slot)
                if l.pointee.kind == .boolean {
                    why = (l.pointee.bits == s.pointee.bits) == s.pointee.polarity ? .holds : .isFalse
                } else {
                    why = test(code + Int(s.pointee.leaf), c)
                }
            case .general:
                why = test(code + Int(s.pointee.leaf), c)
            }
            // A branch, not a select: the next step is then predicted instead of waiting for this one's answer
            // (folded into a select of the jump's address, the loop ran a fifth slower). Most leaves of a table
            // fail.
            let next: Int32
            if _fastPath(why != .holds) {
                next = s.pointee.onFalse
            } else {
                next = s.pointee.onTrue
            }
            if next >= 0 {
                pc = Int(next)
                continue
            }
            if next == jumpHolds {
                fired = s.pointee.rule
                break
            }
            let failure = s.pointee.local | UInt64(why.rawValue)
            let offset = s.pointee.packOffset
            if offset < 64 {
                w0 |= failure << UInt64(offset)
            } else {
                w1 |= failure << UInt64(offset & 63)
            }
            let nextRule = s.pointee.nextRule
            if nextRule < 0 { break }
            pc = Int(nextRule)
        }
        packed = Explanation.PackedFailures(w0: w0, w1: w1)
        return fired
    }

    /// A failure packed by `firstHolding(_:_:_:packed:)` for the rule starting at `entry`, as a verdict.
    func verdict(packed bits: Int, entry: Int32) -> Verdict {
        let leaf = code[Int(entry) + bits >> 2]
        let result = LeafResult(bits: UInt8(truncatingIfNeeded: bits))
        let next = result == .holds ? leaf.onTrue : leaf.onFalse
        if next == ConditionProgram.jumpOwn, let why = result.why { return Verdict(node: leaf.node, why: why) }
        return Verdict(node: -3 - next, why: .isFalse)
    }

    /// Runs the leaves of one condition from `entry`, following their jumps: the loop ends at `jumpHolds` or a
    /// failure (jumps only go forward).
    @inline(__always)
    static func run(_ entry: Int32, _ c: UnsafePointer<Context>) -> Verdict {
        let code = c.pointee.code.baseAddress!
        var pc = Int(entry)
        while true {
            let leaf = code + pc
            let result = test(leaf, c)
            let next = result == .holds ? leaf.pointee.onTrue : leaf.pointee.onFalse
            if next >= 0 {
                pc = Int(next)
                continue
            }
            if next == jumpHolds { return .holds }
            if next == jumpOwn, let why = result.why { return Verdict(node: leaf.pointee.node, why: why) }
            return Verdict(node: -3 - next, why: .isFalse)
        }
    }

    /// What leaf `leaf` answers for the dossier and facts of `c`.
    @inline(__always)
    static func test(_ leaf: UnsafePointer<Instruction>, _ c: UnsafePointer<Context>) -> LeafResult {
        let n = leaf
        switch n.pointee.kind {
        case .always:
            return .holds
        case .all:  // empty
            return .holds
        case .any:  // empty
            return .isFalse
        case .not:  // not a leaf
            return .typeMismatch
        case .procedure:
            if n.pointee.precomputed != .nothing {
                return member(c.pointee.facts.loaded[Int(n.pointee.slot)].bits, n)
            }
            return LeafResult(
                compareString(
                    c.pointee.dossier.pointee.procedure, n.pointee.op, c.pointee.literals[Int(n.pointee.literal)]))
        case .channel:
            return byCase(channelIndex(c.pointee.dossier.pointee.channel), n.pointee.mask)
        case .commune:
            if n.pointee.precomputed != .nothing {
                return member(c.pointee.facts.loaded[Int(n.pointee.slot)].bits, n)
            }
            return LeafResult(
                compareString(
                    c.pointee.dossier.pointee.commune, n.pointee.op, c.pointee.literals[Int(n.pointee.literal)]))
        case .applicantKind:
            return byCase(kindIndex(c.pointee.dossier.pointee.applicant.kind), n.pointee.mask)
        case .documents:
            return LeafResult(
                documents(
                    c.pointee.dossier.pointee.documents, n.pointee.op, c.pointee.literals[Int(n.pointee.literal)]))
        case .fact:
            let slot = Int(n.pointee.slot)
            let loaded = c.pointee.facts.loaded.baseAddress! + slot
            let kind = loaded.pointee.kind
            let order = n.pointee.order
            if order != Order.never {
                // A number against a number literal: compare once, test the precomputed mask.
                if kind == .integer && n.pointee.literalKind == .integer {
                    return Order.of(loaded.pointee.bits, n.pointee.bits) & order != 0 ? .holds : .isFalse
                }
                if kind.isNumeric {
                    let a = loaded.pointee.number
                    let b = n.pointee.number
                    if !a.isNaN && !b.isNaN {
                        return Order.of(a, b) & order != 0 ? .holds : .isFalse
                    }
                }
            }
            let op = n.pointee.op
            let literalKind = n.pointee.literalKind
            if kind == .absent {
                if op == .exists, n.pointee.bits == 0, literalKind == .boolean { return .holds }
                return .missing
            }
            if op == .exists { return n.pointee.bits != 0 ? .holds : .isFalse }
            if kind == .string && n.pointee.precomputed != .nothing { return member(loaded.pointee.bits, n) }
            if kind.isNumeric && (literalKind == .integer || literalKind == .number) && op != .in && op != .notIn {
                if kind == .integer && literalKind == .integer {
                    return LeafResult(ordered(loaded.pointee.bits, n.pointee.bits, op))
                }
                return LeafResult(ordered(loaded.pointee.number, n.pointee.number, op))
            }
            if kind == .boolean && literalKind == .boolean && (op == .eq || op == .ne) {
                let same = loaded.pointee.bits == n.pointee.bits
                return same == (op == .eq) ? .holds : .isFalse
            }
            guard let value = c.pointee.facts.value(slot) else { return .missing }
            return LeafResult(compare(value, op, c.pointee.literals[Int(n.pointee.literal)]))
        }
    }

    /// An interned string `id` against a string condition (`precomputed` `inMask` or `notInMask`).
    @inline(__always)
    private static func member(_ id: Int64, _ node: UnsafePointer<Instruction>) -> LeafResult {
        let found = id >= 0 && (node.pointee.mask >> UInt64(id)) & 1 != 0
        return found == (node.pointee.precomputed == .inMask) ? .holds : .isFalse
    }

    /// A condition on an enum field, answered per case when compiled.
    @inline(__always)
    static func byCase(_ c: Int, _ table: UInt64) -> LeafResult {
        LeafResult(bits: UInt8(truncatingIfNeeded: table >> UInt64(2 * c)))
    }

    @inline(__always)
    static func channelIndex(_ channel: Dossier.Channel) -> Int {
        switch channel {
        case .online: return 0
        case .counter: return 1
        case .post: return 2
        }
    }

    @inline(__always)
    static func kindIndex(_ kind: Dossier.Applicant.Kind) -> Int {
        switch kind {
        case .citizen: return 0
        case .household: return 1
        case .enterprise: return 2
        case .organisation: return 3
        }
    }
}
