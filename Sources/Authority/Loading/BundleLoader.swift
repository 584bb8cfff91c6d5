import Foundation

/// Loads the data files of `deploy/`: syntax, JSON Schema, then meaning across files.
///
/// A file that breaks its schema is still read as far as possible so that other files referring to it do not
/// report a cascade of unknown ids, but only its schema failures are reported.
struct BundleLoader {
    let prefix: String
    let schemaPrefix: String
    var report: ValidationReport

    private var schemas: [AuthorityBundle.Kind: JSONSchema] = [:]
    /// Where each procedure is defined, for problems found later about it.
    var procedureLocations: [String: (file: String, line: Int)] = [:]

    init(prefix: String, schemaPrefix: String, report: ValidationReport) {
        self.prefix = prefix
        self.schemaPrefix = schemaPrefix
        self.report = report
    }

    struct Document {
        var path: String
        var display: String
        var root: YAMLNode
        /// Whether semantic problems of this file are reported (false when it already failed its schema).
        var reportable: Bool
    }

    // MARK: - Entry points

    mutating func load(files: [String: String], schemas schemaTexts: [String: String]?) throws(ValidationReport)
        -> AuthorityBundle
    {
        compileSchemas(schemaTexts)
        let departmentDocs = documents(files, { $0 == "catalog/departments.yaml" }, .departments)
        let documentDocs = documents(files, { $0 == "catalog/documents.yaml" }, .documents)
        let procedureDocs = documents(files, { $0.hasPrefix("catalog/procedures/") }, .procedures)
        let communeDocs = documents(files, { $0 == "catalog/communes.yaml" }, .communes)
        let delegationDocs = documents(files, { $0.hasPrefix("delegations/") }, .delegations)
        let calendarDocs = documents(files, { $0.hasPrefix("calendar/") }, .calendar)
        let ruleDocs = documents(files, { $0.hasPrefix("rules/") }, .rules)
        let workflowDocs = documents(files, { $0.hasPrefix("workflows/") }, .workflows)
        for (path, kindName) in [
            ("catalog/departments.yaml", "departments"), ("catalog/documents.yaml", "document types"),
            ("catalog/communes.yaml", "communes and wards"),
        ] where files[path] == nil {
            report.error("\(prefix)/\(path)", 1, "missing: the catalogue of \(kindName) is required")
        }
        if procedureDocs.isEmpty && files.keys.contains(where: { $0.hasPrefix("catalog/procedures/") }) == false {
            report.error("\(prefix)/catalog/procedures", 1, "no procedure files (catalog/procedures/<department>.yaml)")
        }

        let departments = loadDepartments(departmentDocs)
        let documentTypes = loadDocumentTypes(documentDocs)
        let procedures = loadProcedures(procedureDocs, departments: departments, documentTypes: documentTypes)
        let catalogue = Catalogue(
            departments: departments.map(\.value), documentTypes: documentTypes.map(\.value),
            procedures: procedures.map(\.value), communes: loadCommunes(communeDocs))
        let delegations = loadDelegations(delegationDocs, catalogue: catalogue)
        let calendar = loadCalendar(calendarDocs)
        let ruleSets = loadRules(ruleDocs, catalogue: catalogue)
        checkCoverage(
            catalogue: catalogue, delegations: delegations, ruleSets: ruleSets,
            ruleFiles: Set(files.keys.filter { $0.hasPrefix("rules/") }))
        checkMoved(catalogue: catalogue, delegations: delegations.map(\.value), ruleSets: ruleSets)
        let workflows = loadWorkflows(workflowDocs, catalogue: catalogue, ruleSets: ruleSets)

        report.sort()
        guard !report.hasErrors, let calendar else {
            if calendar == nil && !report.hasErrors {
                report.error("\(prefix)/calendar", 1, "no calendar files (calendar/vn-YYYY.yaml)")
            }
            throw report
        }
        return AuthorityBundle(
            catalogue: catalogue, delegations: DelegationRegistry(records: delegations.map(\.value)),
            calendar: calendar, ruleSets: ruleSets, workflows: workflows, warnings: report.warnings)
    }

