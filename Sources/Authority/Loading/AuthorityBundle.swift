import Foundation

/// Everything a worker, the coordinator or the auditor needs from `deploy/`: the catalogue, the delegations, the
/// working-day calendar and the department rule sets, validated against the JSON Schemas and for meaning.
public struct AuthorityBundle: Sendable {
    public let catalogue: Catalogue
    /// The version of the catalogue's terms (time limits, steps, documents, facts) reception records on a dossier.
    public let catalogueVersion: CatalogueVersion
    public let delegations: DelegationRegistry
    public let calendar: WorkingCalendar
    /// Rule sets keyed by department id.
    public let ruleSets: [DepartmentID: RuleSet]
    /// Divisions and internal stages by department (`deploy/workflows/`); a department without a file has none.
    public let workflows: [DepartmentID: DepartmentWorkflow]
    /// Problems that did not prevent loading (e.g. a comparison that is always false).
    public let warnings: [ValidationReport.Problem]

    /// The schema file names, by the kind of data file they describe.
    enum Kind: String, CaseIterable {
        case departments = "catalog-departments"
        case documents = "catalog-documents"
        case procedures = "catalog-procedures"
        case communes = "catalog-communes"
        case delegations
        case calendar
        case rules
        case workflows
    }

    /// Loads and checks `directory` (normally `deploy/`).
    ///
    /// - Parameters:
    ///   - directory: holds `catalog/`, `delegations/`, `calendar/` and `rules/`.
    ///   - schemas: the directory of `*.schema.json`; default `<directory>/../schemas`. When it does not exist the
    ///     files are checked for meaning only, with a warning.
    /// - Throws: a report listing every error (and warning) as `file:line: what is wrong`.
    public static func load(from directory: URL, schemas: URL? = nil) throws(ValidationReport) -> AuthorityBundle {
        var report = ValidationReport()
        let prefix = directory.relativePath
        let schemaDirectory = schemas ?? directory.appendingPathComponent("..").appendingPathComponent("schemas")
        let schemaPrefix: String
        if let schemas {
            schemaPrefix = schemas.relativePath
        } else {
            let parent = (prefix as NSString).deletingLastPathComponent
            schemaPrefix = parent.isEmpty ? "schemas" : parent + "/schemas"
        }
        var files: [String: String] = [:]
        for sub in ["catalog", "catalog/procedures", "delegations", "calendar", "rules", "workflows"] {
            let url = directory.appendingPathComponent(sub)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
            for name in names.sorted() where name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
                let path = "\(sub)/\(name)"
                do {
                    files[path] = try String(contentsOf: url.appendingPathComponent(name), encoding: .utf8)
                } catch {
                    report.error("\(prefix)/\(path)", 1, "cannot read the file as UTF-8 text")
                }
            }
        }
        var schemaTexts: [String: String]?
        if FileManager.default.fileExists(atPath: schemaDirectory.path) {
            var texts: [String: String] = [:]
            for kind in Kind.allCases {
                let url = schemaDirectory.appendingPathComponent("\(kind.rawValue).schema.json")
                if let text = try? String(contentsOf: url, encoding: .utf8) { texts[kind.rawValue] = text }
            }
            schemaTexts = texts
        } else {
            report.warning(
                schemaPrefix, 1, "no JSON Schemas found here: the files were checked for meaning only")
        }
        var loader = BundleLoader(prefix: prefix, schemaPrefix: schemaPrefix, report: report)
        return try loader.load(files: files, schemas: schemaTexts)
    }

    /// Loads from texts in memory: `files` maps paths relative to `deploy/` (`rules/labour.yaml`) to their text;
    /// `schemas` maps schema names (`rules`, `catalog-procedures`, …) to JSON Schema texts, nil to skip them.
    public static func load(
        files: [String: String], schemas: [String: String]?, displayPrefix: String = "deploy"
    ) throws(ValidationReport) -> AuthorityBundle {
        var loader = BundleLoader(prefix: displayPrefix, schemaPrefix: "schemas", report: ValidationReport())
        return try loader.load(files: files, schemas: schemas)
    }

    init(
        catalogue: Catalogue, delegations: DelegationRegistry, calendar: WorkingCalendar, ruleSets: [DepartmentID: RuleSet],
        workflows: [DepartmentID: DepartmentWorkflow] = [:], warnings: [ValidationReport.Problem]
    ) {
        self.catalogue = catalogue
        catalogueVersion = CatalogueVersion(catalogue)
        self.delegations = delegations
        self.calendar = calendar
        self.ruleSets = ruleSets
        self.workflows = workflows
        self.warnings = warnings
    }
}
