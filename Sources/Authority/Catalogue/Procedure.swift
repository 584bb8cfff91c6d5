/// An administrative procedure of the national database, as handled by the city.
public struct Procedure: Sendable, Hashable {
    /// One department's part of the procedure and its slice of the time limit.
    public struct Step: Sendable, Hashable {
        public var department: DepartmentID
        public var timeLimit: TimeLimit

        public init(department: DepartmentID, timeLimit: TimeLimit) {
            self.department = department
            self.timeLimit = timeLimit
        }
    }

    /// Whether the procedure can be completed online end to end.
    public enum OnlineLevel: String, Sendable, Hashable, CaseIterable {
        case full
        case partial
    }

    /// National database code, unique across the catalogue.
    public var code: String
    /// The code as published on the national portal (catalogue `nationalCode`), when known; it may differ from
    /// ``code``, the internal identifier rules and delegations refer to. Not part of the catalogue's terms.
    public var nationalCode: String?
    public var name: String
    public var gloss: String
    /// The department that owns the procedure (its catalogue file) and takes the last step.
    public var department: DepartmentID
    public var timeLimit: TimeLimit
    public var onlineLevel: OnlineLevel
    public var legalBasis: [String]
    /// Required document-type ids.
    public var documents: [String]
    /// The facts (`facts.<name>` of a dossier) the procedure takes: those its rules and delegations read. An
    /// applicant's supplement may set only these (catalogue `facts`). Nil when the catalogue entry declares none:
    /// then what its rules read is not checked, and a supplement sets no facts.
    public var facts: [String]?
    /// Never empty: a procedure without interconnected steps has one step, its department, its whole limit.
    public var steps: [Step]
    /// Whether its time limit, level and legal basis were checked against a published source
    /// (`deploy/README-data.md`). Default: false.
    public var verified = false
    /// What could not be verified, when not verified.
    public var unverifiedBecause: String?
    /// The fee the applicant pays (phí, lệ phí), if the procedure has one: the rules request it before the approval
    /// takes effect, and the clock pauses until a registered payment gateway confirms it (issue 21).
    public var fee: Fee?
    /// When and where the procedure moved (to the commune level, merged into another), if it did.
    public var moved: (on: String, to: String)? {
        get { movedOn.map { ($0, movedTo ?? "") } }
        set { movedOn = newValue?.on; movedTo = newValue?.to }
    }
    private var movedOn: String?
    private var movedTo: String?

    public init(
        code: String, name: String, gloss: String, department: DepartmentID, timeLimit: TimeLimit,
        onlineLevel: OnlineLevel, legalBasis: [String], documents: [String], steps: [Step] = []
    ) {
        self.code = code
        self.name = name
        self.gloss = gloss
        self.department = department
        self.timeLimit = timeLimit
        self.onlineLevel = onlineLevel
        self.legalBasis = legalBasis
        self.documents = documents
        self.steps = steps.isEmpty ? [Step(department: department, timeLimit: timeLimit)] : steps
    }

    /// A procedure's fee: an amount in đồng, and the applicant kinds exempt from it.
    public struct Fee: Sendable, Hashable {
        public var amountVND: Int
        public var exemptApplicantKinds: [Dossier.Applicant.Kind]
        /// Where the amount comes from (a legal text), when the catalogue names it.
        public var legalBasis: String?

        public init(amountVND: Int, exemptApplicantKinds: [Dossier.Applicant.Kind] = [], legalBasis: String? = nil) {
            self.amountVND = amountVND
            self.exemptApplicantKinds = exemptApplicantKinds
            self.legalBasis = legalBasis
        }
    }

    /// The fee an applicant of `kind` owes (nil when the procedure has none, or the kind is exempt, or it is zero).
    public func feeDue(for kind: Dossier.Applicant.Kind) -> Int? {
        guard let fee, fee.amountVND > 0, !fee.exemptApplicantKinds.contains(kind) else { return nil }
        return fee.amountVND
    }

    /// Whether the procedure bears a fee for some applicant (the online-payment indicator's procedures).
    public var isFeeBearing: Bool { (fee?.amountVND ?? 0) > 0 }

    /// Whether the procedure crosses departments (liên thông).
    public var isInterconnected: Bool { steps.count > 1 }

    /// The step of `department`, if it takes part.
    public func step(of department: DepartmentID) -> Step? {
        steps.first { $0.department == department }
    }

    /// The department after `department` in the steps, if any.
    public func nextDepartment(after department: DepartmentID) -> DepartmentID? {
        guard let i = steps.firstIndex(where: { $0.department == department }), i + 1 < steps.count else { return nil }
        return steps[i + 1].department
    }
}
