/// Delegation changes recorded after the files were loaded (`motcua delegations grant|revoke`).
extension AuthorityBundle {
    /// The same catalogue, calendar and rules with another set of delegation records.
    public func replacingDelegations(_ delegations: DelegationRegistry) -> AuthorityBundle {
        AuthorityBundle(
            catalogue: catalogue, delegations: delegations, calendar: calendar, ruleSets: ruleSets, workflows: workflows,
            warnings: warnings)
    }
}