    mutating func loadCalendarOnly(files: [String: String], schemas schemaTexts: [String: String]?)
        throws(ValidationReport) -> WorkingCalendar
    {
        compileSchemas(schemaTexts, kinds: [.calendar])
        let calendarDocs = documents(files, { $0.hasPrefix("calendar/") }, .calendar)
        let calendar = loadCalendar(calendarDocs)
        report.sort()
        guard !report.hasErrors, let calendar else {
            if calendar == nil && !report.hasErrors {
                report.error("\(prefix)/calendar", 1, "no calendar files (vn-YYYY.yaml)")
            }
            throw report
        }
        return calendar
    }

    // MARK: - Parsing and schemas

    private mutating func compileSchemas(
        _ texts: [String: String]?, kinds: [AuthorityBundle.Kind] = AuthorityBundle.Kind.allCases
    ) {
        guard let texts else { return }
        for kind in kinds {
            let display = "\(schemaPrefix)/\(kind.rawValue).schema.json"
            guard let text = texts[kind.rawValue] else {
                report.error(display, 1, "missing schema: files of this kind cannot be validated")
                continue
            }
            do {
                let document = try YAMLNode.parse(text)
                let schema = JSONSchema(file: display, document: document)
                report.append(contentsOf: schema.problems)
                schemas[kind] = schema
            } catch {
                report.error(display, error.line, "not valid JSON: \(error.message)")
            }
        }
    }

    mutating func documents(
        _ files: [String: String], _ select: (String) -> Bool, _ kind: AuthorityBundle.Kind
    ) -> [Document] {
        var result: [Document] = []
        for path in files.keys.sorted() where select(path) {
            if kind == .departments || kind == .documents || kind == .procedures || kind == .communes {
                // catalog/ holds three kinds; route by exact place.
                let isProcedure = path.hasPrefix("catalog/procedures/")
                if (kind == .procedures) != isProcedure { continue }
            } else if path.dropFirst(
                path.firstIndex(of: "/").map { path.distance(from: path.startIndex, to: $0) + 1 } ?? 0
            )
            .contains("/") {
                continue
            }
            let display = "\(prefix)/\(path)"
            let root: YAMLNode
            do {
                root = try YAMLNode.parse(files[path]!)
            } catch {
                report.error(display, error.line, error.message)
                continue
            }
            var reportable = true
            if let schema = schemas[kind] {
                let failures = schema.validate(root)
                for failure in failures {
                    let place = failure.path.isEmpty ? "" : "\(failure.path): "
                    report.error(display, failure.line, place + failure.message)
                }
                reportable = failures.isEmpty
            }
            result.append(Document(path: path, display: display, root: root, reportable: reportable))
        }
        return result
    }

    /// Runs `body` with the real report when the document is reportable, otherwise with a scratch one.
    mutating func within<T>(_ doc: Document, _ body: (inout ValidationReport) -> T) -> T {
        if doc.reportable { return body(&report) }
        var scratch = ValidationReport()
        return body(&scratch)
    }

    // MARK: - Catalogue

