/// The procedure catalogue: departments, document types and procedures.
public struct Catalogue: Sendable {
    /// Departments in file order; includes the delegator `city`.
    public let departments: [Department]
    public let documentTypes: [DocumentType]
    /// Procedures in load order.
    public let procedures: [Procedure]

    private let departmentIndex: [String: Int]
    private let documentIndex: [String: Int]
    private let procedureIndex: [String: Int]
    /// `procedureIndex` for the evaluation hot path.
    private let procedureLookup: StringIndex

    /// The id of the delegator, the City People's Committee.
    public static let delegatorId = "city"

    /// Builds a catalogue; ids and codes are expected to be unique (the loader reports duplicates).
    public init(departments: [Department], documentTypes: [DocumentType], procedures: [Procedure]) {
        self.departments = departments
        self.documentTypes = documentTypes
        self.procedures = procedures
        departmentIndex = Dictionary(departments.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
        documentIndex = Dictionary(documentTypes.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
        procedureIndex = Dictionary(procedures.enumerated().map { ($1.code, $0) }, uniquingKeysWith: { a, _ in a })
        procedureLookup = StringIndex(procedureIndex)
    }

    public func department(_ id: String) -> Department? {
        departmentIndex[id].map { departments[$0] }
    }

    public func documentType(_ id: String) -> DocumentType? {
        documentIndex[id].map { documentTypes[$0] }
    }

    /// The procedure with this national code.
    public func procedure(_ code: String) -> Procedure? {
        procedureIndex[code].map { procedures[$0] }
    }

    /// The required document types of a procedure, without copying the whole procedure.
    func requiredDocuments(_ code: String) -> [String]? {
        guard let i = procedureLookup[code] else { return nil }
        return procedures[i].documents
    }

    /// The procedures owned by a department (its catalogue file).
    public func procedures(ownedBy department: String) -> [Procedure] {
        procedures.filter { $0.department == department }
    }
}
