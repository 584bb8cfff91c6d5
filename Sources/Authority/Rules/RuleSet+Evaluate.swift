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
        _ dossier: Dossier, department: DepartmentID, delegations: DelegationRegistry, catalogue: Catalogue,
        at instant: Date
    ) -> Evaluation {
        // One pointer for the whole evaluation: passing the struct into the nested closures copied it.
        withUnsafePointer(to: dossier) { d in
            RuleSet.evaluate(
                d, compiled: compiled, department: department, delegations: delegations.core,
                catalogue: catalogue.core, at: instant)
        }
    }

    /// The evaluation proper, on references only (the registry's and the catalogue's objects, the compiled rules),
    /// so that the closures below capture no struct copies.
    private static func evaluate(
        _ d: UnsafePointer<Dossier>, compiled: CompiledRules, department: DepartmentID, delegations: DelegationRegistry.Core,
        catalogue: Catalogue.Core, at instant: Date
    ) -> Evaluation {
        // The procedure code is read once (one copy of the string, not one per lookup) and hashed once for the
        // three indices keyed by it.
        let procedure = d.pointee.procedure
        let hash = StringIndex.asciiHash(procedure)
        // The plan is the compiled rule set's, alive for the whole call: no reference count taken.
        return compiled.unretainedPlan(for: procedure, hash: hash)._withUnsafeGuaranteedRef { plan in
            let program = compiled.program
            let count = max(program.slotCount, 1)
            // The table's facts are loaded first: the delegation's conditions read them from there instead of
            // looking them up in the dossier again. Loading has no effect on the result when the delegation check
            // decides.
            return withUnsafeTemporaryAllocation(of: ConditionProgram.Loaded.self, capacity: count) { loaded in
                withUnsafeTemporaryAllocation(of: FactValue.self, capacity: count) { others in
                    let facts = program.load(
                        d, slots: plan.slots, loaded: loaded.baseAddress!, others: others.baseAddress!)
                    defer { program.unload(facts) }
                    return decide(
                        d, procedure: procedure, compiled: compiled, plan: plan, facts: facts, hash: hash,
                        department: department, delegations: delegations, catalogue: catalogue, at: instant)
                }
            }
        }
    }

    private static func decide(
        _ d: UnsafePointer<Dossier>, procedure: String, compiled: CompiledRules, plan: CompiledRules.Plan,
        facts: ConditionProgram.Facts, hash: UInt64?, department: DepartmentID, delegations: DelegationRegistry.Core,
        catalogue: Catalogue.Core, at instant: Date
    ) -> Evaluation {
        let program = compiled.program
        let used: Explanation.SharedCheck
        let shared = ConditionProgram.SharedFacts(program: program, facts: facts)
        switch delegations.authorize(
            d, procedure: procedure, delegatee: department, at: instant, sharing: shared, hash: hash)
        {
        case .refused(let reason, let checks):
            return Evaluation(
                outcome: .escalate, review: .official, escalationReason: reason, citation: nil,
                ruleSetVersion: compiled.version,
                explanation: Explanation(
                    stage: .delegation, delegation: nil, delegationCandidates: checks, compiled: compiled))
        case .granted(let index):
            used = delegations.applies[index]
        }

        if let p = catalogue.procedureLookup[procedure, hash: hash], catalogue.lacksDocument(d, procedure: p),
            let required = catalogue.requiredDocuments(procedure, hash: hash)
        {
            let missing = required.filter { !d.pointee.documents.contains($0) }
            let procedure = catalogue.procedureIndex[d.pointee.procedure].map { catalogue.procedures[$0] }
            let citation = Evaluation.Citation(
                ruleId: nil, legalBasis: procedure?.legalBasis.first, reason: "missing required documents",
                forwardTo: nil)
            return Evaluation(
                outcome: .supplement, review: .auto, escalationReason: nil, citation: citation,
                ruleSetVersion: compiled.version,
                explanation: Explanation(
                    stage: .documents, delegation: used, missingDocuments: missing, compiled: compiled))
        }

        let fired: Int32
        let explanation: Explanation
        if plan.packs {
            var packed = Explanation.PackedFailures()
            fired = program.firstHolding(plan, d, facts, packed: &packed)
            explanation = Explanation(
                stage: .rules, delegation: used, compiled: compiled, firedIndex: fired, packed: packed,
                planIndex: plan.index)
        } else {
            var failures: Explanation.FailureList?
            fired = program.firstHolding(plan.rules, d, facts, failures: &failures)
            explanation = Explanation(
                stage: .rules, delegation: used, compiled: compiled, failures: failures, firedIndex: fired)
        }
        guard fired >= 0 else {
            // Unreachable for a loaded table (it must end with a catch-all); escalate rather than guess.
            return Evaluation(
                outcome: .escalate, review: .official, escalationReason: nil,
                citation: Evaluation.Citation(
                    ruleId: nil, legalBasis: nil, reason: "no rule of the table matched", forwardTo: nil),
                ruleSetVersion: compiled.version, explanation: explanation)
        }
        let r = Int(fired)
        let outcome = compiled.rules[r].outcome
        return Evaluation(
            outcome: outcome, review: outcome == .refuse ? .official : compiled.rules[r].review,
            escalationReason: nil, citation: nil, ruleSetVersion: compiled.version, explanation: explanation)
    }

}
