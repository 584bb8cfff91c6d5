import Foundation

/// A stage action an official takes on a dossier step inside the department (signing and refusing are
/// ``SignCommand``s, checked against the last stage).
public enum StageAction: String, Sendable, Hashable, CaseIterable, Codable {
    /// A specialist hands the examined dossier and draft to the next stage.
    case propose
    /// A head of division approves the draft and hands it to the next stage.
    case approve
    /// Back to the previous stage, with a reason.
    case `return`
    /// To another official of the same stage and role.
    case transfer
    /// The sender takes back what they handed over, before the receiver acted.
    case recall
    /// A head of division or above (re)assigns the stage to an official of its role (`motcua review assign`): a
    /// transfer decided by a leader, which may also take a stage from the division's queue.
    case assign
}

/// One stage of a dossier step's planned route: its id, role and quota in working days.
public struct PlannedStage: Sendable, Hashable {
    public var id: String
    public var role: StageRole
    public var quota: Int

    public init(id: String, role: StageRole, quota: Int) {
        self.id = id
        self.role = role
        self.quota = quota
    }

    /// The route as stored (`stages.route`): "id role quota" joined by ",".
    public static func encode(_ route: [PlannedStage]) -> String {
        route.map { "\($0.id) \($0.role.rawValue) \($0.quota)" }.joined(separator: ",")
    }

    public static func decode(_ text: String) -> [PlannedStage]? {
        var route: [PlannedStage] = []
        for part in text.split(separator: ",") {
            let fields = part.split(separator: " ")
            guard fields.count == 3, let role = StageRole(rawValue: String(fields[1])), let quota = Int(fields[2]) else {
                return nil
            }
            route.append(PlannedStage(id: String(fields[0]), role: role, quota: quota))
        }
        return route.isEmpty ? nil : route
    }

    /// The planned route of `route` for a step of `stepWorkingDays`.
    public static func plan(_ route: WorkflowRoute, stepWorkingDays: Int, automatic: Bool = false) -> [PlannedStage] {
        let plan = StagePlan(route: route, stepWorkingDays: stepWorkingDays, automatic: automatic)
        return zip(plan.stages, plan.quotas).map { PlannedStage(id: $0.id, role: $0.role, quota: $1) }
    }
}

/// Where a dossier step stands inside the department: its route, the stage it is at, who holds it and who sent it.
public struct StageState: Sendable, Hashable {
    public var route: [PlannedStage]
    public var position: Int
    public var assignee: String?
    public var sender: String?
    public var senderPosition: Int?

    public init(route: [PlannedStage], position: Int, assignee: String?, sender: String? = nil, senderPosition: Int? = nil) {
        self.route = route
        self.position = position
        self.assignee = assignee
        self.sender = sender
        self.senderPosition = senderPosition
    }

    public var stage: PlannedStage { route[position] }
    public var isLast: Bool { position == route.count - 1 }
}

/// What an accepted stage action does.
public struct StageMove: Sendable, Hashable {
    /// The stage the dossier goes to.
    public var position: Int
    /// Who receives it: an official named by the action or the rules of the move (a return to the previous holder,
    /// a recall to the sender), or nil when the worker assigns it round-robin within the division.
    public var assignee: String?
    /// The role the actor acted with when above the stage's (a leader acting on a lower stage), else nil.
    public var actedAs: StageRole?
}

