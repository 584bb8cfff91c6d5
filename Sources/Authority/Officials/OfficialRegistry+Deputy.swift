import Foundation

extension OfficialRegistry {
    /// Whether a deputy director may take a stage action (issue 20) on a dossier step of `procedure` in `department`
    /// at `now`: as for a signature, only with a work authorisation covering the procedure at that instant from the
    /// director they act for — the stage's holder when a director holds it (`holder`), otherwise any official who
    /// then holds the director's position in the department. Nil for anyone who is not a deputy director (their
    /// role is checked by ``StageMachine``); `not-the-delegate` for a deputy without such an authorisation.
    public func mayActAsDeputy(
        _ principal: Principal, department: DepartmentID, procedure: String, holder: String?, at now: Date
    ) -> CommandRefusal? {
        guard principal.role == .deputyDirector else { return nil }
        let actedFor = holder.flatMap { principals[$0] }.flatMap { holds($0, .director, department: department, at: now) ? $0 : nil }
        let authorised = authorisations.contains { authorisation in
            guard authorisation.deputy == principal.id, authorisation.covers(procedure: procedure, at: now),
                let grantor = principals[authorisation.forOfficial]
            else { return false }
            if let actedFor { return grantor.id == actedFor.id }
            return holds(grantor, .director, department: department, at: now)
        }
        if authorised { return nil }
        let whom = actedFor.map { "director '\($0.id)', who holds the stage" } ?? "a director of \(department.rawValue)"
        return .notTheDelegate(
            "a deputy director acts at a stage only with a work authorisation from \(whom) covering procedure "
                + "\(procedure) at this instant")
    }
}