    private mutating func loadDepartments(_ docs: [Document]) -> [(key: String, value: Department)] {
        var result: [(key: String, value: Department)] = []
        var seenIds: [String: Int] = [:]
        var seenCodes: [String: Int] = [:]
        for doc in docs {
            within(doc) { report in
                for node in doc.root["departments"]?.array ?? [] {
                    guard let id = node["id"]?.string else {
                        report.error(doc.display, node.line, "a department needs an id")
                        continue
                    }
                    guard DepartmentID.isWellFormed(id) else {
                        report.error(
                            doc.display, node["id"]?.line ?? node.line,
                            "department id \"\(id)\" must be lowercase letters and digits in words joined by single hyphens, at most 40 characters (it names topics and roles)"
                        )
                        continue
                    }
                    if let first = seenIds[id] {
                        report.error(doc.display, node.line, "duplicate department \"\(id)\" (first at line \(first))")
                        continue
                    }
                    seenIds[id] = node.line
                    let code = node["agencyCode"]?.string ?? ""
                    if let first = seenCodes[code], !code.isEmpty {
                        report.error(
                            doc.display, node["agencyCode"]?.line ?? node.line,
                            "agencyCode \"\(code)\" is already used (line \(first)): dossier codes would collide")
                    }
                    seenCodes[code] = node.line
                    result.append(
                        (
                            id,
                            Department(
                                id: DepartmentID(id), name: node["name"]?.string ?? "", gloss: node["gloss"]?.string ?? "",
                                agencyCode: code, head: node["head"]?.string ?? "")
                        ))
                }
                if !docs.isEmpty && seenIds[Catalogue.delegatorId.rawValue] == nil {
                    report.error(
                        doc.display, doc.root.line, "the delegator \"city\" (City People's Committee) is missing")
                }
            }
        }
        return result
    }

    private mutating func loadDocumentTypes(_ docs: [Document]) -> [(key: String, value: DocumentType)] {
        var result: [(key: String, value: DocumentType)] = []
        var seen: [String: Int] = [:]
        for doc in docs {
            within(doc) { report in
                for node in doc.root["documents"]?.array ?? [] {
                    guard let id = node["id"]?.string else {
                        report.error(doc.display, node.line, "a document type needs an id")
                        continue
                    }
                    if let first = seen[id] {
                        report.error(
                            doc.display, node.line, "duplicate document type \"\(id)\" (first at line \(first))")
                        continue
                    }
                    seen[id] = node.line
                    result.append(
                        (id, DocumentType(id: id, name: node["name"]?.string ?? "", gloss: node["gloss"]?.string ?? ""))
                    )
                }
            }
        }
        return result
    }

    private mutating func loadCommunes(_ docs: [Document]) -> CommuneList {
        guard let doc = docs.first else { return .empty }
        return within(doc) { report in
            var communes: [Commune] = []
            var seen: [String: Int] = [:]
            for node in doc.root["communes"]?.array ?? [] {
                guard let code = node["code"]?.string, Dossier.isCommuneCode(code) else {
                    report.error(doc.display, node.line, "a commune needs a 5-digit code")
                    continue
                }
                if let first = seen[code] {
                    report.error(doc.display, node.line, "duplicate commune code \"\(code)\" (first at line \(first))")
                    continue
                }
                seen[code] = node.line
                communes.append(
                    Commune(
                        code: code, name: node["name"]?.string ?? "",
                        kind: node["kind"]?.string.flatMap(Commune.Kind.init(rawValue:)) ?? .commune))
            }
            return CommuneList(
                city: doc.root["city"]?.string ?? "", inForceFrom: doc.root["inForceFrom"]?.string ?? "",
                synthetic: doc.root["synthetic"]?.bool ?? true, verified: doc.root["verified"]?.bool ?? false,
                communes: communes)
        }
    }

    /// A procedure's `fee`: a whole amount in đồng (0 to 1,000,000,000) and known applicant kinds.
    private static func fee(_ node: YAMLNode, procedure code: String, file: String, report: inout ValidationReport)
        -> Procedure.Fee?
    {
        guard let amount = node["amountVND"]?.int, (0...1_000_000_000).contains(amount) else {
            report.error(file, node.line, "procedure \(code): fee.amountVND must be a whole number of đồng from 0 to 1000000000")
            return nil
        }
        var kinds: [Dossier.Applicant.Kind] = []
        for item in node["exemptApplicantKinds"]?.array ?? [] {
            guard let kind = item.string.flatMap(Dossier.Applicant.Kind.init(rawValue:)) else {
                report.error(
                    file, item.line,
                    "procedure \(code): fee exemption \"\(item.string ?? "?")\" is not an applicant kind "
                        + "(\(Dossier.Applicant.Kind.allCases.map(\.rawValue).joined(separator: ", ")))")
                continue
            }
            if !kinds.contains(kind) { kinds.append(kind) }
        }
        if amount > 0, node["amountVerified"]?.bool != true {
            report.warning(
                file, node.line,
                "procedure \(code): fee of \(amount) đồng not verified against its legal text "
                    + "(\(node["legalBasis"]?.string ?? "no legal basis given"))")
        }
        return Procedure.Fee(amountVND: Int(amount), exemptApplicantKinds: kinds, legalBasis: node["legalBasis"]?.string)
    }

