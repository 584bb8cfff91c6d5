import Foundation

extension RuleSet {
    /// Reads a rule file, reporting every structural problem (the same ones the schema reports, for texts that
    /// did not go through it) and every unreachable rule.
    static func parse(_ root: YAMLNode, file: String, report: inout ValidationReport) -> RuleSet? {
        guard root.members != nil else {
            report.error(file, root.line, "a rule file must be an object with department, hitPolicy and rules")
            return nil
        }
        guard let department = root["department"]?.string else {
            report.error(file, root.line, "missing department")
            return nil
        }
        let hitPolicy = root["hitPolicy"]?.string ?? "first"
        if hitPolicy != "first" {
            report.error(file, root["hitPolicy"]?.line ?? root.line, "hitPolicy must be first, got \"\(hitPolicy)\"")
        }
        guard let ruleNodes = root["rules"]?.array, !ruleNodes.isEmpty else {
            report.error(file, root["rules"]?.line ?? root.line, "rules must be a non-empty list")
            return nil
        }
        var rules: [Rule] = []
        var ids: [String: Int] = [:]
        var ok = true
        for node in ruleNodes {
            guard let rule = parseRule(node, file: file, report: &report) else {
                ok = false
                continue
            }
            if let previous = ids[rule.id] {
                report.error(file, node.line, "duplicate rule id \"\(rule.id)\" (first at line \(previous))")
                ok = false
            }
            ids[rule.id] = node.line
            if let earlier = rules.first(where: { rule.isShadowed(by: $0) }) {
                let why =
                    earlier.isCatchAll ? "it comes after the catch-all" : "it matches every dossier this one would"
                report.error(
                    file, node.line,
                    "rule \"\(rule.id)\" can never fire: \(why) \"\(earlier.id)\" (line \(earlier.line))")
            }
            rules.append(rule)
        }
        guard ok else { return nil }
        if let last = rules.last, !last.isCatchAll {
            report.error(
                file, last.line,
                "the table must end with a catch-all rule (when: { always: true }, no procedures); \"\(last.id)\" is not"
            )
        }
        return RuleSet(department: DepartmentID(department), hitPolicy: hitPolicy, rules: rules, canonicalText: root.canonicalJSON)
    }

    private static func parseRule(_ node: YAMLNode, file: String, report: inout ValidationReport) -> Rule? {
        guard node.members != nil else {
            report.error(file, node.line, "a rule must be an object")
            return nil
        }
        guard let id = node["id"]?.string, !id.isEmpty else {
            report.error(file, node.line, "a rule needs an id")
            return nil
        }
        var procedures: [String]?
        if let list = node["procedures"] {
            guard let items = list.array, !items.isEmpty, items.allSatisfy({ $0.string != nil }) else {
                report.error(file, list.line, "rule \"\(id)\": procedures must be a non-empty list of procedure codes")
                return nil
            }
            procedures = items.compactMap(\.string)
        }
        guard let whenNode = node["when"] else {
            report.error(file, node.line, "rule \"\(id)\": missing when")
            return nil
        }
        guard let condition = Condition.parse(whenNode, file: file, report: &report) else { return nil }
        guard let outcomeNode = node["outcome"], let outcome = outcomeNode.string.flatMap(Outcome.init(rawValue:))
        else {
            let allowed = Outcome.allCases.map(\.rawValue).joined(separator: ", ")
            report.error(
                file, node["outcome"]?.line ?? node.line,
                "rule \"\(id)\": outcome must be one of \(allowed); got \(node["outcome"]?.brief ?? "nothing")")
            return nil
        }
        guard let reviewNode = node["review"], let review = reviewNode.string.flatMap(Review.init(rawValue:)) else {
            report.error(
                file, node["review"]?.line ?? node.line,
                "rule \"\(id)\": review must be auto or official; got \(node["review"]?.brief ?? "nothing")")
            return nil
        }
        if outcome == .refuse && review != .official {
            report.error(
                file, node["review"]?.line ?? node.line,
                "rule \"\(id)\": a refusal is always signed: review must be official")
        }
        let forwardTo = node["forwardTo"]?.string.map(DepartmentID.init(rawValue:))
        if outcome == .forward && forwardTo == nil {
            report.error(file, node.line, "rule \"\(id)\": forward needs forwardTo (the next department)")
        }
        if outcome != .forward, let f = node["forwardTo"] {
            report.error(file, f.line, "rule \"\(id)\": forwardTo is only for outcome forward")
        }
        let legalBasis = node["legalBasis"]?.string
        if legalBasis == nil {
            report.error(file, node.line, "rule \"\(id)\": every rule cites its legalBasis")
        }
        return Rule(
            id: id, procedures: procedures, condition: condition, outcome: outcome, review: review,
            legalBasis: legalBasis, reason: node["reason"]?.string, forwardTo: forwardTo, line: node.line)
    }
}
