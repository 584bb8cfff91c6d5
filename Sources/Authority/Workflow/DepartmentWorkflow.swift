/// How a department handles the procedure steps it takes: which division, and the internal stages a dossier moves
/// through (specialist → head of division → director), each with its share of the step's time.
///
/// Loaded from `deploy/workflows/<department>.yaml`: a default route for the department and per-procedure
/// overrides. Pure data; the stage quotas and due instants are ``StagePlan``'s.
public struct DepartmentWorkflow: Sendable, Hashable {
    /// A division (phòng) of the department.
    public struct Division: Sendable, Hashable {
        public var id: String
        public var name: String

        public init(id: String, name: String) {
            self.id = id
            self.name = name
        }
    }

    public var department: DepartmentID
    public var divisions: [Division]
    /// The route of every procedure the department takes that has no override.
    public var defaultRoute: WorkflowRoute
    /// Routes by procedure code.
    public var overrides: [String: WorkflowRoute]

    public init(
        department: DepartmentID, divisions: [Division], defaultRoute: WorkflowRoute,
        overrides: [String: WorkflowRoute] = [:]
    ) {
        self.department = department
        self.divisions = divisions
        self.defaultRoute = defaultRoute
        self.overrides = overrides
    }

    /// The route of `procedure` in this department.
    public func route(procedure: String) -> WorkflowRoute {
        overrides[procedure] ?? defaultRoute
    }
}

/// The division that handles a procedure and the ordered stages inside it.
public struct WorkflowRoute: Sendable, Hashable {
    public var division: String
    /// Never empty; the last stage's role is the one that signs (the director, or a deputy authorised by them).
    public var stages: [WorkflowStage]

    public init(division: String, stages: [WorkflowStage]) {
        self.division = division
        self.stages = stages
    }

    /// The stages a dossier goes through: all of them, or when the rules decided automatically only those that may
    /// not be skipped.
    public func stages(automatic: Bool) -> [WorkflowStage] {
        automatic ? stages.filter { !$0.skippableWhenAutomatic } : stages
    }
}

/// One internal stage: who acts (by role), and its share of the department's time for the step.
public struct WorkflowStage: Sendable, Hashable {
    /// Unique within its route (`examine`, `check`, `sign`).
    public var id: String
    public var role: StageRole
    /// Share of the step's working days, in (0, 1]; the shares of a route add up to 1.
    public var share: Double
    /// Whether the stage is left out when the rules decided automatically.
    public var skippableWhenAutomatic: Bool

    public init(id: String, role: StageRole, share: Double, skippableWhenAutomatic: Bool = false) {
        self.id = id
        self.role = role
        self.share = share
        self.skippableWhenAutomatic = skippableWhenAutomatic
    }
}

/// The role that acts at a stage, by rank.
public enum StageRole: String, Sendable, Hashable, CaseIterable, Comparable {
    /// Chuyên viên: examines the dossier and drafts.
    case specialist
    /// Trưởng phòng: checks the draft.
    case headOfDivision = "head-of-division"
    /// Giám đốc (or a deputy holding a work authorisation): signs.
    case director

    public var rank: Int {
        switch self {
        case .specialist: 1
        case .headOfDivision: 2
        case .director: 3
        }
    }

    public static func < (lhs: StageRole, rhs: StageRole) -> Bool { lhs.rank < rhs.rank }

    /// The stage role a principal holds, if any (a deputy director acts at the director's stages).
    public init?(_ role: PrincipalRole) {
        switch role {
        case .specialist: self = .specialist
        case .headOfDivision: self = .headOfDivision
        case .deputyDirector, .director: self = .director
        case .desk, .service: return nil
        }
    }
}