    private static func timeLimit(_ node: YAMLNode?) -> TimeLimit? {
        guard let node, let value = node["value"]?.int,
            let unit = node["unit"]?.string.flatMap(TimeLimit.Unit.init(rawValue:))
        else { return nil }
        return TimeLimit(value: Int(value), unit: unit)
    }

    private mutating func loadProcedures(
        _ docs: [Document], departments: [(key: String, value: Department)],
        documentTypes: [(key: String, value: DocumentType)]
    ) -> [(key: String, value: Procedure)] {
        let departmentIds = Set(departments.map(\.value.id))
        let documentIds = Set(documentTypes.map(\.key))
        var result: [(key: String, value: Procedure)] = []
        var seen: [String: String] = [:]
        var ownerFiles: [DepartmentID: String] = [:]
        var locations: [String: (file: String, line: Int)] = [:]
        defer { procedureLocations = locations }
        for doc in docs {
            within(doc) { report in
                let rootLine = doc.root["department"]?.line ?? doc.root.line
                guard let department = doc.root["department"]?.string.map(DepartmentID.init(rawValue:)) else {
                    report.error(doc.display, doc.root.line, "missing department")
                    return
                }
                let expectedName = "catalog/procedures/\(department).yaml"
                if doc.path != expectedName {
                    report.error(doc.display, rootLine, "department \"\(department)\" belongs in \(expectedName)")
                }
                if let other = ownerFiles[department] {
                    report.error(doc.display, rootLine, "department \"\(department)\" already has a file: \(other)")
                }
                ownerFiles[department] = doc.display
                if !departmentIds.isEmpty && !departmentIds.contains(department) {
                    report.error(doc.display, rootLine, "unknown department \"\(department)\"")
                }
                if department == Catalogue.delegatorId {
                    report.error(doc.display, rootLine, "\"city\" is the delegator; procedures belong to departments")
                }
                for node in doc.root["procedures"]?.array ?? [] {
                    guard let code = node["code"]?.string else {
                        report.error(doc.display, node.line, "a procedure needs a code (quoted: \"2.000633\")")
                        continue
                    }
                    let codeLine = node["code"]?.line ?? node.line
                    if let first = seen[code] {
                        report.error(doc.display, codeLine, "procedure code \"\(code)\" is already used at \(first)")
                        continue
                    }
                    seen[code] = "\(doc.display):\(node.line)"
                    locations[code] = (doc.display, codeLine)
                    guard let limit = BundleLoader.timeLimit(node["timeLimit"]) else {
                        report.error(
                            doc.display, node["timeLimit"]?.line ?? node.line,
                            "procedure \(code): timeLimit needs value and unit (working-days or days)")
                        continue
                    }
                    if limit.value <= 0 {
                        report.error(
                            doc.display, node["timeLimit"]!.line, "procedure \(code): timeLimit must be positive")
                    }
                    var required: [String] = []
                    for item in node["documents"]?.array ?? [] {
                        guard let id = item.string else { continue }
                        if !documentIds.isEmpty && !documentIds.contains(id) {
                            report.error(doc.display, item.line, "procedure \(code): unknown document type \"\(id)\"")
                        }
                        if required.contains(id) {
                            report.error(doc.display, item.line, "procedure \(code): document \"\(id)\" listed twice")
                        }
                        required.append(id)
                    }
                    var steps: [Procedure.Step] = []
                    if let stepNodes = node["steps"]?.array {
                        var total = 0
                        for stepNode in stepNodes {
                            guard let stepDepartment = stepNode["department"]?.string.map(DepartmentID.init(rawValue:)),
                                let stepLimit = BundleLoader.timeLimit(stepNode["timeLimit"])
                            else {
                                report.error(
                                    doc.display, stepNode.line,
                                    "procedure \(code): a step needs department and timeLimit")
                                continue
                            }
                            if !departmentIds.isEmpty && !departmentIds.contains(stepDepartment) {
                                report.error(
                                    doc.display, stepNode["department"]!.line,
                                    "procedure \(code): unknown department \"\(stepDepartment)\" in steps")
                            }
                            if stepLimit.unit != limit.unit {
                                report.error(
                                    doc.display, stepNode["timeLimit"]!.line,
                                    "procedure \(code): step of \(stepDepartment) counts in \(stepLimit.unit.rawValue) but the procedure in \(limit.unit.rawValue)"
                                )
                            }
                            if stepLimit.value <= 0 {
                                report.error(
                                    doc.display, stepNode["timeLimit"]!.line,
                                    "procedure \(code): a step's timeLimit must be positive")
                            }
                            total += stepLimit.value
                            steps.append(Procedure.Step(department: stepDepartment, timeLimit: stepLimit))
                        }
                        if total > limit.value {
                            report.error(
                                doc.display, node["steps"]!.line,
                                "procedure \(code): the steps take \(total) \(limit.unit.rawValue), more than its time limit of \(limit.value)"
                            )
                        }
                        if let last = steps.last, last.department != department {
                            report.error(
                                doc.display, stepNodes.last!.line,
                                "procedure \(code): the last step must be \(department), whose file this is (got \(last.department))"
                            )
                        }
                        var seenSteps = Set<DepartmentID>()
                        for (step, stepNode) in zip(steps, stepNodes) where !seenSteps.insert(step.department).inserted
                        {
                            report.error(
                                doc.display, stepNode.line, "procedure \(code): \(step.department) has two steps")
                        }
                    }
                    let level = node["onlineLevel"]?.string.flatMap(Procedure.OnlineLevel.init(rawValue:)) ?? .partial
                    var procedure = Procedure(
                        code: code, name: node["name"]?.string ?? "", gloss: node["gloss"]?.string ?? "",
                        department: department, timeLimit: limit, onlineLevel: level,
                        legalBasis: node["legalBasis"]?.array?.compactMap(\.string) ?? [],
                        documents: required, steps: steps)
                    procedure.nationalCode = node["nationalCode"]?.string
                    if node["facts"] != nil { procedure.facts = [] }
                    for item in node["facts"]?.array ?? [] {
                        guard let name = item.string, !name.isEmpty else {
                            report.error(doc.display, item.line, "procedure \(code): a fact is named by a string")
                            continue
                        }
                        if procedure.facts?.contains(name) == true {
                            report.error(doc.display, item.line, "procedure \(code): fact \"\(name)\" listed twice")
                        }
                        procedure.facts?.append(name)
                    }
                    if let feeNode = node["fee"] {
                        procedure.fee = BundleLoader.fee(feeNode, procedure: code, file: doc.display, report: &report)
                    }
                    procedure.verified = node["verified"]?.bool ?? false
                    if !procedure.verified {
                        procedure.unverifiedBecause = node["verification"]?["missing"]?.string ?? "no source recorded"
                        report.warning(
                            doc.display, node["verified"]?.line ?? node.line,
                            "procedure \(code): not verified against a published source (\(procedure.unverifiedBecause!)); "
                                + "its time limit and documents may not be the law in force (deploy/README-data.md)")
                    }
                    if let on = node["movedOn"]?.string {
                        procedure.moved = (on, node["movedTo"]?.string ?? "")
                        report.warning(
                            doc.display, node["movedOn"]?.line ?? node.line,
                            "procedure \(code): moved on \(on) (\(procedure.moved!.to)): no longer decided here; "
                                + "route its dossiers where it went or retire it")
                    }
                    result.append((code, procedure))
                }
            }
        }
        return result
    }

