extension Delegation {
    /// The position in the delegatee department whose holder exercises a delegation (signs its final decisions).
    ///
    /// The registry of officials says who holds a position when: an official registered with that role in the
    /// department, whose key is valid and not revoked at the instant. A specialist never holds one.
    public enum Position: String, Sendable, Hashable, CaseIterable {
        case director
        case deputyDirector = "deputy-director"
        case headOfDivision = "head-of-division"

        /// The registry's role of the position's holders.
        public var role: PrincipalRole {
            switch self {
            case .director: .director
            case .deputyDirector: .deputyDirector
            case .headOfDivision: .headOfDivision
            }
        }
    }
}
