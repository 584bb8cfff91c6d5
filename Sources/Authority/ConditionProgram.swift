/// Conditions compiled to a flat node array with fact names resolved to slots.
///
/// A dossier's facts are looked up once per evaluation (only those the applicable rules read) into a slot
/// buffer; the nodes then read slots by index. Nothing is interpreted from dictionaries per dossier.
final class ConditionProgram: Sendable {
    /// Why a condition did not hold.
    enum Why: UInt8, Sendable {
        case isFalse = 0
        case missing = 1
        case typeMismatch = 2

        var text: String {
            switch self {
            case .isFalse: return "false"
            case .missing: return "field missing"
            case .typeMismatch: return "type mismatch"
            }
        }
    }

    /// Result of a condition: holds, or the node that decided it does not.
    struct Verdict: Sendable, Equatable {
        var node: Int32
        var why: Why

        static let holds = Verdict(node: -1, why: .isFalse)
        var isTrue: Bool { node < 0 }
    }

    enum Literal: Sendable {
        case string(String)
        case integer(Int64)
        case number(Double)
        case bool(Bool)
        case null
        case strings([String])
        case values([FactValue])

        init(_ value: FactValue) {
            switch value {
            case .string(let s): self = .string(s)
            case .integer(let i): self = .integer(i)
            case .number(let d): self = .number(d)
            case .bool(let b): self = .bool(b)
            case .null: self = .null
            case .array(let items):
                let strings = items.compactMap { v -> String? in
                    if case .string(let s) = v { return s }
                    return nil
                }
                self = strings.count == items.count ? .strings(strings) : .values(items)
            }
        }
    }

    enum Kind: UInt8, Sendable {
        case always, all, any, not, procedure, channel, commune, applicantKind, documents, fact
    }

    struct Instruction: Sendable {
        var kind: Kind
        var op: Condition.Operator
        /// Fact slot for `.fact`.
        var slot: Int32
        /// Children of all/any/not: a range of `children`.
        var firstChild: Int32
        var childCount: Int32
        /// Index into `literals` for comparisons.
        var literal: Int32
        /// The literal again when it is a number or a boolean, so that the common comparisons read plain data:
        /// kind 0 other, 1 integer (`bits`), 2 number (`number`), 3 boolean (`bits` 0 or 1).
        var literalKind: UInt8 = 0
        var bits: Int64 = 0
        var number: Double = 0
    }

    /// A fact loaded for one evaluation: numbers and booleans as plain data, anything else in `FactValue` form.
    struct Loaded {
        /// 0 absent, 1 integer, 2 number, 3 boolean, 4 other (in the side buffer).
        var kind: UInt8
        var bits: Int64
        var number: Double
    }

    /// Plain data only, so that reading one copies no references.
    let instructions: [Instruction]
    let literals: [Literal]
    /// The source condition of each instruction, for explanations.
    let sources: [Condition]
    let children: [Int32]
    /// Slot index → fact name.
    let factNames: [String]
    /// Root node of each compiled condition, in the order given.
    let roots: [Int32]
    /// Fact slots each root reads.
    let slotsOfRoot: [[Int32]]

