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
        /// A precomputed answer: 0 none; 1 holds when the (interned) string is in `mask`, 2 when it is not; 3 by
        /// enum case, `mask` holding 2 bits per case (0 holds, else 1 + `Why.rawValue`).
        var fast: UInt8 = 0
        var mask: UInt64 = 0
    }

    /// A fact loaded for one evaluation: numbers and booleans as plain data, anything else in `FactValue` form.
    struct Loaded {
        /// 0 absent, 1 integer, 2 number, 3 boolean, 4 other (in the side buffer), 5 string (in the side buffer,
        /// `bits` its interned id or -1), 6 a string field of the dossier (commune, procedure; `bits` its id or -1).
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
    /// Slots of the commune and the procedure code when conditions compare them with strings (after the facts'),
    /// else -1; `slotCount` counts every slot.
    let communeSlot: Int32
    let procedureSlot: Int32
    let slotCount: Int

    /// The distinct strings each slot is compared with (eq, ne, in, notIn), so that a dossier's string is compared
    /// with them once per evaluation and conditions test a bit: slot → range of `internStrings`.
    private let internFirst: [Int32]
    private let internCount: [Int32]
    private let internStrings: [String]
    /// The bytes of each ASCII string of `internStrings` (`internLength` -1 when not ASCII).
    private let internBytes: [UInt8]
    private let internStart: [Int32]
    private let internLength: [Int32]

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

        // String fields get slots after the facts; every compared string gets an id within its slot.
        var slotCount = factNames.count
        var communeSlot: Int32 = -1
        var procedureSlot: Int32 = -1
        var interned: [[String]] = []
        func strings(_ op: Condition.Operator, _ literal: Literal) -> [String]? {
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
        for i in instructions.indices {
            let kind = instructions[i].kind
            guard kind == .fact || kind == .commune || kind == .procedure,
                strings(instructions[i].op, literals[Int(instructions[i].literal)]) != nil
            else { continue }
            if kind == .commune {
                if communeSlot < 0 {
                    communeSlot = Int32(slotCount)
                    slotCount += 1
                }
                instructions[i].slot = communeSlot
            } else if kind == .procedure {
                if procedureSlot < 0 {
                    procedureSlot = Int32(slotCount)
                    slotCount += 1
                }
                instructions[i].slot = procedureSlot
            }
        }
        interned = Array(repeating: [], count: slotCount)
        for i in instructions.indices {
            let kind = instructions[i].kind
            guard kind == .fact || kind == .commune || kind == .procedure,
                let list = strings(instructions[i].op, literals[Int(instructions[i].literal)])
            else { continue }
            let slot = Int(instructions[i].slot)
            // Equal (canonically equivalent) strings share an id, so the first match is the only one.
            for string in list where !interned[slot].contains(string) { interned[slot].append(string) }
        }
        for i in instructions.indices where instructions[i].literal >= 0 {
            let kind = instructions[i].kind
            let op = instructions[i].op
            let literal = literals[Int(instructions[i].literal)]
            switch kind {
            case .fact, .commune, .procedure:
                guard let list = strings(op, literal), interned[Int(instructions[i].slot)].count <= 64 else {
                    continue
                }
                var mask: UInt64 = 0
                for string in list {
                    let id = interned[Int(instructions[i].slot)].firstIndex(of: string)!
                    mask |= 1 << UInt64(id)
                }
                instructions[i].mask = mask
                instructions[i].fast = op == .eq || op == .in ? 1 : 2
            case .channel, .applicantKind:
                let names =
                    kind == .channel
                    ? Dossier.Channel.allCases.map(\.rawValue) : Dossier.Applicant.Kind.allCases.map(\.rawValue)
                var mask: UInt64 = 0
                for (c, name) in names.enumerated() {
                    let code: UInt64 =
                        ConditionProgram.compareString(name, op, literal).map { 1 + UInt64($0.rawValue) } ?? 0
                    mask |= code << UInt64(2 * c)
                }
                instructions[i].mask = mask
                instructions[i].fast = 3
            default:
                continue
            }
        }
        var internFirst: [Int32] = []
        var internCount: [Int32] = []
        var internStrings: [String] = []
        var internBytes: [UInt8] = []
        var internStart: [Int32] = []
        var internLength: [Int32] = []
        for list in interned {
            internFirst.append(Int32(internStrings.count))
            internCount.append(list.count <= 64 ? Int32(list.count) : 0)
            for string in list {
                internStrings.append(string)
                internStart.append(Int32(internBytes.count))
                if string.utf8.allSatisfy({ $0 < 0x80 }) {
                    internLength.append(Int32(string.utf8.count))
                    internBytes.append(contentsOf: string.utf8)
                } else {
                    internLength.append(-1)
                }
            }
        }
        self.communeSlot = communeSlot
        self.procedureSlot = procedureSlot
        self.slotCount = slotCount
        self.internFirst = internFirst
        self.internCount = internCount
        self.internStrings = internStrings
        self.internBytes = internBytes
        self.internStart = internStart
        self.internLength = internLength
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
        let count = max(slotCount, 1)
        return withUnsafeTemporaryAllocation(of: Loaded.self, capacity: count) { loaded in
            withUnsafeTemporaryAllocation(of: FactValue?.self, capacity: count) { others in
                let l = loaded.baseAddress!
                let o = others.baseAddress!
                l.initialize(repeating: Loaded(kind: 0, bits: 0, number: 0), count: count)
                // `others[slot]` is initialized only where `loaded[slot].kind == 4`; most facts are numbers.
                defer {
                    for slot in 0..<count where l[slot].kind == 4 || l[slot].kind == 5 {
                        (o + slot).deinitialize(count: 1)
                    }
                }
                loadFacts(dossier, loaded: l, others: o, slots: slots)
                if communeSlot >= 0 {
                    l[Int(communeSlot)] = Loaded(
                        kind: 6, bits: intern(dossier.pointee.commune, Int(communeSlot)), number: 0)
                }
                if procedureSlot >= 0 {
                    l[Int(procedureSlot)] = Loaded(
                        kind: 6, bits: intern(dossier.pointee.procedure, Int(procedureSlot)), number: 0)
                }
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
    private func store(
        _ value: FactValue, _ slot: Int, _ loaded: UnsafeMutablePointer<Loaded>,
        _ others: UnsafeMutablePointer<FactValue?>
    ) {
        switch value {
        case .integer(let i): loaded[slot] = Loaded(kind: 1, bits: i, number: Double(i))
        case .number(let d): loaded[slot] = Loaded(kind: 2, bits: 0, number: d)
        case .bool(let b): loaded[slot] = Loaded(kind: 3, bits: b ? 1 : 0, number: 0)
        default:
            if loaded[slot].kind == 4 || loaded[slot].kind == 5 {
                others[slot] = value
            } else {
                (others + slot).initialize(to: value)
            }
            if case .string(let s) = value {
                loaded[slot] = Loaded(kind: 5, bits: intern(s, slot), number: 0)
            } else {
                loaded[slot] = Loaded(kind: 4, bits: 0, number: 0)
            }
        }
    }

    /// The id of `s` among the strings slot `slot` is compared with, or -1 (not among them, or none are).
    func intern(_ s: String, _ slot: Int) -> Int64 {
        let count = Int(internCount[slot])
        if count == 0 { return -1 }
        let first = Int(internFirst[slot])
        let ascii = s.utf8.withContiguousStorageIfAvailable { b -> Int64? in
            var high: UInt8 = 0
            for byte in b { high |= byte }
            guard high < 0x80 else { return nil }
            // Two ASCII strings are equal exactly when their bytes are.
            let found = internBytes.withUnsafeBufferPointer { bytes -> Int in
                internLength.withUnsafeBufferPointer { lengths -> Int in
                    internStart.withUnsafeBufferPointer { starts -> Int in
                        for e in first..<(first + count) {
                            let length = Int(lengths[e])
                            if length < 0 { return -2 }  // a non-ASCII literal: compare as strings
                            guard length == b.count else { continue }
                            let start = Int(starts[e])
                            var j = 0
                            while j < length && bytes[start + j] == b[j] { j += 1 }
                            if j == length { return e - first }
                        }
                        return -1
                    }
                }
            }
            return found == -2 ? nil : Int64(found)
        }
        if let ascii, let id = ascii { return id }
        for k in 0..<count where internStrings[first + k] == s { return Int64(k) }
        return -1
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
                                store(value, Int(slot), loaded, others)
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
                    store(value, Int(slot), loaded, others)
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
                        // Failures go to the stack, then into one array of the exact size.
                        withUnsafeTemporaryAllocation(of: Explanation.Failure.self, capacity: max(rules.count, 1)) {
                            buffer in
                            let out = buffer.baseAddress!
                            var count = 0
                            var fired: Int32 = -1
                            var context = Context(
                                nodes: nodes, kids: kids, literals: literals, dossier: dossier, facts: facts)
                            for r in rules {
                                let verdict = ConditionProgram.run(roots[Int(r)], &context)
                                if verdict.isTrue {
                                    fired = r
                                    break
                                }
                                (out + count).initialize(
                                    to: Explanation.Failure(rule: r, node: verdict.node, why: verdict.why))
                                count += 1
                            }
                            if count > 0 {
                                failures = [Explanation.Failure](unsafeUninitializedCapacity: count) { array, n in
                                    array.baseAddress!.moveInitialize(from: out, count: count)
                                    n = count
                                }
                            }
                            return fired
                        }
                    }
                }
            }
        }
    }

    /// Everything a node reads, passed to the recursive `run` as one pointer rather than twelve words.
    struct Context {
        var nodes: UnsafeBufferPointer<Instruction>
        var kids: UnsafeBufferPointer<Int32>
        var literals: UnsafeBufferPointer<Literal>
        var dossier: UnsafePointer<Dossier>
        var facts: Facts
    }

    static func run(
        _ index: Int32, _ nodes: UnsafeBufferPointer<Instruction>, _ kids: UnsafeBufferPointer<Int32>,
        _ literals: UnsafeBufferPointer<Literal>, _ dossier: UnsafePointer<Dossier>, _ facts: Facts
    ) -> Verdict {
        withUnsafePointer(
            to: Context(nodes: nodes, kids: kids, literals: literals, dossier: dossier, facts: facts)
        ) { run(index, $0) }
    }

    static func run(_ index: Int32, _ c: UnsafePointer<Context>) -> Verdict {
        let nodes = c.pointee.nodes
        let kids = c.pointee.kids
        let literals = c.pointee.literals
        let dossier = c.pointee.dossier
        let facts = c.pointee.facts
        let i = Int(index)
        switch nodes[i].kind {
        case .always:
            return .holds
        case .all:
            let first = Int(nodes[i].firstChild)
            for k in first..<(first + Int(nodes[i].childCount)) {
                let v = run(kids[k], c)
                if !v.isTrue { return v }
            }
            return .holds
        case .any:
            let first = Int(nodes[i].firstChild)
            for k in first..<(first + Int(nodes[i].childCount))
            where run(kids[k], c).isTrue {
                return .holds
            }
            return Verdict(node: index, why: .isFalse)
        case .not:
            let v = run(kids[Int(nodes[i].firstChild)], c)
            return v.isTrue ? Verdict(node: index, why: .isFalse) : .holds
        case .procedure:
            if nodes[i].fast != 0 { return member(facts.loaded[Int(nodes[i].slot)].bits, nodes[i], index) }
            return verdict(
                compareString(dossier.pointee.procedure, nodes[i].op, literals[Int(nodes[i].literal)]), index)
        case .channel:
            return byCase(channelIndex(dossier.pointee.channel), nodes[i].mask, index)
        case .commune:
            if nodes[i].fast != 0 { return member(facts.loaded[Int(nodes[i].slot)].bits, nodes[i], index) }
            return verdict(compareString(dossier.pointee.commune, nodes[i].op, literals[Int(nodes[i].literal)]), index)
        case .applicantKind:
            return byCase(kindIndex(dossier.pointee.applicant.kind), nodes[i].mask, index)
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
            if kind == 5 && nodes[i].fast != 0 { return member(facts.loaded[slot].bits, nodes[i], index) }
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

    /// An interned string `id` against a string condition (`fast` 1 or 2).
    @inline(__always)
    private static func member(_ id: Int64, _ node: Instruction, _ index: Int32) -> Verdict {
        let found = id >= 0 && (node.mask >> UInt64(id)) & 1 != 0
        return found == (node.fast == 1) ? .holds : Verdict(node: index, why: .isFalse)
    }

    /// A condition on an enum field, answered per case when compiled.
    @inline(__always)
    private static func byCase(_ c: Int, _ table: UInt64, _ index: Int32) -> Verdict {
        let code = (table >> UInt64(2 * c)) & 3
        if code == 0 { return .holds }
        return Verdict(node: index, why: Why(rawValue: UInt8(code - 1))!)
    }

    @inline(__always)
    private static func channelIndex(_ channel: Dossier.Channel) -> Int {
        switch channel {
        case .online: return 0
        case .counter: return 1
        case .post: return 2
        }
    }

    @inline(__always)
    private static func kindIndex(_ kind: Dossier.Applicant.Kind) -> Int {
        switch kind {
        case .citizen: return 0
        case .household: return 1
        case .enterprise: return 2
        case .organisation: return 3
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
