/// A condition of the rule and delegation language (deploy/FORMATS.md, "Condition language").
public indirect enum Condition: Sendable, Hashable, CustomStringConvertible {
    /// `{ always: true }`.
    case always
    /// `{ all: [C, …] }`: every condition holds (true when empty).
    case all([Condition])
    /// `{ any: [C, …] }`: at least one condition holds.
    case any([Condition])
    /// `{ not: C }`.
    case not(Condition)
    /// `{ field: F, OP: VALUE }`.
    case compare(Field, Operator, FactValue)

    /// A dossier field a condition can read.
    public enum Field: Sendable, Hashable, CustomStringConvertible {
        case procedure
        case channel
        case commune
        case applicantKind
        /// Membership of document ids in the dossier's documents.
        case documents
        /// `facts.<name>`.
        case fact(String)

        init?(path: String) {
            switch path {
            case "procedure": self = .procedure
            case "channel": self = .channel
            case "commune": self = .commune
            case "applicant.kind": self = .applicantKind
            case "documents": self = .documents
            default:
                guard path.hasPrefix("facts."), path.count > 6 else { return nil }
                self = .fact(String(path.dropFirst(6)))
            }
        }

        public var description: String {
            switch self {
            case .procedure: return "procedure"
            case .channel: return "channel"
            case .commune: return "commune"
            case .applicantKind: return "applicant.kind"
            case .documents: return "documents"
            case .fact(let name): return "facts.\(name)"
            }
        }
    }

    /// A comparison operator.
    public enum Operator: String, Sendable, Hashable, CaseIterable {
        case eq, ne, `in`, notIn, lt, lte, gt, gte, exists
    }

    /// Whether the condition is `{ always: true }`.
    public var isAlways: Bool {
        if case .always = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .always: return "always"
        case .all(let cs): return "all of (" + cs.map(\.description).joined(separator: "; ") + ")"
        case .any(let cs): return "any of (" + cs.map(\.description).joined(separator: "; ") + ")"
        case .not(let c): return "not (\(c))"
        case .compare(let field, let op, let value):
            if case .array(let items) = value {
                return "\(field) \(op.rawValue) [" + items.map(Condition.literal).joined(separator: ", ") + "]"
            }
            return "\(field) \(op.rawValue) \(Condition.literal(value))"
        }
    }

    static func literal(_ value: FactValue) -> String {
        if case .string(let s) = value { return s }
        return value.description
    }
}

extension Condition {
    /// The names of the facts (`facts.<name>`) the condition reads.
    public var factNames: Set<String> {
        switch self {
        case .always: return []
        case .all(let list), .any(let list): return list.reduce(into: []) { $0.formUnion($1.factNames) }
        case .not(let inner): return inner.factNames
        case .compare(let field, _, _):
            if case .fact(let name) = field { return [name] }
            return []
        }
    }
}