    init(conditions: [Condition]) {
        var instructions: [Instruction] = []
        var literals: [Literal] = []
        var sources: [Condition] = []
        var children: [Int32] = []
        var factNames: [String] = []
        var slotOfName: [String: Int32] = [:]
        var roots: [Int32] = []
        var slotsOfRoot: [[Int32]] = []

        func emit(_ condition: Condition, slots: inout Set<Int32>) -> Int32 {
            let index = Int32(instructions.count)
            instructions.append(
                Instruction(
                    kind: .always, op: .eq, slot: -1, firstChild: 0, childCount: 0, literal: -1))
            sources.append(condition)
            switch condition {
            case .always:
                break
            case .all(let cs), .any(let cs):
                let ids = cs.map { emit($0, slots: &slots) }
                instructions[Int(index)].kind = condition.isAll ? .all : .any
                instructions[Int(index)].firstChild = Int32(children.count)
                instructions[Int(index)].childCount = Int32(ids.count)
                children.append(contentsOf: ids)
            case .not(let c):
                let id = emit(c, slots: &slots)
                instructions[Int(index)].kind = .not
                instructions[Int(index)].firstChild = Int32(children.count)
                instructions[Int(index)].childCount = 1
                children.append(id)
            case .compare(let field, let op, let value):
                var instruction = instructions[Int(index)]
                instruction.op = op
                instruction.literal = Int32(literals.count)
                literals.append(Literal(value))
                switch value {
                case .integer(let i):
                    instruction.literalKind = 1
                    instruction.bits = i
                    instruction.number = Double(i)
                case .number(let d):
                    instruction.literalKind = 2
                    instruction.number = d
                case .bool(let b):
                    instruction.literalKind = 3
                    instruction.bits = b ? 1 : 0
                default:
                    break
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
                        instruction.slot = Int32(factNames.count)
                        slotOfName[name] = instruction.slot
                        factNames.append(name)
                    }
                    slots.insert(instruction.slot)
                }
                instructions[Int(index)] = instruction
            }
            return index
        }

