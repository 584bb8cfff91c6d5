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
            let record = delegations.records[index]
            delegationId = record.id
            instrument = record.instrument.number
            used = Explanation.DelegationCheck(id: delegationId, instrument: instrument, status: "applies")
        }

        if let procedure = catalogue.procedure(dossier.procedure) {
            let required = procedure.documents
            if !required.allSatisfy(dossier.documents.contains) {
                let missing = required.filter { !dossier.documents.contains($0) }
                return Evaluation(
                    outcome: .supplement, review: .auto, delegationId: delegationId, delegationInstrument: instrument,
                    missingDocuments: missing, legalBasis: procedure.legalBasis.first,
                    reason: "missing required documents", ruleSetVersion: version,
                    explanation: Explanation(stage: .documents, delegation: used, missingDocuments: missing))
            }
        }

        let compiled = self.compiled
        let plan = compiled.plans[dossier.procedure] ?? compiled.defaultPlan
        let program = compiled.program
        var failures: [Explanation.Failure] = []
        let fired: Int32 = withUnsafeTemporaryAllocation(
            of: FactValue?.self, capacity: max(program.factNames.count, 1)
        ) { buffer in
            let base = buffer.baseAddress!
            for slot in plan.slots {
                (base + Int(slot)).initialize(to: dossier.facts[program.factNames[Int(slot)]])
            }
            defer { for slot in plan.slots { (base + Int(slot)).deinitialize(count: 1) } }
            let facts = UnsafeBufferPointer(buffer)
            for r in plan.rules {
                let verdict = program.evaluate(node: program.roots[Int(r)], dossier, facts)
                if verdict.isTrue { return r }
                if failures.isEmpty { failures.reserveCapacity(plan.rules.count) }
                failures.append(Explanation.Failure(rule: r, node: verdict.node, why: verdict.why))
            }
            return -1
        }

        let explanation = Explanation(
            stage: .rules, delegation: used, compiled: compiled, failures: failures, firedIndex: fired)
        guard fired >= 0 else {
            // Unreachable for a loaded table (it must end with a catch-all); escalate rather than guess.
            return Evaluation(
                outcome: .escalate, review: .official, delegationId: delegationId, delegationInstrument: instrument,
                reason: "no rule of the table matched", ruleSetVersion: version, explanation: explanation)
        }
        let rule = compiled.rules[Int(fired)]
        return Evaluation(
            outcome: rule.outcome, review: rule.outcome == .refuse ? .official : rule.review, ruleId: rule.id,
            delegationId: delegationId, delegationInstrument: instrument, forwardTo: rule.forwardTo,
            legalBasis: rule.legalBasis, reason: rule.reason, ruleSetVersion: version, explanation: explanation)
    }
}