    // MARK: - Delegations

    private mutating func loadDelegations(_ docs: [Document], catalogue: Catalogue) -> [(
        key: YAMLNode, value: Delegation
    )] {
        var result: [(key: YAMLNode, value: Delegation)] = []
        var displays: [String] = []
        var reportables: [Bool] = []
        var seen: [String: String] = [:]
        for doc in docs {
            within(doc) { report in
                for node in doc.root["delegations"]?.array ?? [] {
                    guard let record = Delegation.parse(node, file: doc.display, report: &report) else { continue }
                    if let first = seen[record.id] {
                        report.error(
                            doc.display, node["id"]?.line ?? node.line,
                            "duplicate delegation id \"\(record.id)\" (first at \(first))")
                        continue
                    }
                    seen[record.id] = "\(doc.display):\(node.line)"
                    result.append((node, record))
                    displays.append(doc.display)
                    reportables.append(doc.reportable)
                }
            }
        }
        let delegators = Set(result.map(\.value.delegator))
        let ids = Dictionary(result.enumerated().map { ($1.value.id, $0) }, uniquingKeysWith: { a, _ in a })
        for (i, (node, record)) in result.enumerated() where reportables[i] {
            let file = displays[i]
            let line = node.line
            if record.delegator != Catalogue.delegatorId {
                report.error(
                    file, node["delegator"]?.line ?? line,
                    "delegation \(record.id): the delegator must be \"city\" (the City People's Committee), got \"\(record.delegator)\""
                )
            }
            if delegators.contains(record.delegatee) || record.delegatee == Catalogue.delegatorId {
                report.error(
                    file, node["delegatee"]?.line ?? line,
                    "delegation \(record.id): \"\(record.delegatee)\" is itself a delegator: a delegatee may not re-delegate"
                )
            }
            if catalogue.department(record.delegatee) == nil {
                report.error(
                    file, node["delegatee"]?.line ?? line,
                    "delegation \(record.id): unknown department \"\(record.delegatee)\"")
            }
            for code in record.scope.territory where code != "*" && !catalogue.communes.contains(code) {
                report.error(
                    file, node["scope"]?["territory"]?.line ?? line,
                    "delegation \(record.id): territory \"\(code)\" is not in catalog/communes.yaml")
            }
            let procedureNodes = node["scope"]?["procedures"]?.array ?? []
            for (code, codeNode) in zip(record.scope.procedures, procedureNodes) {
                guard let procedure = catalogue.procedure(code) else {
                    report.error(file, codeNode.line, "delegation \(record.id): unknown procedure \"\(code)\"")
                    continue
                }
                let undeclared = procedure.facts.map { (record.conditions?.factNames ?? []).subtracting($0) } ?? []
                if !undeclared.isEmpty {
                    report.error(
                        file, codeNode.line,
                        "delegation \(record.id): its conditions read facts procedure \(code) does not declare "
                            + "(\(undeclared.sorted().joined(separator: ", "))): add them to the procedure's facts in the catalogue")
                }
                if procedure.step(of: record.delegatee) == nil {
                    report.error(
                        file, codeNode.line,
                        "delegation \(record.id): \(record.delegatee) takes no step in procedure \(code) (owned by \(procedure.department))"
                    )
                }
            }
            if let old = record.supersedes {
                if let j = ids[old] {
                    if result[j].value.delegatee != record.delegatee {
                        report.error(
                            file, node["supersedes"]?.line ?? line,
                            "delegation \(record.id) supersedes \(old), which delegates to another department")
                    }
                } else {
                    report.error(
                        file, node["supersedes"]?.line ?? line,
                        "delegation \(record.id): supersedes unknown record \"\(old)\"")
                }
            }
            if let revokedAt = record.revokedAt, LocalDate(instant: revokedAt) < record.validFrom {
                report.warning(
                    file, node["revokedAt"]?.line ?? line, "delegation \(record.id) is revoked before it starts")
            }
            for j in 0..<i {
                let other = result[j].value
                guard conflicts(other, record) else { continue }
                report.error(
                    file, line,
                    "delegation \(record.id) conflicts with \(other.id) (\(displays[j]):\(result[j].key.line)): both give "
                        + "\(record.delegatee) the same procedure, territory and applicants at the same time; "
                        + "make one supersede the other or separate their periods")
            }
        }
        return result
    }

