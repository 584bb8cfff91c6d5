extension ConditionProgram {
    /// Conditions as a node tree, before flattening: what `compile` makes of them.
    struct Tree {
        var instructions: [Instruction] = []
        var literals: [Literal] = []
        var sources: [Condition] = []
        var children: [Int32] = []
        var factNames: [String] = []
        var roots: [Int32] = []
        var slotsOfRoot: [[Int32]] = []
        var communeSlot: Int32 = -1
        var procedureSlot: Int32 = -1
        var slotCount = 0
        /// Per slot, the distinct strings it is compared with (eq, ne, in, notIn), in order of first use.
        var interned: [[String]] = []
    }

    /// Compiles conditions into nodes (pre-order), fact names into slots, and the string comparisons into
    /// precomputed answers over interned ids.
    static func compile(_ conditions: [Condition]) -> Tree {
        var tree = Tree()
        var slotOfName: [String: Int32] = [:]

        func emit(_ condition: Condition, slots: inout Set<Int32>) -> Int32 {
            let index = Int32(tree.instructions.count)
            tree.instructions.append(
                Instruction(
                    kind: .always, op: .eq, slot: -1, firstChild: 0, childCount: 0, literal: -1))
            tree.sources.append(condition)
            switch condition {
            case .always:
                break
            case .all(let cs), .any(let cs):
                let ids = cs.map { emit($0, slots: &slots) }
                tree.instructions[Int(index)].kind = condition.isAll ? .all : .any
                tree.instructions[Int(index)].firstChild = Int32(tree.children.count)
                tree.instructions[Int(index)].childCount = Int32(ids.count)
                tree.children.append(contentsOf: ids)
            case .not(let c):
                let id = emit(c, slots: &slots)
                tree.instructions[Int(index)].kind = .not
                tree.instructions[Int(index)].firstChild = Int32(tree.children.count)
                tree.instructions[Int(index)].childCount = 1
                tree.children.append(id)
            case .compare(let field, let op, let value):
                var instruction = tree.instructions[Int(index)]
                instruction.op = op
                instruction.literal = Int32(tree.literals.count)
                tree.literals.append(Literal(value))
                instruction.order = Order.mask(op)
                switch value {
                case .integer(let i):
                    instruction.literalKind = .integer
                    instruction.bits = i
                    instruction.number = Double(i)
                case .number(let d):
                    instruction.literalKind = .number
                    instruction.number = d
                case .bool(let b):
                    instruction.literalKind = .boolean
                    instruction.bits = b ? 1 : 0
                    instruction.order = Order.never
                default:
                    instruction.order = Order.never
                }
                switch field {
                case .procedure: instruction.kind = .procedure
                case .channel: instruction.kind = .channel
                case .commune: instruction.kind = .commune
                case .applicantKind: instruction.kind = .applicantKind
                case .documents: instruction.kind = .documents
                case .fact(let name):
                    instruction.kind = .fact
                    if let slot = slotOfName[name] {
                        instruction.slot = slot
                    } else {
                        instruction.slot = Int32(tree.factNames.count)
                        slotOfName[name] = instruction.slot
                        tree.factNames.append(name)
                    }
                    slots.insert(instruction.slot)
                }
                tree.instructions[Int(index)] = instruction
            }
            return index
        }

        for condition in conditions {
            var slots = Set<Int32>()
            tree.roots.append(emit(condition, slots: &slots))
            tree.slotsOfRoot.append(slots.sorted())
        }
        internStrings(&tree)
        return tree
    }

    /// The strings a comparison tests for equality (eq, ne, in, notIn), or nil.
    private static func strings(_ op: Condition.Operator, _ literal: Literal) -> [String]? {
        switch (op, literal) {
        case (.eq, .string(let l)), (.ne, .string(let l)): return [l]
        case (.in, .strings(let ls)), (.notIn, .strings(let ls)): return ls
        case (.in, .values(let vs)), (.notIn, .values(let vs)):
            return vs.compactMap { v -> String? in
                if case .string(let s) = v { return s }
                return nil
            }
        default: return nil
        }
    }

    /// String fields get slots after the facts; every compared string gets an id within its slot, and each
    /// comparison of a string (and of the channel and the applicant kind) a precomputed answer.
    private static func internStrings(_ tree: inout Tree) {
        var slotCount = tree.factNames.count
        for i in tree.instructions.indices {
            let kind = tree.instructions[i].kind
            guard kind == .fact || kind == .commune || kind == .procedure,
                strings(tree.instructions[i].op, tree.literals[Int(tree.instructions[i].literal)]) != nil
            else { continue }
            if kind == .commune {
                if tree.communeSlot < 0 {
                    tree.communeSlot = Int32(slotCount)
                    slotCount += 1
                }
                tree.instructions[i].slot = tree.communeSlot
            } else if kind == .procedure {
                if tree.procedureSlot < 0 {
                    tree.procedureSlot = Int32(slotCount)
                    slotCount += 1
                }
                tree.instructions[i].slot = tree.procedureSlot
            }
        }
        tree.slotCount = slotCount
        var interned = [[String]](repeating: [], count: slotCount)
        for i in tree.instructions.indices {
            let kind = tree.instructions[i].kind
            guard kind == .fact || kind == .commune || kind == .procedure,
                let list = strings(tree.instructions[i].op, tree.literals[Int(tree.instructions[i].literal)])
            else { continue }
            let slot = Int(tree.instructions[i].slot)
            // Equal (canonically equivalent) strings share an id, so the first match is the only one.
            for string in list where !interned[slot].contains(string) { interned[slot].append(string) }
        }
        for i in tree.instructions.indices where tree.instructions[i].literal >= 0 {
            let kind = tree.instructions[i].kind
            let op = tree.instructions[i].op
            let literal = tree.literals[Int(tree.instructions[i].literal)]
            switch kind {
            case .fact, .commune, .procedure:
                let slot = Int(tree.instructions[i].slot)
                guard let list = strings(op, literal), interned[slot].count <= InternedStrings.maximumPerSlot else {
                    continue
                }
                var mask: UInt64 = 0
                for string in list {
                    let id = interned[slot].firstIndex(of: string)!
                    mask |= 1 << UInt64(id)
                }
                tree.instructions[i].mask = mask
                tree.instructions[i].precomputed = op == .eq || op == .in ? .inMask : .notInMask
            case .channel, .applicantKind:
                let names =
                    kind == .channel
                    ? Dossier.Channel.allCases.map(\.rawValue) : Dossier.Applicant.Kind.allCases.map(\.rawValue)
                var mask: UInt64 = 0
                for (c, name) in names.enumerated() {
                    let result = LeafResult(compareString(name, op, literal))
                    mask |= UInt64(result.rawValue) << UInt64(2 * c)
                }
                tree.instructions[i].mask = mask
                tree.instructions[i].precomputed = .byCase
            default:
                continue
            }
        }
        tree.interned = interned
    }

    /// Compiles the node tree into leaves with jump targets (see `Instruction.onTrue`).
    static func flatten(_ nodes: [Instruction], _ children: [Int32], _ roots: [Int32]) -> (
        ContiguousArray<Instruction>, [Int32]
    ) {
        func isLeaf(_ n: Instruction) -> Bool {
            switch n.kind {
            case .all, .any: return n.childCount == 0
            case .not: return false
            default: return true
            }
        }
        var code = ContiguousArray<Instruction>()
        var position = [Int32](repeating: -1, count: nodes.count)
        // Nodes are numbered in pre-order, so the leaves are too, and every jump goes forward.
        for (i, n) in nodes.enumerated() where isLeaf(n) {
            position[i] = Int32(code.count)
            var leaf = n
            leaf.node = Int32(i)
            code.append(leaf)
        }
        func start(_ n: Int32) -> Int32 {
            let node = nodes[Int(n)]
            return isLeaf(node) ? position[Int(n)] : start(children[Int(node.firstChild)])
        }
        func fixed(_ target: Int32, _ n: Int32) -> Int32 { target == jumpOwn ? -3 - n : target }
        func generate(_ n: Int32, _ onTrue: Int32, _ onFalse: Int32) {
            let node = nodes[Int(n)]
            let first = Int(node.firstChild)
            let count = Int(node.childCount)
            if isLeaf(node) {
                code[Int(position[Int(n)])].onTrue = onTrue
                code[Int(position[Int(n)])].onFalse = onFalse
                return
            }
            switch node.kind {
            case .all:
                for k in 0..<count {
                    generate(children[first + k], k + 1 < count ? start(children[first + k + 1]) : onTrue, onFalse)
                }
            case .any:
                let fails = fixed(onFalse, n)
                for k in 0..<count {
                    generate(children[first + k], onTrue, k + 1 < count ? start(children[first + k + 1]) : fails)
                }
            default:  // not
                generate(children[first], fixed(onFalse, n), onTrue)
            }
        }
        for root in roots { generate(root, jumpHolds, jumpOwn) }
        return (code, roots.map(start))
    }
}

extension Condition {
    var isAll: Bool {
        if case .all = self { return true }
        return false
    }
}
