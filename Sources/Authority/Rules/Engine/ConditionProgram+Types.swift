extension ConditionProgram {
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

    /// What one leaf's test answers: it holds, or why not. The raw value is what a packed failure records
    /// (`Explanation.PackedFailures`): 0 holds, else 1 + `Why.rawValue`.
    enum LeafResult: UInt8, Sendable {
        case holds = 0
        case isFalse = 1
        case missing = 2
        case typeMismatch = 3

        @inline(__always)
        init(_ why: Why?) {
            switch why {
            case nil: self = .holds
            case .isFalse: self = .isFalse
            case .missing: self = .missing
            case .typeMismatch: self = .typeMismatch
            }
        }

        /// The two bits of a packed failure or of a `byCase` table.
        @inline(__always)
        init(bits: UInt8) {
            self = LeafResult(rawValue: bits & 3) ?? .typeMismatch
        }

        /// Why the leaf did not hold; nil when it held.
        @inline(__always)
        var why: Why? {
            switch self {
            case .holds: return nil
            case .isFalse: return .isFalse
            case .missing: return .missing
            case .typeMismatch: return .typeMismatch
            }
        }
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

    /// A comparison's literal again when it is a number or a boolean, so that the common comparisons read plain
    /// data (`Instruction.bits`, `Instruction.number`).
    enum LiteralKind: UInt8, Sendable {
        /// Anything else: read `literals`.
        case other
        /// In `bits` (and `number`).
        case integer
        /// In `number`.
        case number
        /// In `bits`, 0 or 1.
        case boolean
    }

    /// An answer of a leaf precomputed when compiling.
    enum Precomputed: UInt8, Sendable {
        /// None: the leaf is tested in general.
        case nothing
        /// Holds when the (interned) string's id is in `mask`.
        case inMask
        /// Holds when the (interned) string's id is not in `mask`.
        case notInMask
        /// By enum case: `mask` holds 2 bits per case, the `LeafResult` of that case.
        case byCase
    }

    /// Which orderings of a value against a number literal make a comparison hold: a mask of `less`, `equal`,
    /// `greater`; `never` for an operator that is not an ordering.
    enum Order {
        static let never: UInt8 = 0
        static let greater: UInt8 = 1
        static let equal: UInt8 = 2
        static let less: UInt8 = 4

        /// The mask of `op`; `never` for `in`, `notIn` and `exists`.
        static func mask(_ op: Condition.Operator) -> UInt8 {
            switch op {
            case .eq: return equal
            case .ne: return less | greater
            case .lt: return less
            case .lte: return less | equal
            case .gt: return greater
            case .gte: return greater | equal
            default: return never
            }
        }

        /// The one ordering of `a` against `b` (`less`, `equal` or `greater`); neither may be NaN.
        @inline(__always)
        static func of<T: Comparable>(_ a: T, _ b: T) -> UInt8 {
            a < b ? less : (a == b ? equal : greater)
        }
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
        var literalKind: LiteralKind = .other
        var bits: Int64 = 0
        var number: Double = 0
        /// For eq, ne, lt, lte, gt, gte against a number literal: the orderings that hold (`Order`); `Order.never`
        /// otherwise.
        var order: UInt8 = Order.never
        var precomputed: Precomputed = .nothing
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

    /// What a fact slot holds for one evaluation.
    enum LoadedKind: UInt8, Sendable {
        /// Looked up, not in the dossier.
        case absent
        /// `bits` (and `number`).
        case integer
        /// `number`.
        case number
        /// `bits`, 0 or 1.
        case boolean
        /// Another value, in the side buffer.
        case other
        /// A string, in the side buffer; `bits` its interned id or -1.
        case string
        /// A string field of the dossier (commune, procedure); `bits` its interned id or -1.
        case field
        /// A fact slot that `load` did not look up (not among the slots asked for, the dossier's facts not
        /// walked): read only by `SharedFacts.loaded`.
        case notLookedUp

        /// The value is in the side buffer (initialized there, to be released).
        @inline(__always)
        var isInSideBuffer: Bool { self == .other || self == .string }

        /// An integer or a number: `number` holds it.
        @inline(__always)
        var isNumeric: Bool { self == .integer || self == .number }
    }

    /// A fact loaded for one evaluation: numbers and booleans as plain data, anything else in `FactValue` form.
    struct Loaded {
        var kind: LoadedKind
        var bits: Int64
        var number: Double

        static let absent = Loaded(kind: .absent, bits: 0, number: 0)
    }

    /// The facts of one evaluation, by slot.
    struct Facts {
        var loaded: UnsafeBufferPointer<Loaded>
        var others: UnsafeBufferPointer<FactValue>

        func value(_ slot: Int) -> FactValue? {
            switch loaded[slot].kind {
            case .absent, .notLookedUp: return nil
            case .integer: return .integer(loaded[slot].bits)
            case .number: return .number(loaded[slot].number)
            case .boolean: return .bool(loaded[slot].bits != 0)
            case .other, .string, .field: return others[slot]
            }
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

        /// Whether `program`'s slot `slot` was looked up in the dossier (`LoadedKind.notLookedUp` otherwise).
        @inline(__always)
        func loaded(_ slot: Int32) -> Bool {
            facts.loaded[Int(slot)].kind != .notLookedUp
        }
    }

    /// Everything a leaf reads, passed to `run` as one pointer.
    struct Context {
        var code: UnsafeBufferPointer<Instruction>
        var literals: UnsafeBufferPointer<Literal>
        var dossier: UnsafePointer<Dossier>
        var facts: Facts
    }
}