/// The rules of stage actions: pure, so the worker and the audit replay reach the same answer.
public enum StageMachine {
    /// Whether `principal` may take `action` on a step in `state` of `department` at `now`; the move if so.
    ///
    /// - The actor is an official of the department.
    /// - `stage` names the stage the official saw: another one is `stale`.
    /// - propose at a specialist stage, approve at a head of division's; both hand over to the next stage, never
    ///   past the director's (which signs or refuses).
    /// - return needs a reason and a previous stage; it goes back to whoever handed the dossier over from there.
    /// - transfer names an official of the department, valid at `now`, holding the stage's role; so does assign,
    ///   which only a head of division or above takes (the worker also holds its receiver to the stage's division).
    /// - the holder acts, or a leader of a higher role (recorded as such); nobody of a lower role; on a stage
    ///   nobody holds (the division's queue) an official of the stage's role may take the action.
    /// - recall: only the sender, while the dossier is still at the stage they sent it to.
    /// - a deputy director acts only with a work authorisation covering `procedure` now from the director they act
    ///   for (``OfficialRegistry/mayActAsDeputy(_:department:procedure:holder:at:)``), as for a signature.
    public static func check(
        _ action: StageAction, by principal: Principal, stage seen: String, to target: String?, reason: String?,
        state: StageState, department: DepartmentID, procedure: String, registry: OfficialRegistry, at now: Date
    ) -> Result<StageMove, CommandRefusal> {
        if let refusal = registry.mayActForDepartment(principal, department: department) { return .failure(refusal) }
        if let refusal = registry.mayActAsDeputy(
            principal, department: department, procedure: procedure, holder: state.assignee, at: now)
        {
            return .failure(refusal)
        }
        guard let role = StageRole(principal.role) else {
            return .failure(.roleNotAllowed(principal.role, "act at a stage"))
        }
        let stage = state.stage
        guard seen == stage.id else {
            return .failure(.stale("the dossier is at stage '\(stage.id)' (\(stage.role.rawValue)), not '\(seen)'"))
        }
        // Who may act on this stage: its holder, a leader above its role, or anyone of its role when nobody holds it.
        let actedAs: StageRole?
        if action == .recall || principal.id == state.assignee {
            actedAs = nil
        } else if role > stage.role {
            actedAs = role
        } else if state.assignee == nil && role == stage.role {
            actedAs = nil
        } else {
            return .failure(.roleNotAllowed(
                principal.role,
                "act on stage '\(stage.id)' (\(stage.role.rawValue)) held by another official"))
        }
        switch action {
        case .propose, .approve:
            let expected: StageRole = action == .propose ? .specialist : .headOfDivision
            guard stage.role == expected else {
                return .failure(.stale(
                    "\(action.rawValue) is taken at a \(expected.rawValue) stage; stage '\(stage.id)' is the \(stage.role.rawValue)'s"))
            }
            guard !state.isLast else {
                return .failure(.stale("stage '\(stage.id)' is the last: its decision is signed or refused"))
            }
            return .success(StageMove(position: state.position + 1, assignee: target, actedAs: actedAs))
        case .return:
            guard let reason, !reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                return .failure(.stale("a return names its reason"))
            }
            guard state.position > 0 else {
                return .failure(.stale("stage '\(stage.id)' is the first: there is no previous stage to return to"))
            }
            let back = state.position - 1
            let previousHolder = state.senderPosition == back ? state.sender : nil
            return .success(StageMove(position: back, assignee: previousHolder, actedAs: actedAs))
        case .transfer, .assign:
            guard action == .transfer || role >= .headOfDivision else {
                return .failure(.roleNotAllowed(
                    principal.role, "assign stage '\(stage.id)': heads of division and above assign"))
            }
            guard let target, let receiver = registry.principals[target] else {
                return .failure(.unknownPrincipal(target ?? ""))
            }
            guard receiver.department == department.rawValue, StageRole(receiver.role) == stage.role,
                receiver.role != .deputyDirector || stage.role != .director
            else {
                return .failure(.roleNotAllowed(
                    receiver.role, "receive stage '\(stage.id)' (\(stage.role.rawValue)) of \(department)"))
            }
            guard Self.isValid(receiver, at: now) else {
                return .failure(.keyExpired(receiver.revokedAt ?? receiver.validTo))
            }
            return .success(StageMove(position: state.position, assignee: target, actedAs: actedAs))
        case .recall:
            guard principal.id == state.sender, let back = state.senderPosition else {
                return .failure(.notTheDelegate(
                    "only the official who handed the dossier over may recall it, before it is acted on"))
            }
            return .success(StageMove(position: back, assignee: principal.id, actedAs: nil))
        }
    }

    /// Whether a registry entry is valid at `now` (registered, not revoked, certificate valid).
    public static func isValid(_ principal: Principal, at now: Date) -> Bool {
        principal.registeredAt <= now && principal.validFrom <= now && now <= principal.validTo
            && (principal.revokedAt.map { $0 > now } ?? true)
    }

    /// The officials a stage of `role` in `division` of `department` is assigned to in turn: valid at `now`, of
    /// that role (a director's stage: the department's directors; others: the division's officials), by id.
    public static func candidates(
        role: StageRole, division: String, department: DepartmentID, registry: OfficialRegistry, at now: Date
    ) -> [String] {
        registry.principals.values.filter { principal in
            guard principal.department == department.rawValue, isValid(principal, at: now) else { return false }
            switch role {
            case .director: return principal.role == .director
            case .headOfDivision: return principal.role == .headOfDivision && principal.division == division
            case .specialist: return principal.role == .specialist && principal.division == division
            }
        }.map(\.id).sorted()
    }
}