        for condition in conditions {
            var slots = Set<Int32>()
            roots.append(emit(condition, slots: &slots))
            slotsOfRoot.append(slots.sorted())
        }
        self.instructions = instructions
        self.literals = literals
        self.sources = sources
        self.children = children
        self.factNames = factNames
        var buckets = [Int32](repeating: -1, count: ConditionProgram.bucketCount)
        var chain = [Int32](repeating: -1, count: factNames.count)
        for (slot, name) in factNames.enumerated().reversed() {
            let b = ConditionProgram.bucket(name)
            chain[slot] = buckets[b]
            buckets[b] = Int32(slot)
        }
        self.buckets = buckets
        self.chain = chain
        self.roots = roots
        self.slotsOfRoot = slotsOfRoot
    }

    /// Evaluates one root on its own (delegation conditions).
    func evaluate(root: Int, _ dossier: Dossier) -> Verdict {
        withUnsafePointer(to: dossier) { d in evaluate(root: root, d) }
    }

    func evaluate(root: Int, _ d: UnsafePointer<Dossier>) -> Verdict {
        withFacts(of: d, slots: slotsOfRoot[root]) { facts in evaluate(node: roots[root], d, facts) }
    }

    /// Runs `body` with the dossier's facts in `slots` loaded into a stack buffer.
    ///
    /// The dossier travels as a pointer: captured by value in these closures it was copied (every field retained)
    /// for each rule, which dominated the profile.
    func withFacts<R>(of dossier: UnsafePointer<Dossier>, slots: [Int32], _ body: (Facts) -> R) -> R {
        let count = max(factNames.count, 1)
        return withUnsafeTemporaryAllocation(of: Loaded.self, capacity: count) { loaded in
            withUnsafeTemporaryAllocation(of: FactValue?.self, capacity: count) { others in
                let l = loaded.baseAddress!
                let o = others.baseAddress!
                l.initialize(repeating: Loaded(kind: 0, bits: 0, number: 0), count: count)
                // `others[slot]` is initialized only where `loaded[slot].kind == 4`; most facts are numbers.
                defer {
                    for slot in 0..<count where l[slot].kind == 4 { (o + slot).deinitialize(count: 1) }
                }
                loadFacts(dossier, loaded: l, others: o, slots: slots)
                return body(Facts(loaded: UnsafeBufferPointer(loaded), others: UnsafeBufferPointer(others)))
            }
        }
    }

    /// The facts of one evaluation, by slot.
    struct Facts {
        var loaded: UnsafeBufferPointer<Loaded>
        var others: UnsafeBufferPointer<FactValue?>

        func value(_ slot: Int) -> FactValue? {
            switch loaded[slot].kind {
            case 0: return nil
            case 1: return .integer(loaded[slot].bits)
            case 2: return .number(loaded[slot].number)
            case 3: return .bool(loaded[slot].bits != 0)
            default: return others[slot]
            }
        }
    }

    /// Buckets of a small open hash over fact names keyed by length and first and last bytes: cheaper than
    /// hashing every name with SipHash, which dominated the evaluation profile.
    private static let bucketCount = 64
    private let buckets: [Int32]
    private let chain: [Int32]

    @inline(__always)
    private static func bucket(_ name: String) -> Int {
        let hash =
            name.utf8.withContiguousStorageIfAvailable { b -> Int in
                guard let first = b.first, let last = b.last else { return 0 }
                return b.count &* 7 &+ Int(first) &* 13 &+ Int(last) &* 31
            } ?? slowHash(name)
        return hash & (bucketCount - 1)
    }

    private static func slowHash(_ name: String) -> Int {
        let utf8 = Array(name.utf8)
        guard let first = utf8.first, let last = utf8.last else { return 0 }
        return utf8.count &* 7 &+ Int(first) &* 13 &+ Int(last) &* 31
    }

    @inline(__always)
    private static func store(
        _ value: FactValue, _ slot: Int, _ loaded: UnsafeMutablePointer<Loaded>,
        _ others: UnsafeMutablePointer<FactValue?>
    ) {
        switch value {
        case .integer(let i): loaded[slot] = Loaded(kind: 1, bits: i, number: Double(i))
        case .number(let d): loaded[slot] = Loaded(kind: 2, bits: 0, number: d)
        case .bool(let b): loaded[slot] = Loaded(kind: 3, bits: b ? 1 : 0, number: 0)
        default:
            if loaded[slot].kind == 4 {
                others[slot] = value
            } else {
                (others + slot).initialize(to: value)
            }
            loaded[slot] = Loaded(kind: 4, bits: 0, number: 0)
        }
    }

    /// Loads the dossier's value of each fact in `slots` (the buffers hold absent values on entry).
    func loadFacts(
        _ dossier: UnsafePointer<Dossier>, loaded: UnsafeMutablePointer<Loaded>,
        others: UnsafeMutablePointer<FactValue?>,
        slots: [Int32]
    ) {
        guard !slots.isEmpty else { return }
        if dossier.pointee.facts.count <= 2 * slots.count {
            // Walk the dossier's facts (no hashing) and find each name's slot in the small table.
            buckets.withUnsafeBufferPointer { buckets in
                chain.withUnsafeBufferPointer { chain in
                    for (name, value) in dossier.pointee.facts {
                        var slot = buckets[ConditionProgram.bucket(name)]
                        while slot >= 0 {
                            if factNames[Int(slot)] == name {
                                ConditionProgram.store(value, Int(slot), loaded, others)
                                break
                            }
                            slot = chain[Int(slot)]
                        }
                    }
                }
            }
        } else {
            for slot in slots {
                if let value = dossier.pointee.facts[factNames[Int(slot)]] {
                    ConditionProgram.store(value, Int(slot), loaded, others)
                }
            }
        }
    }

    /// Evaluates node `index` with facts already loaded (by slot).
    func evaluate(node index: Int32, _ dossier: UnsafePointer<Dossier>, _ facts: Facts) -> Verdict {
        instructions.withUnsafeBufferPointer { nodes in
            children.withUnsafeBufferPointer { kids in
                literals.withUnsafeBufferPointer { literals in
                    ConditionProgram.run(index, nodes, kids, literals, dossier, facts)
                }
            }
        }
    }

    /// The first of `rules` (roots) whose condition holds, or -1; records each failure before it.
    func firstHolding(
        _ rules: [Int32], _ dossier: UnsafePointer<Dossier>, _ facts: Facts, failures: inout [Explanation.Failure]
    ) -> Int32 {
        instructions.withUnsafeBufferPointer { nodes in
            children.withUnsafeBufferPointer { kids in
                literals.withUnsafeBufferPointer { literals in
                    roots.withUnsafeBufferPointer { roots in
                        for r in rules {
                            let verdict = ConditionProgram.run(roots[Int(r)], nodes, kids, literals, dossier, facts)
                            if verdict.isTrue { return r }
                            if failures.isEmpty { failures.reserveCapacity(rules.count) }
                            failures.append(Explanation.Failure(rule: r, node: verdict.node, why: verdict.why))
                        }
                        return -1
                    }
                }
            }
        }
    }

    static func run(
        _ index: Int32, _ nodes: UnsafeBufferPointer<Instruction>, _ kids: UnsafeBufferPointer<Int32>,
        _ literals: UnsafeBufferPointer<Literal>, _ dossier: UnsafePointer<Dossier>, _ facts: Facts
    ) -> Verdict {
        let i = Int(index)
        switch nodes[i].kind {
        case .always:
            return .holds
        case .all:
            let first = Int(nodes[i].firstChild)
            for k in first..<(first + Int(nodes[i].childCount)) {
                let v = run(kids[k], nodes, kids, literals, dossier, facts)
                if !v.isTrue { return v }
            }
            return .holds
        case .any:
            let first = Int(nodes[i].firstChild)
            for k in first..<(first + Int(nodes[i].childCount))
            where run(kids[k], nodes, kids, literals, dossier, facts).isTrue {
                return .holds
            }
            return Verdict(node: index, why: .isFalse)
        case .not:
            let v = run(kids[Int(nodes[i].firstChild)], nodes, kids, literals, dossier, facts)
            return v.isTrue ? Verdict(node: index, why: .isFalse) : .holds
        case .procedure:
            return verdict(
                compareString(dossier.pointee.procedure, nodes[i].op, literals[Int(nodes[i].literal)]), index)
        case .channel:
            return verdict(
                compareString(dossier.pointee.channel.rawValue, nodes[i].op, literals[Int(nodes[i].literal)]), index)
        case .commune:
            return verdict(compareString(dossier.pointee.commune, nodes[i].op, literals[Int(nodes[i].literal)]), index)
        case .applicantKind:
            return verdict(
                compareString(dossier.pointee.applicant.kind.rawValue, nodes[i].op, literals[Int(nodes[i].literal)]),
                index)
        case .documents:
            return verdict(documents(dossier.pointee.documents, nodes[i].op, literals[Int(nodes[i].literal)]), index)
        case .fact:
            let slot = Int(nodes[i].slot)
            let kind = facts.loaded[slot].kind
            let op = nodes[i].op
            if kind == 0 {
                if op == .exists, nodes[i].bits == 0, nodes[i].literalKind == 3 { return .holds }
                return Verdict(node: index, why: .missing)
            }
            if op == .exists { return nodes[i].bits != 0 ? .holds : Verdict(node: index, why: .isFalse) }
            let literalKind = nodes[i].literalKind
            if (kind == 1 || kind == 2) && (literalKind == 1 || literalKind == 2) && op != .in && op != .notIn {
                if kind == 1 && literalKind == 1 {
                    return verdict(ordered(facts.loaded[slot].bits, nodes[i].bits, op), index)
                }
                return verdict(ordered(facts.loaded[slot].number, nodes[i].number, op), index)
            }
            if kind == 3 && literalKind == 3 && (op == .eq || op == .ne) {
                let same = facts.loaded[slot].bits == nodes[i].bits
                return (same == (op == .eq)) ? .holds : Verdict(node: index, why: .isFalse)
            }
            guard let value = facts.value(slot) else { return Verdict(node: index, why: .missing) }
            return verdict(compare(value, op, literals[Int(nodes[i].literal)]), index)
        }
    }

    @inline(__always)
    private static func verdict(_ r: Why?, _ index: Int32) -> Verdict {
        guard let r else { return .holds }
        return Verdict(node: index, why: r)
    }

    /// nil when the comparison holds, otherwise why not.
    private static func compareString(_ s: String, _ op: Condition.Operator, _ literal: Literal) -> Why? {
        switch (op, literal) {
        case (.exists, .bool(let b)): return b ? nil : .isFalse
        case (.eq, .string(let l)): return s == l ? nil : .isFalse
        case (.ne, .string(let l)): return s != l ? nil : .isFalse
        case (.in, .strings(let ls)): return ls.contains(s) ? nil : .isFalse
        case (.notIn, .strings(let ls)): return ls.contains(s) ? .isFalse : nil
        case (.lt, .string(let l)): return s < l ? nil : .isFalse
        case (.lte, .string(let l)): return s <= l ? nil : .isFalse
        case (.gt, .string(let l)): return s > l ? nil : .isFalse
        case (.gte, .string(let l)): return s >= l ? nil : .isFalse
        case (.in, .values(let vs)):
            return vs.contains(.string(s)) ? nil : .isFalse
        case (.notIn, .values(let vs)):
            return vs.contains(.string(s)) ? .isFalse : nil
        default: return .typeMismatch
        }
    }

    private static func documents(_ documents: [String], _ op: Condition.Operator, _ literal: Literal) -> Why? {
        switch (op, literal) {
        case (.exists, .bool(let b)): return documents.isEmpty == !b ? nil : .isFalse
        case (.eq, .string(let l)), (.in, .string(let l)): return documents.contains(l) ? nil : .isFalse
        case (.ne, .string(let l)), (.notIn, .string(let l)): return documents.contains(l) ? .isFalse : nil
        case (.in, .strings(let ls)): return documents.contains(where: ls.contains) ? nil : .isFalse
        case (.notIn, .strings(let ls)): return documents.contains(where: ls.contains) ? .isFalse : nil
        default: return .typeMismatch
        }
    }

    private static func compare(_ value: FactValue, _ op: Condition.Operator, _ literal: Literal) -> Why? {
        if op == .exists {
            guard case .bool(let b) = literal else { return .typeMismatch }
            return b ? nil : .isFalse
        }
        switch value {
        case .string(let s):
            return compareString(s, op, literal)
        case .integer(let i):
            switch literal {
            case .integer(let l): return ordered(i, l, op)
            case .number(let l): return ordered(Double(i), l, op)
            case .values(let vs): return membership(value, vs, op)
            default: return .typeMismatch
            }
        case .number(let d):
            switch literal {
            case .integer(let l): return ordered(d, Double(l), op)
            case .number(let l): return ordered(d, l, op)
            case .values(let vs): return membership(value, vs, op)
            default: return .typeMismatch
            }
        case .bool(let b):
            switch (op, literal) {
            case (.eq, .bool(let l)): return b == l ? nil : .isFalse
            case (.ne, .bool(let l)): return b != l ? nil : .isFalse
            case (.in, .values(let vs)), (.notIn, .values(let vs)): return membership(value, vs, op)
            default: return .typeMismatch
            }
        case .null:
            switch (op, literal) {
            case (.eq, .null): return nil
            case (.ne, .null): return .isFalse
            default: return .missing
            }
        case .array(let items):
            // A list fact holds `eq x` / `in [..]` when one of its items does, `notIn` / `ne` when none does.
            switch op {
            case .eq, .in:
                for item in items where compare(item, op, literal) == nil { return nil }
                return .isFalse
            case .ne, .notIn:
                let positive: Condition.Operator = op == .ne ? .eq : .in
                for item in items where compare(item, positive, literal) == nil { return .isFalse }
                return nil
            default:
                return .typeMismatch
            }
        }
    }

    private static func membership(_ value: FactValue, _ list: [FactValue], _ op: Condition.Operator) -> Why? {
        var found = false
        for item in list where compare(value, .eq, Literal(item)) == nil {
            found = true
            break
        }
        switch op {
        case .in: return found ? nil : .isFalse
        case .notIn: return found ? .isFalse : nil
        default: return .typeMismatch
        }
    }

    @inline(__always)
    private static func ordered<T: Comparable>(_ a: T, _ b: T, _ op: Condition.Operator) -> Why? {
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
}

extension Condition {
    var isAll: Bool {
        if case .all = self { return true }
        return false
    }
}
