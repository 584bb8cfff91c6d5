/// One row of a department's decision table.
public struct Rule: Sendable, Hashable {
    /// Unique within the rule set.
    public var id: String
    /// The procedures the rule applies to; nil for every procedure of the department.
    public var procedures: [String]?
    /// When the rule fires.
    public var condition: Condition
    public var outcome: Outcome
    public var review: Review
    /// The legal basis cited by the decision.
    public var legalBasis: String?
    /// The reason shown to the applicant.
    public var reason: String?
    /// The next department, for ``Outcome/forward``.
    public var forwardTo: DepartmentID?
    /// Line of the rule in its file (0 when built from canonical text).
    public var line: Int

    public init(
        id: String, procedures: [String]? = nil, condition: Condition, outcome: Outcome, review: Review,
        legalBasis: String? = nil, reason: String? = nil, forwardTo: DepartmentID? = nil, line: Int = 0
    ) {
        self.id = id
        self.procedures = procedures
        self.condition = condition
        self.outcome = outcome
        self.review = review
        self.legalBasis = legalBasis
        self.reason = reason
        self.forwardTo = forwardTo
        self.line = line
    }

    /// Whether the rule fires for every dossier of every procedure.
    public var isCatchAll: Bool { procedures == nil && condition.isAlways }

    /// Whether every dossier this rule can match is matched by `earlier` (so this rule can never fire after it).
    func isShadowed(by earlier: Rule) -> Bool {
        if let mine = procedures {
            if let theirs = earlier.procedures, !Set(mine).isSubset(of: Set(theirs)) { return false }
        } else if earlier.procedures != nil {
            return false
        }
        return earlier.condition.isAlways || earlier.condition == condition
    }
}
