extension BundleLoader {
    /// A procedure marked moved (`movedOn`, `movedTo`) is not the department's after that date: reception refuses
    /// its dossiers received from then on. Warns on every delegation still in force on or after the move that
    /// gives it to a department, and every rule that names it: they would route dossiers no longer theirs.
    mutating func checkMoved(catalogue: Catalogue, delegations: [Delegation], ruleSets: [DepartmentID: RuleSet]) {
        for procedure in catalogue.procedures {
            guard let moved = procedure.moved, let on = LocalDate(moved.on) else { continue }
            let location =
                procedureLocations[procedure.code] ?? ("\(prefix)/catalog/procedures/\(procedure.department).yaml", 1)
            // A record superseded by one valid from the move on gives nothing after it (its successor is checked).
            let supersededBy = Dictionary(
                delegations.compactMap { r in r.supersedes.map { ($0, r.validFrom) } }, uniquingKeysWith: min)
            let routing = delegations.filter { record in
                record.scope.procedures.contains(procedure.code)
                    && (supersededBy[record.id].map { $0 > on } ?? true)
                    && (record.validTo.map { $0 >= on } ?? true)
                    && (record.revokedAt.map { LocalDate(instant: $0) > on } ?? true)
            }
            if !routing.isEmpty {
                report.warning(
                    location.file, location.line,
                    "procedure \(procedure.code) moved on \(moved.on) but delegation(s) "
                        + routing.map { "\($0.id) (to \($0.delegatee))" }.joined(separator: ", ")
                        + " still give it after that date: end or revoke them on \(moved.on)")
            }
            var naming: [String] = []
            for (department, ruleSet) in ruleSets.sorted(by: { $0.key < $1.key }) {
                for rule in ruleSet.rules
                where rule.procedures?.contains(procedure.code) == true || Self.names(rule.condition, procedure.code) {
                    naming.append("\(department)/\(rule.id)")
                }
            }
            if !naming.isEmpty {
                report.warning(
                    location.file, location.line,
                    "procedure \(procedure.code) moved on \(moved.on) but rule(s) \(naming.joined(separator: ", ")) "
                        + "still decide it: reception refuses its dossiers received from then on")
            }
        }
    }

    /// Whether a condition compares the dossier's procedure with `code`.
    static func names(_ condition: Condition, _ code: String) -> Bool {
        switch condition {
        case .always: return false
        case .all(let cs), .any(let cs): return cs.contains { names($0, code) }
        case .not(let c): return names(c, code)
        case .compare(let field, _, let value):
            guard field == .procedure else { return false }
            if case .array(let items) = value { return items.contains(.string(code)) }
            return value == .string(code)
        }
    }
}
