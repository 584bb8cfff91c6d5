import Foundation

/// A decision for one dossier step: the rules' evaluation, a department check that may override it, and where it
/// leads. Pure — the worker and the audit replay both call ``Decider/decide(_:department:bundle:ruleSet:checks:at:catalogue:)``.
public struct StepDecision: Sendable, Equatable {
    public var evaluation: Evaluation
    public var finding: CheckFinding?
    public var outcome: Outcome
    public var review: Review
    public var reason: String?
    public var legalBasis: String?
    /// For ``Outcome/forward``: the next department.
    public var forwardTo: DepartmentID?
}

/// What the `explanation` column holds: the rules' explanation, plus the department check that overrode it.
public struct StoredExplanation: Codable, Sendable, Equatable {
    public var evaluation: Explanation
    public var departmentCheck: CheckFinding?
    public var reason: String?
    public var legalBasis: String?
}

public enum Decider {
    public static func decide(
        _ dossier: Dossier, department: DepartmentID, bundle: AuthorityBundle, ruleSet: RuleSet, checks: DepartmentChecks,
        at instant: Date, catalogue: Catalogue? = nil
    ) -> StepDecision {
        // `catalogue`: the terms the dossier was received under (its required documents), when not the bundle's.
        let evaluation = ruleSet.evaluate(
            dossier, department: department, delegations: bundle.delegations, catalogue: catalogue ?? bundle.catalogue,
            at: instant)
        if evaluation.outcome == .approve, let finding = checks.run(dossier) {
            return StepDecision(
                evaluation: evaluation, finding: finding, outcome: finding.outcome,
                review: finding.outcome == .supplement ? .auto : .official, reason: finding.reason,
                legalBasis: finding.legalBasis, forwardTo: nil)
        }
        return StepDecision(
            evaluation: evaluation, finding: nil, outcome: evaluation.outcome,
            review: evaluation.outcome == .refuse ? .official : evaluation.review, reason: evaluation.reason,
            legalBasis: evaluation.legalBasis, forwardTo: evaluation.outcome == .forward ? evaluation.forwardTo : nil)
    }

    public static func explanation(of decision: StepDecision) -> StoredExplanation {
        StoredExplanation(
            evaluation: decision.evaluation.explanation, departmentCheck: decision.finding, reason: decision.reason,
            legalBasis: decision.legalBasis)
    }
}
