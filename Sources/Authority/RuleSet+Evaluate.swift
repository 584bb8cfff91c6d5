import Foundation

extension RuleSet {
    /// Evaluates a dossier for `department` at `instant`. Pure: the same arguments always give the same result.
    ///
    /// 1. Delegation: a record with delegatee `department` must cover the procedure, the commune and the applicant
    ///    kind, its conditions must hold, and it must be valid and not revoked at `instant`; otherwise the dossier
    ///    is escalated to the delegator with the reason.
    /// 2. Documents: every required document type of the procedure must be attached; otherwise the outcome is
    ///    `supplement` listing the missing ones.
    /// 3. The decision table: the first rule (among those for the procedure) whose condition holds decides.
    public func evaluate(
        _ dossier: Dossier, department: String, delegations: DelegationRegistry, catalogue: Catalogue,
        at instant: Date
    ) -> Evaluation {
        // One pointer for the whole evaluation: passing the struct into the nested closures copied it.
        withUnsafePointer(to: dossier) { d in
            evaluate(d, department: department, delegations: delegations, catalogue: catalogue, at: instant)
        }
    }

    private func evaluate(
        _ d: UnsafePointer<Dossier>, department: String, delegations: DelegationRegistry, catalogue: Catalogue,
        at instant: Date
    ) -> Evaluation {
        let compiled = self.compiled
        let used: Explanation.SharedCheck
        switch delegations.authorize(d, delegatee: department, at: instant, sharing: nil) {
        case .refused(let reason, let checks):
            return Evaluation(
                outcome: .escalate, review: .official, escalationReason: reason, citation: nil,
                ruleSetVersion: version,
                explanation: Explanation(
                    stage: .delegation, delegation: nil, delegationCandidates: checks, compiled: compiled))
        case .granted(let index):
            used = delegations.applies[index]
        }

        if let required = catalogue.requiredDocuments(d.pointee.procedure),
            !required.allSatisfy(d.pointee.documents.contains)
        {
            let missing = required.filter { !d.pointee.documents.contains($0) }
            let citation = Evaluation.Citation(
                ruleId: nil, legalBasis: catalogue.procedure(d.pointee.procedure)?.legalBasis.first,
                reason: "missing required documents", forwardTo: nil)
            return Evaluation(
                outcome: .supplement, review: .auto, escalationReason: nil, citation: citation,
                ruleSetVersion: version,
                explanation: Explanation(
                    stage: .documents, delegation: used, missingDocuments: missing, compiled: compiled))
        }

        let plan = compiled.plan(for: d.pointee.procedure)
        let program = compiled.program
        var failures: Explanation.FailureList?
        let fired: Int32 = program.withFacts(of: d, slots: plan.slots) { facts in
            program.firstHolding(plan.rules, d, facts, failures: &failures)
        }
        let explanation = Explanation(
            stage: .rules, delegation: used, compiled: compiled, failures: failures, firedIndex: fired)
        guard fired >= 0 else {
            // Unreachable for a loaded table (it must end with a catch-all); escalate rather than guess.
            return Evaluation(
                outcome: .escalate, review: .official, escalationReason: nil,
                citation: Evaluation.Citation(
                    ruleId: nil, legalBasis: nil, reason: "no rule of the table matched", forwardTo: nil),
                ruleSetVersion: version, explanation: explanation)
        }
        let r = Int(fired)
        let outcome = compiled.rules[r].outcome
        return Evaluation(
            outcome: outcome, review: outcome == .refuse ? .official : compiled.rules[r].review,
            escalationReason: nil, citation: compiled.citations[r], ruleSetVersion: compiled.version,
            explanation: explanation)
    }
}
