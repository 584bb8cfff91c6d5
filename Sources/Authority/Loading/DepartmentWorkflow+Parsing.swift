/// `deploy/workflows/<department>.yaml`: divisions and internal stages, checked against the catalogue.
extension BundleLoader {
    mutating func loadWorkflows(
        _ docs: [Document], catalogue: Catalogue, ruleSets: [DepartmentID: RuleSet]
    ) -> [DepartmentID: DepartmentWorkflow] {
        var result: [DepartmentID: DepartmentWorkflow] = [:]
        let departmentIds = Set(catalogue.departments.map(\.id))
        for doc in docs {
            let workflow: DepartmentWorkflow? = within(doc) { report in
                Self.parseWorkflow(doc, catalogue: catalogue, departmentIds: departmentIds, report: &report)
            }
            if let workflow { result[workflow.department] = workflow }
        }
        // A deployment without workflow files keeps the department-wide lists; one with some names every department.
        let taking = docs.isEmpty ? [] : Set(catalogue.procedures.flatMap { $0.steps.map(\.department) })
        for department in taking.sorted() where result[department] == nil && ruleSets[department] != nil {
            if docs.contains(where: { $0.path == "workflows/\(department).yaml" }) { continue }
            report.warning(
                "\(prefix)/workflows/\(department).yaml", 1,
                "missing: \(department) has no workflow, so its decisions wait in one department-wide list without stages")
        }
        return result
    }

    private static func parseWorkflow(
        _ doc: Document, catalogue: Catalogue, departmentIds: Set<DepartmentID>, report: inout ValidationReport
    ) -> DepartmentWorkflow? {
        let rootLine = doc.root["department"]?.line ?? doc.root.line
        guard let department = doc.root["department"]?.string.map(DepartmentID.init(rawValue:)) else {
            report.error(doc.display, doc.root.line, "missing department")
            return nil
        }
        if doc.path != "workflows/\(department).yaml" {
            report.error(doc.display, rootLine, "department \"\(department)\" belongs in workflows/\(department).yaml")
        }
        if !departmentIds.contains(department) || department == Catalogue.delegatorId {
            report.error(doc.display, rootLine, "unknown department \"\(department)\" (the delegator has no workflow)")
            return nil
        }
        var divisions: [DepartmentWorkflow.Division] = []
        var divisionLines: [String: Int] = [:]
        for node in doc.root["divisions"]?.array ?? [] {
            guard let id = node["id"]?.string else {
                report.error(doc.display, node.line, "a division needs an id")
                continue
            }
            if let first = divisionLines[id] {
                report.error(doc.display, node.line, "duplicate division \"\(id)\" (first at line \(first))")
                continue
            }
            divisionLines[id] = node.line
            divisions.append(.init(id: id, name: node["name"]?.string ?? ""))
        }
        guard let defaultNode = doc.root["default"],
            let defaultRoute = parseRoute(
                defaultNode, inherited: nil, what: "default", doc: doc, divisions: divisionLines, report: &report)
        else {
            if doc.root["default"] == nil { report.error(doc.display, doc.root.line, "missing default route") }
            return nil
        }
        var overrides: [String: WorkflowRoute] = [:]
        var overrideLines: [String: Int] = [:]
        for node in doc.root["procedures"]?.array ?? [] {
            guard let code = node["code"]?.string else {
                report.error(doc.display, node.line, "a procedure override needs a code (quoted: \"2.000633\")")
                continue
            }
            let codeLine = node["code"]?.line ?? node.line
            if let first = overrideLines[code] {
                report.error(doc.display, codeLine, "procedure \(code) is overridden twice (first at line \(first))")
                continue
            }
            overrideLines[code] = codeLine
            guard let procedure = catalogue.procedure(code) else {
                report.error(doc.display, codeLine, "unknown procedure \"\(code)\"")
                continue
            }
            if procedure.step(of: department) == nil {
                report.error(
                    doc.display, codeLine, "procedure \(code) has no step of \(department): nothing to route here")
                continue
            }
            if let route = parseRoute(
                node, inherited: defaultRoute, what: "procedure \(code)", doc: doc, divisions: divisionLines,
                report: &report)
            {
                overrides[code] = route
            }
        }
        return DepartmentWorkflow(
            department: department, divisions: divisions, defaultRoute: defaultRoute, overrides: overrides)
    }

    /// A route: its division, and its stages (an override without stages takes the default's).
    private static func parseRoute(
        _ node: YAMLNode, inherited: WorkflowRoute?, what: String, doc: Document, divisions: [String: Int],
        report: inout ValidationReport
    ) -> WorkflowRoute? {
        guard let division = node["division"]?.string else {
            report.error(doc.display, node.line, "\(what): needs a division")
            return nil
        }
        if divisions[division] == nil {
            report.error(
                doc.display, node["division"]?.line ?? node.line,
                "\(what): unknown division \"\(division)\" (declare it under divisions)")
        }
        guard let stageNodes = node["stages"]?.array else {
            guard let inherited else {
                report.error(doc.display, node.line, "\(what): needs stages")
                return nil
            }
            return WorkflowRoute(division: division, stages: inherited.stages)
        }
        var stages: [WorkflowStage] = []
        var ok = true
        var seen: [String: Int] = [:]
        for stageNode in stageNodes {
            guard let id = stageNode["id"]?.string,
                let role = stageNode["role"]?.string.flatMap(StageRole.init(rawValue:)),
                let share = stageNode["share"]?.number
            else {
                report.error(
                    doc.display, stageNode.line,
                    "\(what): a stage needs id, role (specialist, head-of-division or director) and share")
                ok = false
                continue
            }
            if let first = seen[id] {
                report.error(doc.display, stageNode.line, "\(what): duplicate stage \"\(id)\" (first at line \(first))")
                ok = false
            }
            seen[id] = stageNode.line
            if !(share > 0 && share <= 1) {
                report.error(
                    doc.display, stageNode["share"]?.line ?? stageNode.line,
                    "\(what): stage \"\(id)\": share must be in (0, 1]")
                ok = false
            }
            if let previous = stages.last, role < previous.role {
                report.error(
                    doc.display, stageNode["role"]?.line ?? stageNode.line,
                    "\(what): stage \"\(id)\" (\(role.rawValue)) comes after a \(previous.role.rawValue) stage: a dossier moves up the ranks"
                )
                ok = false
            }
            stages.append(
                WorkflowStage(
                    id: id, role: role, share: share,
                    skippableWhenAutomatic: stageNode["skippableWhenAutomatic"]?.bool ?? false))
        }
        guard ok, let last = stages.last else {
            if ok { report.error(doc.display, node["stages"]!.line, "\(what): needs at least one stage") }
            return nil
        }
        let total = stages.map(\.share).reduce(0, +)
        if abs(total - 1) > 0.001 {
            report.error(
                doc.display, node["stages"]!.line,
                "\(what): the stages' shares add up to \(YAMLNode.format((total * 1000).rounded() / 1000)), not 1")
            return nil
        }
        if last.role != .director || last.skippableWhenAutomatic {
            report.error(
                doc.display, stageNodes.last!.line,
                "\(what): the last stage is the director's (who signs, or a deputy authorised by them) and cannot be skipped")
            return nil
        }
        return WorkflowRoute(division: division, stages: stages)
    }
}
