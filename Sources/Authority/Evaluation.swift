/// The result of evaluating a dossier: the outcome, what it relied on, and why.
public struct Evaluation: Sendable, Equatable {
    public var outcome: Outcome
    public var review: Review
    /// The rule that fired; nil when the delegation check or the document check decided.
    public var ruleId: String?
    /// The delegation the decision relies on; nil when none applied.
    public var delegationId: String?
    /// The number of the delegation's instrument, which the decision cites.
    public var delegationInstrument: String?
    /// Why the dossier is outside the delegation, for an escalation by the delegation check.
    public var escalationReason: EscalationReason?
    /// Required documents of the procedure that the dossier lacks, in catalogue order.
    public var missingDocuments: [String]
    /// The next department, for ``Outcome/forward``.
    public var forwardTo: String?
    public var legalBasis: String?
    /// The reason shown to the applicant.
    public var reason: String?
    /// The version of the rule set that evaluated the dossier.
    public var ruleSetVersion: String
    public var explanation: Explanation

    public init(
        outcome: Outcome, review: Review, ruleId: String? = nil, delegationId: String? = nil,
        delegationInstrument: String? = nil, escalationReason: EscalationReason? = nil,
        missingDocuments: [String] = [], forwardTo: String? = nil, legalBasis: String? = nil,
        reason: String? = nil, ruleSetVersion: String, explanation: Explanation
    ) {
        self.outcome = outcome
        self.review = review
        self.ruleId = ruleId
        self.delegationId = delegationId
        self.delegationInstrument = delegationInstrument
        self.escalationReason = escalationReason
        self.missingDocuments = missingDocuments
        self.forwardTo = forwardTo
        self.legalBasis = legalBasis
        self.reason = reason
        self.ruleSetVersion = ruleSetVersion
        self.explanation = explanation
    }
}
