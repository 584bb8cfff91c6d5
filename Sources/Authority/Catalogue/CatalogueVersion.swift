import Foundation

/// The terms of the catalogue a dossier is received under, versioned like rule sets: for every procedure its time
/// limit and unit, its steps (each department's slice), its required documents and its facts.
///
/// The version is the SHA-256 of the canonical JSON of those terms only: correcting a time limit, a step, a
/// document or a fact makes a new version; editing a name, a note, a source or a legal basis does not (they do not
/// change a due date or what a dossier must hold). Reception stores the canonical text once per version
/// (`catalogue_versions`, append-only) and records the version on each dossier it receives; the audit replay
/// rebuilds the terms with ``init(canonicalText:)`` and re-derives the dossier's due date from them.
public struct CatalogueVersion: Sendable {
    /// One procedure's terms.
    public struct Terms: Sendable, Hashable {
        public var timeLimit: TimeLimit
        public var steps: [Procedure.Step]
        public var documents: [String]
        public var facts: [String]?

        public init(timeLimit: TimeLimit, steps: [Procedure.Step], documents: [String], facts: [String]?) {
            self.timeLimit = timeLimit
            self.steps = steps
            self.documents = documents
            self.facts = facts
        }
    }

    /// Lowercase hexadecimal SHA-256 of ``canonicalText``.
    public let version: String
    /// `{"procedures":{"<code>":{"documents":[…],"facts":[…]|null,"steps":[…],"timeLimit":{…}},…}}`, keys sorted.
    public let canonicalText: String
    /// Terms by procedure code.
    public let procedures: [String: Terms]

    /// The version of a loaded catalogue.
    public init(_ catalogue: Catalogue) {
        var terms: [String: Terms] = [:]
        for procedure in catalogue.procedures {
            terms[procedure.code] = Terms(
                timeLimit: procedure.timeLimit, steps: procedure.steps, documents: procedure.documents,
                facts: procedure.facts)
        }
        self.init(terms: terms)
    }

    init(terms: [String: Terms]) {
        func limit(_ l: TimeLimit) -> YAMLNode {
            object(["unit": YAMLNode(.string(l.unit.rawValue), line: 0), "value": YAMLNode(.int(Int64(l.value)), line: 0)])
        }
        func strings(_ items: [String]) -> YAMLNode { YAMLNode(.array(items.map { YAMLNode(.string($0), line: 0) }), line: 0) }
        func object(_ members: [String: YAMLNode]) -> YAMLNode {
            YAMLNode(.object(members.map { YAMLNode.Member(key: $0.key, keyLine: 0, value: $0.value) }), line: 0)
        }
        let procedures = terms.mapValues { t in
            object([
                "timeLimit": limit(t.timeLimit),
                "steps": YAMLNode(.array(t.steps.map {
                    object(["department": YAMLNode(.string($0.department.rawValue), line: 0), "timeLimit": limit($0.timeLimit)])
                }), line: 0),
                "documents": strings(t.documents),
                "facts": t.facts.map(strings) ?? YAMLNode(.null, line: 0),
            ])
        }
        canonicalText = object(["procedures": object(procedures)]).canonicalJSON
        version = sha256Hex(canonicalText)
        self.procedures = terms
    }

    /// Rebuilds a version from its stored canonical text; the version is recomputed from what was parsed, so a
    /// stored text gives back exactly the version recorded with it.
    public init(canonicalText: String) throws(ValidationReport) {
        var report = ValidationReport()
        let file = "<catalogue version>"
        let root: YAMLNode
        do {
            root = try YAMLNode.parse(canonicalText)
        } catch {
            report.error(file, error.line, error.message)
            throw report
        }
        func limit(_ node: YAMLNode?) -> TimeLimit? {
            guard let value = node?["value"]?.int, let unit = node?["unit"]?.string.flatMap(TimeLimit.Unit.init(rawValue:))
            else { return nil }
            return TimeLimit(value: Int(value), unit: unit)
        }
        var terms: [String: Terms] = [:]
        for member in root["procedures"]?.members ?? [] {
            let node = member.value
            guard let timeLimit = limit(node["timeLimit"]) else {
                report.error(file, node.line, "procedure \(member.key): no timeLimit")
                continue
            }
            var steps: [Procedure.Step] = []
            for step in node["steps"]?.array ?? [] {
                guard let department = step["department"]?.string, let stepLimit = limit(step["timeLimit"]) else {
                    report.error(file, step.line, "procedure \(member.key): a step needs department and timeLimit")
                    continue
                }
                steps.append(Procedure.Step(department: DepartmentID(rawValue: department), timeLimit: stepLimit))
            }
            let facts: [String]? = node["facts"]?.array.map { $0.compactMap(\.string) }
            terms[member.key] = Terms(
                timeLimit: timeLimit, steps: steps, documents: node["documents"]?.array?.compactMap(\.string) ?? [],
                facts: facts)
        }
        if root["procedures"]?.members == nil { report.error(file, root.line, "no procedures object") }
        if report.hasErrors { throw report }
        self.init(terms: terms)
    }

    /// The terms of a procedure in this version.
    public func terms(of code: String) -> Terms? { procedures[code] }

    /// The due date of a dossier of procedure `code` received at `receivedAt`, under this version's time limit
    /// (nil when the procedure is not in this version).
    public func dueDate(
        of code: String, receivedAt: Date, calendar: WorkingCalendar
    ) throws(CalendarError) -> LocalDate? {
        guard let terms = procedures[code] else { return nil }
        return try calendar.dueDate(receivedAt: receivedAt, limit: terms.timeLimit)
    }

    /// The time limit of step `step` (0-based) of procedure `code` in this version: the step's slice, or the whole
    /// limit when the procedure has no such step.
    public func stepLimit(of code: String, step: Int) -> TimeLimit? {
        guard let terms = procedures[code] else { return nil }
        return terms.steps.indices.contains(step) ? terms.steps[step].timeLimit : terms.timeLimit
    }
}
