/// Workflows replaced (a deployment before or without `deploy/workflows/`, tests).
extension AuthorityBundle {
    /// The same catalogue, delegations, calendar and rules with other workflows.
    public func replacingWorkflows(_ workflows: [DepartmentID: DepartmentWorkflow]) -> AuthorityBundle {
        AuthorityBundle(
            catalogue: catalogue, delegations: delegations, calendar: calendar, ruleSets: ruleSets, workflows: workflows,
            warnings: warnings)
    }
}
