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
    static let fixedStringFields: Set<String> = ["procedure", "channel", "commune", "applicant.kind"]

    /// Reads a condition node, reporting every problem; nil when it is unusable.
    static func parse(_ node: YAMLNode, file: String, report: inout ValidationReport) -> Condition? {
        guard let members = node.members else {
            report.error(file, node.line, "a condition must be an object, got \(node.typeName)")
            return nil
        }
        let keys = Set(members.map(\.key))
        if keys.contains("always") {
            guard members.count == 1, node["always"]?.bool == true else {
                report.error(file, node.line, "write { always: true } alone")
                return nil
            }
            return .always
        }
        for combinator in ["all", "any"] where keys.contains(combinator) {
            guard members.count == 1, let items = node[combinator]?.array else {
                report.error(file, node.line, "\(combinator) takes a list of conditions and nothing else")
                return nil
            }
            if combinator == "any" && items.isEmpty {
                report.error(file, node.line, "any: [] can never hold")
            }
            var parsed: [Condition] = []
            var ok = true
            for item in items {
                if let c = parse(item, file: file, report: &report) { parsed.append(c) } else { ok = false }
            }
            guard ok else { return nil }
            return combinator == "all" ? .all(parsed) : .any(parsed)
        }
        if keys.contains("not") {
            guard members.count == 1, let inner = node["not"] else {
                report.error(file, node.line, "not takes one condition and nothing else")
                return nil
            }
            return parse(inner, file: file, report: &report).map { .not($0) }
        }
        guard let fieldNode = node["field"] else {
            report.error(
                file, node.line, "a condition needs field and an operator, or all, any, not, always")
            return nil
        }
        guard let path = fieldNode.string, let field = Field(path: path) else {
            report.error(
                file, fieldNode.line,
                "unknown field \(fieldNode.brief): use procedure, channel, commune, applicant.kind, documents or facts.<name>"
            )
            return nil
        }
        let operators = members.filter { $0.key != "field" }
        guard operators.count == 1, let op = Operator(rawValue: operators[0].key) else {
            let allowed = Operator.allCases.map(\.rawValue).joined(separator: " ")
            report.error(file, node.line, "a comparison needs exactly one operator of: \(allowed)")
            return nil
        }
        let operand = operators[0].value
        guard let value = FactValue(operand) else {
            report.error(file, operand.line, "\(op.rawValue) takes a value or a list of values, not an object")
            return nil
        }
        switch op {
        case .in, .notIn:
            guard case .array = value else {
                report.error(file, operand.line, "\(op.rawValue) takes a list, got \(operand.brief)")
                return nil
            }
        case .exists:
            guard case .bool = value else {
                report.error(file, operand.line, "exists takes true or false, got \(operand.brief)")
                return nil
            }
        default:
            if case .array = value {
                report.error(file, operand.line, "\(op.rawValue) takes a single value, got a list")
                return nil
            }
        }
        checkLiteralTypes(field, op, value, line: operand.line, file: file, report: &report)
        return .compare(field, op, value)
    }

    private static func checkLiteralTypes(
        _ field: Field, _ op: Operator, _ value: FactValue, line: Int, file: String, report: inout ValidationReport
    ) {
        let items: [FactValue]
        if case .array(let a) = value { items = a } else { items = [value] }
        switch field {
        case .procedure, .commune, .channel, .applicantKind, .documents:
            guard op != .exists else { return }
            for item in items {
                guard case .string(let s) = item else {
                    report.warning(
                        file, line, "\(field) is a string; comparing it with \(item) is always false")
                    continue
                }
                if field == .channel, Dossier.Channel(rawValue: s) == nil {
                    report.warning(file, line, "channel is never \"\(s)\" (online, counter, post)")
                }
                if field == .applicantKind, Dossier.Applicant.Kind(rawValue: s) == nil {
                    report.warning(
                        file, line, "applicant.kind is never \"\(s)\" (citizen, household, enterprise, organisation)")
                }
            }
            if field == .documents, ![.in, .notIn, .exists, .eq, .ne].contains(op) {
                report.error(file, line, "documents takes in, notIn, exists, eq or ne (membership), not \(op.rawValue)")
            }
        case .fact:
            break
        }
    }
}
