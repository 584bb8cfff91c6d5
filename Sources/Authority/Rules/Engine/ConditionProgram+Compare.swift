extension ConditionProgram {
    // The general comparisons, as the condition language defines them (deploy/FORMATS.md, "Condition language"):
    // what `test` answers when no precomputed or plain-data comparison applies.

    /// nil when the comparison holds, otherwise why not.
    static func compareString(_ s: String, _ op: Condition.Operator, _ literal: Literal) -> Why? {
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

    static func documents(_ documents: [String], _ op: Condition.Operator, _ literal: Literal) -> Why? {
        switch (op, literal) {
        case (.exists, .bool(let b)): return documents.isEmpty == !b ? nil : .isFalse
        case (.eq, .string(let l)), (.in, .string(let l)): return documents.contains(l) ? nil : .isFalse
        case (.ne, .string(let l)), (.notIn, .string(let l)): return documents.contains(l) ? .isFalse : nil
        case (.in, .strings(let ls)): return documents.contains(where: ls.contains) ? nil : .isFalse
        case (.notIn, .strings(let ls)): return documents.contains(where: ls.contains) ? .isFalse : nil
        default: return .typeMismatch
        }
    }

    static func compare(_ value: FactValue, _ op: Condition.Operator, _ literal: Literal) -> Why? {
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

    static func membership(_ value: FactValue, _ list: [FactValue], _ op: Condition.Operator) -> Why? {
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
    static func ordered<T: Comparable>(_ a: T, _ b: T, _ op: Condition.Operator) -> Why? {
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
