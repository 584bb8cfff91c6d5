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