    private func conflicts(_ a: Delegation, _ b: Delegation) -> Bool {
        guard a.delegatee == b.delegatee, a.supersedes != b.id, b.supersedes != a.id,
            !Set(a.scope.procedures).isDisjoint(with: b.scope.procedures),
            a.subjectMask & b.subjectMask != 0,
            a.scope.coversWholeCity || b.scope.coversWholeCity
                || !Set(a.scope.territory).isDisjoint(with: b.scope.territory)
        else { return false }
        func end(_ d: Delegation) -> Int32 {
            var last = d.validTo?.dayNumber ?? Int32.max
            if let revokedAt = d.revokedAt { last = min(last, LocalDate(instant: revokedAt).dayNumber) }
            return last
        }
        return a.validFrom.dayNumber <= end(b) && b.validFrom.dayNumber <= end(a)
    }

    // MARK: - Calendar

    private mutating func loadCalendar(_ docs: [Document]) -> WorkingCalendar? {
        var years: [CalendarYear] = []
        var byYear: [Int: String] = [:]
        for doc in docs {
            let year = within(doc) { report in CalendarYear.parse(doc.root, file: doc.display, report: &report) }
            guard let year else { continue }
            if let other = byYear[year.year] {
                report.error(doc.display, doc.root.line, "year \(year.year) is already defined in \(other)")
                continue
            }
            byYear[year.year] = doc.display
            years.append(year)
        }
        guard let first = byYear.keys.min(), let last = byYear.keys.max() else { return nil }
        for missing in first...last where byYear[missing] == nil {
            report.error(
                "\(prefix)/calendar/vn-\(missing).yaml", 1,
                "missing: the calendar years must be contiguous (\(first)–\(last)); add vn-\(missing).yaml")
        }
        guard years.count == last - first + 1 else { return nil }
        return WorkingCalendar(years: years)
    }

