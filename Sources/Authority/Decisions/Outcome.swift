/// What a department worker decides for a dossier.
public enum Outcome: String, Sendable, Hashable, Codable, CaseIterable {
    /// Approve: automatically where the rule allows, otherwise prepared for an official to sign.
    case approve
    /// Refuse, with the legal reason; always signed by an official.
    case refuse
    /// Missing or invalid documents: ask the applicant; the deadline clock pauses.
    case supplement
    /// Outside the delegation or beyond the department: goes to the delegator.
    case escalate
    /// Interconnected procedure: the next department's step.
    case forward
}

/// Who completes a decision.
public enum Review: String, Sendable, Hashable, Codable, CaseIterable {
    /// The system decides on its own.
    case auto
    /// An official signs the prepared decision.
    case official
}

/// Why a dossier is outside the delegated authority of the department evaluating it.
public enum EscalationReason: String, Sendable, Hashable, Codable, CaseIterable {
    /// No delegation to this department covers the procedure, territory and applicant kind.
    case noDelegation = "no-delegation"
    /// A delegation covers the dossier, but its conditions (e.g. a capital ceiling) do not hold.
    case outsideConditions = "outside-conditions"
    /// The delegation's validity period ended before the instant.
    case expired
    /// The delegation's validity period starts after the instant.
    case notYetValid = "not-yet-valid"
    /// The delegation was revoked before the instant.
    case revoked
}
