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
        var literal: Literal
    }

    let instructions: [Instruction]
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
                    kind: .always, op: .eq, slot: -1, firstChild: 0, childCount: 0, literal: .null))
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
                instruction.literal = Literal(value)
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
        self.sources = sources
        self.children = children
        self.factNames = factNames
        self.roots = roots
        self.slotsOfRoot = slotsOfRoot
    }

    /// Evaluates one root on its own, looking its facts up directly (delegation conditions: few and small).
    func evaluate(root: Int, _ dossier: Dossier) -> Verdict {
        let slots = slotsOfRoot[root]
        return withUnsafeTemporaryAllocation(of: FactValue?.self, capacity: max(factNames.count, 1)) { buffer in
            for slot in slots { (buffer.baseAddress! + Int(slot)).initialize(to: dossier.facts[factNames[Int(slot)]]) }
            defer { for slot in slots { (buffer.baseAddress! + Int(slot)).deinitialize(count: 1) } }
            return evaluate(node: roots[root], dossier, UnsafeBufferPointer(buffer))
        }
    }

    /// Evaluates node `index` with facts already loaded into `facts` (by slot).
    func evaluate(node index: Int32, _ dossier: Dossier, _ facts: UnsafeBufferPointer<FactValue?>) -> Verdict {
        instructions.withUnsafeBufferPointer { nodes in
            children.withUnsafeBufferPointer { kids in
                ConditionProgram.run(index, nodes, kids, dossier, facts)
            }
        }
    }

    static func run(
        _ index: Int32, _ nodes: UnsafeBufferPointer<Instruction>, _ kids: UnsafeBufferPointer<Int32>,
        _ dossier: Dossier, _ facts: UnsafeBufferPointer<FactValue?>
    ) -> Verdict {
        let i = Int(index)
        switch nodes[i].kind {
        case .always:
            return .holds
        case .all:
            let first = Int(nodes[i].firstChild)
            for k in first..<(first + Int(nodes[i].childCount)) {
                let v = run(kids[k], nodes, kids, dossier, facts)
                if !v.isTrue { return v }
            }
            return .holds
        case .any:
            let first = Int(nodes[i].firstChild)
            for k in first..<(first + Int(nodes[i].childCount)) where run(kids[k], nodes, kids, dossier, facts).isTrue {
                return .holds
            }
            return Verdict(node: index, why: .isFalse)
        case .not:
            let v = run(kids[Int(nodes[i].firstChild)], nodes, kids, dossier, facts)
            return v.isTrue ? Verdict(node: index, why: .isFalse) : .holds
        case .procedure:
            return verdict(compareString(dossier.procedure, nodes[i].op, nodes[i].literal), index)
        case .channel:
            return verdict(compareString(dossier.channel.rawValue, nodes[i].op, nodes[i].literal), index)
        case .commune:
            return verdict(compareString(dossier.commune, nodes[i].op, nodes[i].literal), index)
        case .applicantKind:
            return verdict(compareString(dossier.applicant.kind.rawValue, nodes[i].op, nodes[i].literal), index)
        case .documents:
            return verdict(documents(dossier.documents, nodes[i].op, nodes[i].literal), index)
        case .fact:
            guard let value = facts[Int(nodes[i].slot)] else {
                if nodes[i].op == .exists, case .bool(false) = nodes[i].literal { return .holds }
                return Verdict(node: index, why: .missing)
            }
            return verdict(compare(value, nodes[i].op, nodes[i].literal), index)
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