    // MARK: - Rules

    private mutating func loadRules(_ docs: [Document], catalogue: Catalogue) -> [DepartmentID: RuleSet] {
        var result: [DepartmentID: RuleSet] = [:]
        var files: [DepartmentID: String] = [:]
        for doc in docs {
            let ruleSet = within(doc) { report in RuleSet.parse(doc.root, file: doc.display, report: &report) }
            guard let ruleSet else { continue }
            guard doc.reportable else {
                result[ruleSet.department] = result[ruleSet.department] ?? ruleSet
                continue
            }
            let department = ruleSet.department
            let line = doc.root["department"]?.line ?? 1
            if let other = files[department] {
                report.error(doc.display, line, "department \"\(department)\" already has rules in \(other)")
                continue
            }
            files[department] = doc.display
            if doc.path != "rules/\(department).yaml" {
                report.error(doc.display, line, "rules of \"\(department)\" belong in rules/\(department).yaml")
            }
            if catalogue.department(department) == nil {
                report.error(doc.display, line, "unknown department \"\(department)\"")
            } else if department == Catalogue.delegatorId {
                report.error(doc.display, line, "\"city\" is the delegator and runs no worker: it has no rules")
            }
            for (rule, node) in zip(ruleSet.rules, doc.root["rules"]?.array ?? []) {
                for codeNode in node["procedures"]?.array ?? [] {
                    guard let code = codeNode.string else { continue }
                    guard let procedure = catalogue.procedure(code) else {
                        report.error(doc.display, codeNode.line, "rule \"\(rule.id)\": unknown procedure \"\(code)\"")
                        continue
                    }
                    let undeclared = procedure.facts.map { rule.condition.factNames.subtracting($0) } ?? []
                    if !undeclared.isEmpty {
                        report.error(
                            doc.display, codeNode.line,
                            "rule \"\(rule.id)\": reads facts procedure \(code) does not declare "
                                + "(\(undeclared.sorted().joined(separator: ", "))): add them to the procedure's facts in the catalogue")
                    }
                    if procedure.step(of: department) == nil {
                        report.error(
                            doc.display, codeNode.line,
                            "rule \"\(rule.id)\": \(department) takes no step in procedure \(code) (owned by \(procedure.department))"
                        )
                    }
                }
                if let forwardTo = rule.forwardTo {
                    let line = node["forwardTo"]?.line ?? node.line
                    if catalogue.department(forwardTo) == nil {
                        report.error(doc.display, line, "rule \"\(rule.id)\": unknown department \"\(forwardTo)\"")
                    } else if forwardTo == department {
                        report.error(doc.display, line, "rule \"\(rule.id)\": forwards to its own department")
                    }
                }
                checkDocumentLiterals(
                    rule.condition, rule: rule.id, file: doc.display, line: node.line, catalogue: catalogue)
            }
            result[department] = ruleSet
        }
        return result
    }

