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
        /// For eq, ne, lt, lte, gt, gte against a number literal: which of less (4), equal (2), greater (1) hold;
        /// 0 otherwise.
        var order: UInt8 = 0
        /// A precomputed answer: 0 none; 1 holds when the (interned) string is in `mask`, 2 when it is not; 3 by
        /// enum case, `mask` holding 2 bits per case (0 holds, else 1 + `Why.rawValue`).
        var fast: UInt8 = 0
        var mask: UInt64 = 0
        /// In `code`: the node this leaf is, and where to continue when it holds / does not hold: a position in
        /// `code` (always forward), or `jumpHolds`, `jumpOwn` (fails with this leaf's verdict), or `-3 - node`
        /// (fails with `node`'s verdict, an `any` or a `not`, `isFalse`).
        var node: Int32 = -1
        var onTrue: Int32 = -1
        var onFalse: Int32 = -2
    }

    static let jumpHolds: Int32 = -1
    static let jumpOwn: Int32 = -2

    /// A fact loaded for one evaluation: numbers and booleans as plain data, anything else in `FactValue` form.
    struct Loaded {
        /// 0 absent, 1 integer, 2 number, 3 boolean, 4 other (in the side buffer), 5 string (in the side buffer,
        /// `bits` its interned id or -1), 6 a string field of the dossier (commune, procedure; `bits` its id or -1).
        var kind: UInt8
        var bits: Int64
        var number: Double

        /// `kind` of a fact slot that `load` did not look up (not among the slots asked for, the dossier's facts
        /// not walked): read only by `SharedFacts.loaded`.
        static let notLookedUp: UInt8 = 7
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
    /// The leaves of every condition in pre-order, with jump targets for all/any/not (short-circuit): evaluated by
    /// one loop, no recursion. An empty `all`/`any` is a leaf.
    let code: ContiguousArray<Instruction>
    /// Position in `code` where each root starts.
    let entries: [Int32]
    /// Fact slots each root reads.
    let slotsOfRoot: [[Int32]]
    /// For a program of one root (a delegation's conditions): `slotsOfRoot[0]`, and the root's leaves as
    /// specialised steps (`steps(rules: [0], bitOffsets: [0])`), run by `holds(_:sharing:)`. Empty otherwise.
    let soleSlots: [Int32]
    let soleSteps: ContiguousArray<Step>
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
    /// Per slot: every string it is compared with is ASCII, so an ASCII string is found by hash and bytes.
    private let internAllASCII: [Bool]
    /// The strings of each all-ASCII slot by representation (key: the slot; value: the id), and per slot whether
    /// a small ASCII string's miss there is proof that it is none of them (see `RawStringTable.find`).
    private let internRepresentations: RawStringTable
    private let internDefinitive: [Bool]
    /// Open addressing over the strings of those slots: index into `internStrings`, or -1.
    private let internTable: [Int32]
    private let internHashes: [UInt64]
    private let internSlots: [Int32]
    /// The UTF-8 bytes of each fact name (`nameStart`, `nameLength`), for finding a dossier's fact names by bytes.
    private let nameBytes: [UInt8]
    private let nameStart: [Int32]
    private let nameLength: [Int32]
    /// Whether a fact name is not ASCII: then names are also compared as Strings (canonical equivalence).
    private let hasNonASCIINames: Bool
    /// Fact names → slot by their representation (hits only).
    private let nameRepresentations: RawStringTable

    /// FNV-1a over the bytes, seeded with the slot.
    @inline(__always)
    static func internHash<C: Sequence>(_ bytes: C, slot: Int) -> UInt64 where C.Element == UInt8 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325 ^ (UInt64(truncatingIfNeeded: slot) &* 0x9E37_79B9_7F4A_7C15)
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }

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
                switch op {
                case .eq: instruction.order = 2
                case .ne: instruction.order = 5
                case .lt: instruction.order = 4
                case .lte: instruction.order = 6
                case .gt: instruction.order = 1
                case .gte: instruction.order = 3
                default: instruction.order = 0
                }
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
                    instruction.order = 0
                default:
                    instruction.order = 0
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
        // The ASCII strings of the slots whose strings are all ASCII, by hash (slot mixed in).
        var internAllASCII = [Bool](repeating: true, count: slotCount)
        for slot in 0..<slotCount where internCount[slot] > 0 {
            let first = Int(internFirst[slot])
            for e in first..<(first + Int(internCount[slot])) where internLength[e] < 0 { internAllASCII[slot] = false }
        }
        var internHashes = [UInt64](repeating: 0, count: internStrings.count)
        var internSlots = [Int32](repeating: -1, count: internStrings.count)
        var hashed: [Int] = []
        for slot in 0..<slotCount where internCount[slot] > 0 && internAllASCII[slot] {
            let first = Int(internFirst[slot])
            for e in first..<(first + Int(internCount[slot])) {
                internHashes[e] = ConditionProgram.internHash(internStrings[e].utf8, slot: slot)
                internSlots[e] = Int32(slot)
                hashed.append(e)
            }
        }
        var internCapacity = 4
        while internCapacity < 2 * hashed.count { internCapacity *= 2 }
        var internTable = [Int32](repeating: -1, count: internCapacity)
        for e in hashed {
            var b = Int(truncatingIfNeeded: internHashes[e]) & (internCapacity - 1)
            while internTable[b] >= 0 { b = (b + 1) & (internCapacity - 1) }
            internTable[b] = Int32(e)
        }
        self.internAllASCII = internAllASCII
        var representations: [(String, Int32, Int32)] = []
        var internDefinitive = [Bool](repeating: false, count: slotCount)
        for slot in 0..<slotCount where internCount[slot] > 0 && internAllASCII[slot] {
            let first = Int(internFirst[slot])
            let strings = Array(internStrings[first..<(first + Int(internCount[slot]))])
            internDefinitive[slot] = RawStringTable.allSmall(strings)
            for (k, string) in strings.enumerated() { representations.append((string, Int32(slot), Int32(k))) }
        }
        internRepresentations = RawStringTable(representations)
        self.internDefinitive = internDefinitive
        self.internHashes = internHashes
        self.internSlots = internSlots
        self.internTable = internTable
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
        var nameBytes: [UInt8] = []
        var nameStart: [Int32] = []
        var nameLength: [Int32] = []
        var hasNonASCIINames = false
        for name in factNames {
            nameStart.append(Int32(nameBytes.count))
            nameLength.append(Int32(name.utf8.count))
            nameBytes.append(contentsOf: name.utf8)
            if !name.utf8.allSatisfy({ $0 < 0x80 }) { hasNonASCIINames = true }
        }
        self.nameBytes = nameBytes
        self.nameStart = nameStart
        self.nameLength = nameLength
        self.hasNonASCIINames = hasNonASCIINames
        nameRepresentations = RawStringTable(factNames.enumerated().map { ($1, 0, Int32($0)) })
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
        let (code, entries) = ConditionProgram.flatten(instructions, children, roots)
        (self.code, self.entries) = (code, entries)
        soleSlots = roots.count == 1 ? slotsOfRoot[0] : []
        soleSteps =
            roots.count == 1
            ? ConditionProgram.steps(code: code, entries: entries, rules: [0], bitOffsets: [0]) : []
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

    /// Evaluates one root on its own (delegation conditions).
    func evaluate(root: Int, _ dossier: Dossier) -> Verdict {
        withUnsafePointer(to: dossier) { d in evaluate(root: root, d) }
    }

    func evaluate(root: Int, _ d: UnsafePointer<Dossier>) -> Verdict {
        withFacts(of: d, slots: slotsOfRoot[root]) { facts in evaluate(root: root, d, facts) }
    }

    /// Runs `body` with the dossier's facts in `slots` loaded into a stack buffer.
    ///
    /// The dossier travels as a pointer: captured by value in these closures it was copied (every field retained)
    /// for each rule, which dominated the profile.
    func withFacts<R>(of dossier: UnsafePointer<Dossier>, slots: [Int32], _ body: (Facts) -> R) -> R {
        let count = max(slotCount, 1)
        return withUnsafeTemporaryAllocation(of: Loaded.self, capacity: count) { loaded in
            withUnsafeTemporaryAllocation(of: FactValue.self, capacity: count) { others in
                let facts = load(dossier, slots: slots, loaded: loaded.baseAddress!, others: others.baseAddress!)
                defer { unload(facts) }
                return body(facts)
            }
        }
    }

    /// Loads the dossier's facts in `slots` (and the commune and procedure code when conditions compare them) into
    /// buffers of `max(slotCount, 1)` uninitialized elements; `unload` must be called on the result.
    @inline(__always)
    func load(
        _ dossier: UnsafePointer<Dossier>, slots: [Int32], loaded l: UnsafeMutablePointer<Loaded>,
        others o: UnsafeMutablePointer<FactValue>
    ) -> Facts {
        let count = max(slotCount, 1)
        l.initialize(repeating: Loaded(kind: 0, bits: 0, number: 0), count: count)
        // `others[slot]` is initialized only where `loaded[slot].kind` is 4 or 5; most facts are numbers.
        loadFacts(dossier, loaded: l, others: o, slots: slots)
        loadCodes(dossier, l)
        return Facts(
            loaded: UnsafeBufferPointer(start: l, count: count), others: UnsafeBufferPointer(start: o, count: count))
    }

    /// The commune and procedure code, when conditions compare them, as interned ids in their slots.
    @inline(__always)
    func loadCodes(_ dossier: UnsafePointer<Dossier>, _ l: UnsafeMutablePointer<Loaded>) {
        if communeSlot >= 0 {
            l[Int(communeSlot)] = Loaded(kind: 6, bits: intern(dossier.pointee.commune, Int(communeSlot)), number: 0)
        }
        if procedureSlot >= 0 {
            l[Int(procedureSlot)] = Loaded(
                kind: 6, bits: intern(dossier.pointee.procedure, Int(procedureSlot)), number: 0)
        }
    }

    /// Releases what `load` stored in the side buffer.
    @inline(__always)
    func unload(_ facts: Facts) {
        let l = facts.loaded.baseAddress!
        let o = UnsafeMutablePointer(mutating: facts.others.baseAddress!)
        for slot in 0..<facts.loaded.count where l[slot].kind == 4 || l[slot].kind == 5 {
            (o + slot).deinitialize(count: 1)
        }
    }

    /// Facts another program already loaded for this dossier (`program.load`).
    ///
    /// Plain data (no reference counted): the program is alive for the whole evaluation that shares its facts.
    struct SharedFacts {
        let programRef: Unmanaged<ConditionProgram>
        let facts: Facts

        init(program: ConditionProgram, facts: Facts) {
            programRef = Unmanaged.passUnretained(program)
            self.facts = facts
        }

        var program: ConditionProgram { programRef.takeUnretainedValue() }

        /// `program.slot(ofFactNamed:)` without a retain of the program.
        @inline(__always)
        func slot(ofFactNamed name: String) -> Int32 {
            programRef._withUnsafeGuaranteedRef { $0.slot(ofFactNamed: name) }
        }

        /// Whether `program`'s slot `slot` was looked up in the dossier (`Loaded.notLookedUp` otherwise).
        @inline(__always)
        func loaded(_ slot: Int32) -> Bool {
            facts.loaded[Int(slot)].kind != Loaded.notLookedUp
        }
    }

    /// The slot of fact `name`, or -1; first by its representation.
    @inline(__always)
    func slot(ofFactNamed name: String) -> Int32 {
        let known = nameRepresentations.find(name)
        return known >= 0 ? known : slot(ofFact: name)
    }

    /// The slot of fact `name`, or -1.
    func slot(ofFact name: String) -> Int32 {
        withNameTable { ConditionProgram.find(name, $0) } ?? exactSlot(ofName: name)
    }

    /// Evaluates one root (delegation conditions) reading the facts `shared` loaded where it can, and looking up
    /// only the others in the dossier.
    func evaluate(root: Int, _ dossier: UnsafePointer<Dossier>, sharing shared: SharedFacts) -> Verdict {
        let count = max(slotCount, 1)
        return withUnsafeTemporaryAllocation(of: Loaded.self, capacity: count) { loaded in
            withUnsafeTemporaryAllocation(of: FactValue.self, capacity: count) { others in
                let l = loaded.baseAddress!
                let o = others.baseAddress!
                l.initialize(repeating: Loaded(kind: 0, bits: 0, number: 0), count: count)
                defer {
                    for slot in 0..<count where l[slot].kind == 4 || l[slot].kind == 5 {
                        (o + slot).deinitialize(count: 1)
                    }
                }
                for slot in slotsOfRoot[root] {
                    let name = factNames[Int(slot)]
                    let theirs = shared.program.slot(ofFactNamed: name)
                    if theirs >= 0 && shared.loaded(theirs) {
                        let value = shared.facts.loaded[Int(theirs)]
                        if value.kind == 4 || value.kind == 5 {
                            // Strings are interned per slot: store again for ours.
                            store(shared.facts.others[Int(theirs)], Int(slot), l, o)
                        } else if value.kind != 0 {
                            l[Int(slot)] = value
                        }
                    } else if let value = dossier.pointee.facts[name] {
                        store(value, Int(slot), l, o)
                    }
                }
                loadCodes(dossier, l)
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
                    var why: UInt8
                    switch s.pointee.op {
                    case Step.always:
                        why = 0
                    case Step.orderInt, Step.orderNumber, Step.boolean:
                        let theirs = shared.slot(ofFactNamed: names[Int(s.pointee.slot)])
                        guard theirs >= 0 else { return nil }
                        let l = shared.facts.loaded[Int(theirs)]
                        switch s.pointee.op {
                        case Step.orderInt:
                            if l.kind == 1 {
                                let a = l.bits
                                let b = s.pointee.bits
                                let r: UInt8 = a < b ? 4 : (a == b ? 2 : 1)
                                why = r & s.pointee.flag != 0 ? 0 : 1
                            } else if l.kind == 2 && !l.number.isNaN {
                                let a = l.number
                                let b = s.pointee.number
                                let r: UInt8 = a < b ? 4 : (a == b ? 2 : 1)
                                why = r & s.pointee.flag != 0 ? 0 : 1
                            } else {
                                return nil
                            }
                        case Step.orderNumber:
                            let a = l.number
                            let b = s.pointee.number
                            guard (l.kind == 1 || l.kind == 2) && !a.isNaN && !b.isNaN else { return nil }
                            let r: UInt8 = a < b ? 4 : (a == b ? 2 : 1)
                            why = r & s.pointee.flag != 0 ? 0 : 1
                        default:
                            guard l.kind == 3 else { return nil }
                            why = (l.bits == s.pointee.bits) == (s.pointee.flag != 0) ? 0 : 1
                        }
                    case Step.channel:
                        why = ConditionProgram.byCase(
                            ConditionProgram.channelIndex(dossier.pointee.channel), s.pointee.mask)
                    case Step.applicantKind:
                        why = ConditionProgram.byCase(
                            ConditionProgram.kindIndex(dossier.pointee.applicant.kind), s.pointee.mask)
                    default:
                        return nil
                    }
                    let next = why == 0 ? s.pointee.onTrue : s.pointee.onFalse
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
                l.initialize(repeating: Loaded(kind: 0, bits: 0, number: 0), count: count)
                var stored = false
                soleSlots.withUnsafeBufferPointer { slots in
                    factNames.withUnsafeBufferPointer { names in
                        for slot in slots {
                            let s = Int(slot)
                            let theirs = shared.slot(ofFactNamed: names[s])
                            if theirs >= 0 && shared.loaded(theirs) {
                                let value = shared.facts.loaded[Int(theirs)]
                                if value.kind == 4 || value.kind == 5 {
                                    // Strings are interned per slot: store again for ours.
                                    store(shared.facts.others[Int(theirs)], s, l, o)
                                    stored = true
                                } else if value.kind != 0 {
                                    l[s] = value
                                }
                            } else if let value = dossier.pointee.facts[names[s]] {
                                store(value, s, l, o)
                                stored = true
                            }
                        }
                    }
                }
                loadCodes(dossier, l)
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
                    for slot in 0..<count where l[slot].kind == 4 || l[slot].kind == 5 {
                        (o + slot).deinitialize(count: 1)
                    }
                }
                return fired >= 0
            }
        }
    }

    /// The facts of one evaluation, by slot.
    struct Facts {
        var loaded: UnsafeBufferPointer<Loaded>
        var others: UnsafeBufferPointer<FactValue>

        func value(_ slot: Int) -> FactValue? {
            switch loaded[slot].kind {
            case 0, Loaded.notLookedUp: return nil
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

    /// `bucket(name)` for an ASCII name, -1 for any other.
    @inline(__always)
    private static func asciiBucket(_ name: String) -> Int {
        let hash =
            name.utf8.withContiguousStorageIfAvailable { b -> Int in
                guard let first = b.first, let last = b.last else { return 0 }
                var high: UInt8 = 0
                for byte in b { high |= byte }
                if high >= 0x80 { return -1 }
                return b.count &* 7 &+ Int(first) &* 13 &+ Int(last) &* 31
            } ?? -1
        return hash < 0 ? -1 : hash & (bucketCount - 1)
    }

    private static func slowHash(_ name: String) -> Int {
        let utf8 = Array(name.utf8)
        guard let first = utf8.first, let last = utf8.last else { return 0 }
        return utf8.count &* 7 &+ Int(first) &* 13 &+ Int(last) &* 31
    }

    @inline(__always)
    private func store(
        _ value: FactValue, _ slot: Int, _ loaded: UnsafeMutablePointer<Loaded>,
        _ others: UnsafeMutablePointer<FactValue>
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
    @inline(__always)
    func intern(_ s: String, _ slot: Int) -> Int64 {
        // The usual case inline: a small ASCII string against a slot where its representation decides.
        if internDefinitive.withUnsafeBufferPointer({ $0[slot] }) && RawStringTable.isSmallASCII(s) {
            return Int64(internRepresentations.find(s, key: Int32(slot)))
        }
        return internSlowly(s, slot)
    }

    @inline(never)
    private func internSlowly(_ s: String, _ slot: Int) -> Int64 {
        let count = Int(internCount[slot])
        if count == 0 { return -1 }
        if internDefinitive[slot] && RawStringTable.isSmallASCII(s) {
            return Int64(internRepresentations.find(s, key: Int32(slot)))
        }
        let first = Int(internFirst[slot])
        if internAllASCII[slot] {
            // Two ASCII strings are equal exactly when their bytes are. A non-ASCII `s` may still equal an ASCII
            // literal (U+212A KELVIN SIGN is K): compared as Strings below.
            let found = s.utf8.withContiguousStorageIfAvailable { b -> Int64? in
                var high: UInt8 = 0
                for byte in b { high |= byte }
                guard high < 0x80 else { return nil }
                let hash = ConditionProgram.internHash(b, slot: slot)
                return internTable.withUnsafeBufferPointer { table -> Int64 in
                    let mask = table.count - 1
                    var i = Int(truncatingIfNeeded: hash) & mask
                    while true {
                        let e = Int(table[i])
                        if e < 0 { return -1 }
                        if internHashes[e] == hash && internSlots[e] == Int32(slot)
                            && Int(internLength[e]) == b.count
                        {
                            let start = Int(internStart[e])
                            let same = internBytes.withUnsafeBufferPointer { bytes in
                                var j = 0
                                while j < b.count && bytes[start + j] == b[j] { j += 1 }
                                return j == b.count
                            }
                            if same { return Int64(e - first) }
                        }
                        i = (i + 1) & mask
                    }
                }
            }
            if let found = found ?? nil { return found }
        }
        for k in 0..<count where internStrings[first + k] == s { return Int64(k) }
        return -1
    }

    /// The fact-name table as buffers, read by `find` without touching the arrays' references per lookup.
    struct NameTable {
        var buckets: UnsafeBufferPointer<Int32>
        var chain: UnsafeBufferPointer<Int32>
        var start: UnsafeBufferPointer<Int32>
        var length: UnsafeBufferPointer<Int32>
        var bytes: UnsafeBufferPointer<UInt8>
        var hasNonASCIINames: Bool
    }

    func withNameTable<R>(_ body: (NameTable) -> R) -> R {
        buckets.withUnsafeBufferPointer { buckets in
            chain.withUnsafeBufferPointer { chain in
                nameStart.withUnsafeBufferPointer { start in
                    nameLength.withUnsafeBufferPointer { length in
                        nameBytes.withUnsafeBufferPointer { bytes in
                            body(
                                NameTable(
                                    buckets: buckets, chain: chain, start: start, length: length, bytes: bytes,
                                    hasNonASCIINames: hasNonASCIINames))
                        }
                    }
                }
            }
        }
    }

    /// The slot of an ASCII name by its bytes, -1 when there is none; nil when it must be compared as a String
    /// (a non-ASCII name on either side: canonical equivalence, as a dictionary compares its keys).
    @inline(__always)
    static func find(_ name: String, _ t: NameTable) -> Int32? {
        let byBytes = name.utf8.withContiguousStorageIfAvailable { b -> Int32? in
            var high: UInt8 = 0
            for byte in b { high |= byte }
            guard high < 0x80, let firstByte = b.first, let lastByte = b.last else { return nil }
            let hash =
                (b.count &* 7 &+ Int(firstByte) &* 13 &+ Int(lastByte) &* 31) & (ConditionProgram.bucketCount - 1)
            var slot = t.buckets[hash]
            while slot >= 0 {
                let i = Int(slot)
                if Int(t.length[i]) == b.count {
                    let start = Int(t.start[i])
                    var j = 0
                    while j < b.count && t.bytes[start + j] == b[j] { j += 1 }
                    if j == b.count { return slot }
                }
                slot = t.chain[i]
            }
            return t.hasNonASCIINames ? nil : -1
        }
        return byBytes ?? nil
    }

    /// The slot of the fact named `name` compared as Strings, or -1.
    func exactSlot(ofName name: String) -> Int32 {
        for (i, candidate) in factNames.enumerated() where candidate == name { return Int32(i) }
        return -1
    }

    /// Loads the dossier's value of each fact in `slots` (the buffers hold absent values on entry). When the
    /// dossier's facts are walked, every fact slot of the program is loaded; otherwise the slots not in `slots` are
    /// marked `Loaded.notLookedUp` (only `SharedFacts.loaded` reads them).
    func loadFacts(
        _ dossier: UnsafePointer<Dossier>, loaded: UnsafeMutablePointer<Loaded>,
        others: UnsafeMutablePointer<FactValue>,
        slots: [Int32]
    ) {
        if !slots.isEmpty && dossier.pointee.facts.count <= 2 * slots.count {
            // Walk the dossier's facts (no hashing). A name stored as one of the rules' names is found by its
            // representation; any other by a small table, comparing Strings. A non-ASCII name (on either side) is
            // compared as a String with every name, as the dictionary compares its keys: canonically equivalent
            // spellings have different bytes, so the bucket of one is not the bucket of the other.
            let names = nameRepresentations
            for (name, value) in dossier.pointee.facts {
                var slot = names.find(name)
                if slot < 0 {
                    slot = self.slot(missedName: name)
                    if slot < 0 { continue }
                }
                // Numbers and booleans as plain data: no copy of the value.
                switch value {
                case .integer(let i): loaded[Int(slot)] = Loaded(kind: 1, bits: i, number: Double(i))
                case .number(let d): loaded[Int(slot)] = Loaded(kind: 2, bits: 0, number: d)
                case .bool(let b): loaded[Int(slot)] = Loaded(kind: 3, bits: b ? 1 : 0, number: 0)
                default: storeOther(value, Int(slot), loaded, others)
                }
            }
        } else {
            for slot in 0..<factNames.count { loaded[slot].kind = Loaded.notLookedUp }
            for slot in slots { loaded[Int(slot)].kind = 0 }
            for slot in slots {
                if let value = dossier.pointee.facts[factNames[Int(slot)]] {
                    store(value, Int(slot), loaded, others)
                }
            }
        }
    }

    /// The slot of a dossier's fact name that the representation table missed, or -1: an ASCII name by a small
    /// table (length, first and last bytes) and its bytes, since two ASCII strings are equal exactly when their
    /// bytes are. A non-ASCII name (on either side) is compared as a String with every name, as the dictionary
    /// compares its keys: canonically equivalent spellings have different bytes, so the bucket of one is not the
    /// bucket of the other.
    @inline(never)
    func slot(missedName name: String) -> Int32 {
        if hasNonASCIINames { return exactSlot(ofName: name) }
        let found = name.utf8.withContiguousStorageIfAvailable { b -> Int32? in
            let n = b.count
            guard n > 0, let p = b.baseAddress.map(UnsafeRawPointer.init) else { return nil }
            // ASCII eight bytes at a time.
            var high: UInt64 = 0
            var i = 0
            while i + 8 <= n {
                high |= p.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                i += 8
            }
            while i < n {
                high |= UInt64(p.load(fromByteOffset: i, as: UInt8.self))
                i += 1
            }
            guard high & 0x8080_8080_8080_8080 == 0 else { return nil }
            // `bucket(name)`, from the bytes already at hand.
            let hash = (n &* 7 &+ Int(b[0]) &* 13 &+ Int(b[n - 1]) &* 31) & (ConditionProgram.bucketCount - 1)
            return withNameTable { t -> Int32 in
                var slot = t.buckets[hash]
                while slot >= 0 {
                    let s = Int(slot)
                    if Int(t.length[s]) == n
                        && RawStringTable.bytesMatch(UnsafeRawPointer(t.bytes.baseAddress! + Int(t.start[s])), p, n)
                    {
                        return slot
                    }
                    slot = t.chain[s]
                }
                return -1
            }
        }
        // Not ASCII, empty, or not contiguous: compared as Strings.
        return (found ?? nil) ?? exactSlot(ofName: name)
    }

    /// `store` for a value that is not a number or a boolean (kept in the side buffer).
    @inline(never)
    private func storeOther(
        _ value: FactValue, _ slot: Int, _ loaded: UnsafeMutablePointer<Loaded>,
        _ others: UnsafeMutablePointer<FactValue>
    ) {
        store(value, slot, loaded, others)
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

    /// A leaf of a plan's code (`steps(rules:bitOffsets:)`): the rules of one plan one after the other, a failing
    /// rule continuing with the next, and the common comparisons specialised, so that the whole table runs in one
    /// loop of few branches.
    struct Step {
        /// `Step.general` (the leaf's `test`), or a specialised comparison.
        var op: UInt8
        /// `orderInt`, `orderNumber`: which of less (4), equal (2), greater (1) hold; `member`, `memberField`:
        /// 1 when found means holds; `boolean`: 1 for `eq`.
        var flag: UInt8
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

        static let general: UInt8 = 0
        static let always: UInt8 = 1
        static let orderInt: UInt8 = 2
        static let orderNumber: UInt8 = 3
        static let member: UInt8 = 4
        static let memberField: UInt8 = 5
        static let channel: UInt8 = 6
        static let applicantKind: UInt8 = 7
        static let boolean: UInt8 = 8
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
                    op: Step.general, flag: 0, packOffset: bitOffsets[p], slot: n.slot, onTrue: relocated(n.onTrue),
                    onFalse: relocated(n.onFalse), leaf: Int32(entry + k), rule: r, nextRule: nextRule,
                    local: UInt64(k) << 2, bits: n.bits, number: n.number, mask: n.mask)
                switch n.kind {
                case .always:
                    step.op = Step.always
                case .channel:
                    step.op = Step.channel
                case .applicantKind:
                    step.op = Step.applicantKind
                case .procedure, .commune:
                    if n.fast != 0 {
                        step.op = Step.memberField
                        step.flag = n.fast == 1 ? 1 : 0
                    }
                case .fact:
                    if n.order != 0 && n.literalKind == 1 {
                        step.op = Step.orderInt
                        step.flag = n.order
                    } else if n.order != 0 && n.literalKind == 2 {
                        step.op = Step.orderNumber
                        step.flag = n.order
                    } else if n.fast == 1 || n.fast == 2 {
                        step.op = Step.member
                        step.flag = n.fast == 1 ? 1 : 0
                    } else if n.literalKind == 3 && (n.op == .eq || n.op == .ne) {
                        step.op = Step.boolean
                        step.flag = n.op == .eq ? 1 : 0
                    }
                default:
                    break
                }
                steps.append(step)
            }
        }
        return steps
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
            var why: UInt8
            switch s.pointee.op {
            case Step.always:
                why = 0
            case Step.orderInt:
                let l = loaded + Int(s.pointee.slot)
                let kind = l.pointee.kind
                if kind == 1 {
                    let a = l.pointee.bits
                    let b = s.pointee.bits
                    let r: UInt8 = a < b ? 4 : (a == b ? 2 : 1)
                    why = r & s.pointee.flag != 0 ? 0 : 1
                } else if kind == 2 && !l.pointee.number.isNaN {
                    let a = l.pointee.number
                    let b = s.pointee.number
                    let r: UInt8 = a < b ? 4 : (a == b ? 2 : 1)
                    why = r & s.pointee.flag != 0 ? 0 : 1
                } else {
                    why = test(code + Int(s.pointee.leaf), c)
                }
            case Step.orderNumber:
                let l = loaded + Int(s.pointee.slot)
                let kind = l.pointee.kind
                let a = l.pointee.number
                let b = s.pointee.number
                if (kind == 1 || kind == 2) && !a.isNaN && !b.isNaN {
                    let r: UInt8 = a < b ? 4 : (a == b ? 2 : 1)
                    why = r & s.pointee.flag != 0 ? 0 : 1
                } else {
                    why = test(code + Int(s.pointee.leaf), c)
                }
            case Step.member:
                let l = loaded + Int(s.pointee.slot)
                if l.pointee.kind == 5 {
                    let id = l.pointee.bits
                    let found = id >= 0 && (s.pointee.mask >> UInt64(id)) & 1 != 0
                    why = found == (s.pointee.flag != 0) ? 0 : 1
                } else {
                    why = test(code + Int(s.pointee.leaf), c)
                }
            case Step.memberField:
                let id = loaded[Int(s.pointee.slot)].bits
                let found = id >= 0 && (s.pointee.mask >> UInt64(id)) & 1 != 0
                why = found == (s.pointee.flag != 0) ? 0 : 1
            case Step.channel:
                why = byCase(channelIndex(c.pointee.dossier.pointee.channel), s.pointee.mask)
            case Step.applicantKind:
                why = byCase(kindIndex(c.pointee.dossier.pointee.applicant.kind), s.pointee.mask)
            case Step.boolean:
                let l = loaded + Int(s.pointee.slot)
                if l.pointee.kind == 3 {
                    why = (l.pointee.bits == s.pointee.bits) == (s.pointee.flag != 0) ? 0 : 1
                } else {
                    why = test(code + Int(s.pointee.leaf), c)
                }
            default:
                why = test(code + Int(s.pointee.leaf), c)
            }
            let next = why == 0 ? s.pointee.onTrue : s.pointee.onFalse
            if next >= 0 {
                pc = Int(next)
                continue
            }
            if next == jumpHolds {
                fired = s.pointee.rule
                break
            }
            let failure = s.pointee.local | UInt64(why)
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

    /// The number of leaves of root `root` in `code` (its leaves are contiguous: nodes are numbered in pre-order).
    func leafCount(root: Int) -> Int {
        let end = root + 1 < entries.count ? Int(entries[root + 1]) : code.count
        return end - Int(entries[root])
    }

    /// A failure packed by `firstHolding(_:_:_:packed:)` for the rule starting at `entry`, as a verdict.
    func verdict(packed bits: Int, entry: Int32) -> Verdict {
        let leaf = code[Int(entry) + bits >> 2]
        let why = UInt8(truncatingIfNeeded: bits & 3)
        let next = why == 0 ? leaf.onTrue : leaf.onFalse
        if next == ConditionProgram.jumpOwn { return Verdict(node: leaf.node, why: Why(rawValue: why &- 1)!) }
        return Verdict(node: -3 - next, why: .isFalse)
    }

    /// Everything a leaf reads, passed to `run` as one pointer.
    struct Context {
        var code: UnsafeBufferPointer<Instruction>
        var literals: UnsafeBufferPointer<Literal>
        var dossier: UnsafePointer<Dossier>
        var facts: Facts
    }

    /// Runs the leaves of one condition from `entry`, following their jumps: the loop ends at `jumpHolds` or a
    /// failure (jumps only go forward).
    @inline(__always)
    static func run(_ entry: Int32, _ c: UnsafePointer<Context>) -> Verdict {
        let code = c.pointee.code.baseAddress!
        var pc = Int(entry)
        while true {
            let leaf = code + pc
            let why = test(leaf, c)
            let next = why == 0 ? leaf.pointee.onTrue : leaf.pointee.onFalse
            if next >= 0 {
                pc = Int(next)
                continue
            }
            if next == jumpHolds { return .holds }
            if next == jumpOwn { return Verdict(node: leaf.pointee.node, why: Why(rawValue: why &- 1)!) }
            return Verdict(node: -3 - next, why: .isFalse)
        }
    }

    /// 0 when the leaf holds, else 1 + `Why.rawValue`.
    @inline(__always)
    static func test(_ leaf: UnsafePointer<Instruction>, _ c: UnsafePointer<Context>) -> UInt8 {
        let n = leaf
        switch n.pointee.kind {
        case .always:
            return 0
        case .all:  // empty
            return 0
        case .any:  // empty
            return 1
        case .not:  // not a leaf
            return 3
        case .procedure:
            if n.pointee.fast != 0 { return member(c.pointee.facts.loaded[Int(n.pointee.slot)].bits, n) }
            return code(
                compareString(
                    c.pointee.dossier.pointee.procedure, n.pointee.op, c.pointee.literals[Int(n.pointee.literal)]))
        case .channel:
            return byCase(channelIndex(c.pointee.dossier.pointee.channel), n.pointee.mask)
        case .commune:
            if n.pointee.fast != 0 { return member(c.pointee.facts.loaded[Int(n.pointee.slot)].bits, n) }
            return code(
                compareString(
                    c.pointee.dossier.pointee.commune, n.pointee.op, c.pointee.literals[Int(n.pointee.literal)]))
        case .applicantKind:
            return byCase(kindIndex(c.pointee.dossier.pointee.applicant.kind), n.pointee.mask)
        case .documents:
            return code(
                documents(
                    c.pointee.dossier.pointee.documents, n.pointee.op, c.pointee.literals[Int(n.pointee.literal)]))
        case .fact:
            let slot = Int(n.pointee.slot)
            let loaded = c.pointee.facts.loaded.baseAddress! + slot
            let kind = loaded.pointee.kind
            let order = n.pointee.order
            if order != 0 {
                // A number against a number literal: compare once, test the precomputed mask.
                if kind == 1 && n.pointee.literalKind == 1 {
                    let a = loaded.pointee.bits
                    let b = n.pointee.bits
                    let r: UInt8 = a < b ? 4 : (a == b ? 2 : 1)
                    return r & order != 0 ? 0 : 1
                }
                if kind == 1 || kind == 2 {
                    let a = loaded.pointee.number
                    let b = n.pointee.number
                    if !a.isNaN && !b.isNaN {
                        let r: UInt8 = a < b ? 4 : (a == b ? 2 : 1)
                        return r & order != 0 ? 0 : 1
                    }
                }
            }
            let op = n.pointee.op
            let literalKind = n.pointee.literalKind
            if kind == 0 {
                if op == .exists, n.pointee.bits == 0, literalKind == 3 { return 0 }
                return 2
            }
            if op == .exists { return n.pointee.bits != 0 ? 0 : 1 }
            if kind == 5 && n.pointee.fast != 0 { return member(loaded.pointee.bits, n) }
            if (kind == 1 || kind == 2) && (literalKind == 1 || literalKind == 2) && op != .in && op != .notIn {
                if kind == 1 && literalKind == 1 { return code(ordered(loaded.pointee.bits, n.pointee.bits, op)) }
                return code(ordered(loaded.pointee.number, n.pointee.number, op))
            }
            if kind == 3 && literalKind == 3 && (op == .eq || op == .ne) {
                let same = loaded.pointee.bits == n.pointee.bits
                return same == (op == .eq) ? 0 : 1
            }
            guard let value = c.pointee.facts.value(slot) else { return 2 }
            return code(compare(value, op, c.pointee.literals[Int(n.pointee.literal)]))
        }
    }

    @inline(__always)
    private static func code(_ r: Why?) -> UInt8 {
        guard let r else { return 0 }
        return r.rawValue &+ 1
    }

    /// An interned string `id` against a string condition (`fast` 1 or 2).
    @inline(__always)
    private static func member(_ id: Int64, _ node: UnsafePointer<Instruction>) -> UInt8 {
        let found = id >= 0 && (node.pointee.mask >> UInt64(id)) & 1 != 0
        return found == (node.pointee.fast == 1) ? 0 : 1
    }

    /// A condition on an enum field, answered per case when compiled.
    @inline(__always)
    private static func byCase(_ c: Int, _ table: UInt64) -> UInt8 {
        UInt8(truncatingIfNeeded: (table >> UInt64(2 * c)) & 3)
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
