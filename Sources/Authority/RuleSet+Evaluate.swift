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
        let used: Explanation.DelegationCheck
        let delegationId: String
        let instrument: String
        switch delegations.authorize(dossier, delegatee: department, at: instant) {
        case .refused(let reason, let checks):
            return Evaluation(
                outcome: .escalate, review: .official, escalationReason: reason, ruleSetVersion: version,
                explanation: Explanation(stage: .delegation, delegation: nil, delegationCandidates: checks))
        case .granted(let index):
            delegationId = delegations.records[index].id
            instrument = delegations.records[index].instrument.number
            used = Explanation.DelegationCheck(id: delegationId, instrument: instrument, status: "applies")
        }

        if let required = catalogue.requiredDocuments(dossier.procedure) {
            if !required.allSatisfy(dossier.documents.contains) {
                let missing = required.filter { !dossier.documents.contains($0) }
                return Evaluation(
                    outcome: .supplement, review: .auto, delegationId: delegationId, delegationInstrument: instrument,
                    missingDocuments: missing, legalBasis: catalogue.procedure(dossier.procedure)?.legalBasis.first,
                    reason: "missing required documents", ruleSetVersion: version,
                    explanation: Explanation(stage: .documents, delegation: used, missingDocuments: missing))
            }
        }

        let compiled = self.compiled
        let plan = compiled.plan(for: dossier.procedure)
        let program = compiled.program
        var failures: [Explanation.Failure] = []
        let fired: Int32 = withUnsafePointer(to: dossier) { d in
            program.withFacts(of: d, slots: plan.slots) { facts in
                program.firstHolding(plan.rules, d, facts, failures: &failures)
            }
        }

        let explanation = Explanation(
            stage: .rules, delegation: used, compiled: compiled, failures: failures, firedIndex: fired)
        guard fired >= 0 else {
            // Unreachable for a loaded table (it must end with a catch-all); escalate rather than guess.
            return Evaluation(
                outcome: .escalate, review: .official, delegationId: delegationId, delegationInstrument: instrument,
                reason: "no rule of the table matched", ruleSetVersion: version, explanation: explanation)
        }
        let r = Int(fired)
        let outcome = compiled.rules[r].outcome
        return Evaluation(
            outcome: outcome, review: outcome == .refuse ? .official : compiled.rules[r].review,
            ruleId: compiled.rules[r].id, delegationId: delegationId, delegationInstrument: instrument,
            forwardTo: compiled.rules[r].forwardTo, legalBasis: compiled.rules[r].legalBasis,
            reason: compiled.rules[r].reason, ruleSetVersion: version, explanation: explanation)
    }
}