    private mutating func checkDocumentLiterals(
        _ condition: Condition, rule: String, file: String, line: Int, catalogue: Catalogue
    ) {
        switch condition {
        case .always: break
        case .all(let cs), .any(let cs):
            for c in cs { checkDocumentLiterals(c, rule: rule, file: file, line: line, catalogue: catalogue) }
        case .not(let c): checkDocumentLiterals(c, rule: rule, file: file, line: line, catalogue: catalogue)
        case .compare(let field, _, let value):
            if field == .documents {
                let items: [FactValue]
                if case .array(let a) = value { items = a } else { items = [value] }
                for case .string(let id) in items where catalogue.documentType(id) == nil {
                    report.error(file, line, "rule \"\(rule)\": unknown document type \"\(id)\"")
                }
            }
            if field == .procedure {
                let items: [FactValue]
                if case .array(let a) = value { items = a } else { items = [value] }
                for case .string(let code) in items where catalogue.procedure(code) == nil {
                    report.error(file, line, "rule \"\(rule)\": unknown procedure \"\(code)\"")
                }
            }
            if field == .commune {
                let items: [FactValue]
                if case .array(let a) = value { items = a } else { items = [value] }
                for case .string(let code) in items where !catalogue.communes.contains(code) {
                    report.error(file, line, "rule \"\(rule)\": commune \"\(code)\" is not in catalog/communes.yaml")
                }
            }
        }
    }

    // MARK: - Coverage

    private mutating func checkCoverage(
        catalogue: Catalogue, delegations: [(key: YAMLNode, value: Delegation)], ruleSets: [DepartmentID: RuleSet],
        ruleFiles: Set<String>
    ) {
        let covered = Set(
            delegations.flatMap { pair in pair.value.scope.procedures.map { "\(pair.value.delegatee) \($0)" } })
        for procedure in catalogue.procedures {
            let location =
                procedureLocations[procedure.code] ?? ("\(prefix)/catalog/procedures/\(procedure.department).yaml", 1)
            for step in procedure.steps where !covered.contains("\(step.department) \(procedure.code)") {
                report.warning(
                    location.file, location.line,
                    "no delegation gives \(step.department) authority over \(procedure.code): its dossiers will all be escalated"
                )
            }
        }
        let departmentsWithSteps = Set(catalogue.procedures.flatMap { $0.steps.map(\.department) })
        for department in departmentsWithSteps.sorted() where ruleSets[department] == nil {
            // A rule file that failed to load has already been reported.
            if ruleFiles.contains("rules/\(department).yaml") { continue }
            report.warning(
                "\(prefix)/rules/\(department).yaml", 1, "missing: \(department) takes procedure steps but has no rules"
            )
        }
    }
}
