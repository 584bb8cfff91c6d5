/// The result of evaluating a dossier: the outcome, what it relied on, and why.
///
/// Cheap to build and copy on the hot path: the rule's citation and texts and the delegation's identity live in
/// objects made once when the rule set and the registry are built, and are shared by every evaluation.
public struct Evaluation: Sendable, Equatable {
    /// What a decision cites besides the delegation: shared per rule.
    final class Citation: Sendable {
        let ruleId: String?
        let legalBasis: String?
        let reason: String?
        let forwardTo: DepartmentID?

        init(ruleId: String?, legalBasis: String?, reason: String?, forwardTo: DepartmentID?) {
            self.ruleId = ruleId
            self.legalBasis = legalBasis
            self.reason = reason
            self.forwardTo = forwardTo
        }
    }

    public let outcome: Outcome
    public let review: Review
    /// Why the dossier is outside the delegation, for an escalation by the delegation check.
    public let escalationReason: EscalationReason?
    public let explanation: Explanation
    /// The version of the rule set that evaluated the dossier.
    public var ruleSetVersion: String { versionOverride ?? explanation.compiledVersion ?? "" }
    /// nil when a rule fired: its citation is then the compiled rule set's (`Explanation.firedCitation`), which
    /// spares a reference per evaluation.
    private let citation: Citation?
    /// nil when the version is the explanation's compiled rule set's (every evaluation by ``RuleSet``), which
    /// spares a reference per evaluation.
    private let versionOverride: String?

    private var cited: Citation? { citation ?? explanation.firedCitation }

    /// The rule that fired; nil when the delegation check or the document check decided.
    public var ruleId: String? { cited?.ruleId }
    /// The next department, for ``Outcome/forward``.
    public var forwardTo: DepartmentID? { cited?.forwardTo }
    public var legalBasis: String? { cited?.legalBasis }
    /// The reason shown to the applicant.
    public var reason: String? { cited?.reason }
    /// The delegation the decision relies on; nil when none applied.
    public var delegationId: String? { explanation.delegation?.id }
    /// The number of the delegation's instrument, which the decision cites.
    public var delegationInstrument: String? { explanation.delegation?.instrument }
    /// Required documents of the procedure that the dossier lacks, in catalogue order.
    public var missingDocuments: [String] { explanation.missingDocuments }

    public init(
        outcome: Outcome, review: Review, ruleId: String? = nil, escalationReason: EscalationReason? = nil,
        forwardTo: DepartmentID? = nil, legalBasis: String? = nil, reason: String? = nil, ruleSetVersion: String,
        explanation: Explanation
    ) {
        self.init(
            outcome: outcome, review: review, escalationReason: escalationReason,
            citation: Citation(ruleId: ruleId, legalBasis: legalBasis, reason: reason, forwardTo: forwardTo),
            ruleSetVersion: ruleSetVersion, explanation: explanation)
    }

    init(
        outcome: Outcome, review: Review, escalationReason: EscalationReason?, citation: Citation?,
        ruleSetVersion: String, explanation: Explanation
    ) {
        self.outcome = outcome
        self.review = review
        self.escalationReason = escalationReason
        self.citation = citation
        self.versionOverride = explanation.compiledVersion == ruleSetVersion ? nil : ruleSetVersion
        self.explanation = explanation
    }

    public static func == (lhs: Evaluation, rhs: Evaluation) -> Bool {
        guard lhs.outcome == rhs.outcome, lhs.review == rhs.review, lhs.escalationReason == rhs.escalationReason,
            lhs.ruleSetVersion == rhs.ruleSetVersion
        else { return false }
        if lhs.cited !== rhs.cited {
            guard lhs.ruleId == rhs.ruleId, lhs.legalBasis == rhs.legalBasis, lhs.reason == rhs.reason,
                lhs.forwardTo == rhs.forwardTo
            else { return false }
        }
        return lhs.explanation == rhs.explanation
    }
}
