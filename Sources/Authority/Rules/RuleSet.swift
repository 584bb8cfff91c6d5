import Foundation

/// A department's decision table, compiled once and versioned by the SHA-256 of its canonical form.
///
/// The canonical form is the file's content as JSON with sorted keys and no layout (see ``canonicalText``), so the
/// version does not change when keys are reordered, comments edited or the file reformatted, and changes when any
/// value (a threshold, an outcome, a citation) does. Workers store ``canonicalText`` once per version; replay
/// rebuilds the identical rule set with ``init(canonicalText:)``.
public struct RuleSet: Sendable {
    /// The department whose worker uses the table.
    public let department: DepartmentID
    /// Always `first`: the first rule whose condition holds decides.
    public let hitPolicy: String
    public let rules: [Rule]
    /// Lowercase hexadecimal SHA-256 of ``canonicalText``.
    public let version: String
    /// The canonical JSON form of the rule file.
    public let canonicalText: String

    let compiled: CompiledRules

    /// Rebuilds a rule set from its stored canonical text (or any YAML/JSON text of a rule file).
    ///
    /// The version is computed from the canonical form of what was parsed, so a stored text gives back exactly
    /// the version recorded with it.
    public init(canonicalText: String) throws(ValidationReport) {
        try self.init(yaml: canonicalText, file: "<rule set>")
    }

    /// Parses and compiles a rule file's text without the JSON Schema or catalogue checks of the bundle loader.
    public init(yaml: String, file: String = "<rules>") throws(ValidationReport) {
        var report = ValidationReport()
        let root: YAMLNode
        do {
            root = try YAMLNode.parse(yaml)
        } catch {
            report.error(file, error.line, error.message)
            throw report
        }
        guard let ruleSet = RuleSet.parse(root, file: file, report: &report), !report.hasErrors else {
            throw report
        }
        self = ruleSet
    }

    init(department: DepartmentID, hitPolicy: String, rules: [Rule], canonicalText: String) {
        self.department = department
        self.hitPolicy = hitPolicy
        self.rules = rules
        self.canonicalText = canonicalText
        self.version = sha256Hex(canonicalText)
        self.compiled = CompiledRules(rules: rules, version: version)
    }

    /// The rule with this id.
    public func rule(id: String) -> Rule? {
        rules.first { $0.id == id }
    }
}
