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
