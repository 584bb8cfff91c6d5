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
