/// The procedure catalogue: departments, document types and procedures.
///
/// One reference to an immutable object: copying a catalogue retains once instead of every array and index.
public struct Catalogue: Sendable {
    /// Departments in file order; includes the delegator `city`.
    public var departments: [Department] { core.departments }
    public var documentTypes: [DocumentType] { core.documentTypes }
    /// Procedures in load order.
    public var procedures: [Procedure] { core.procedures }
    /// The communes and wards a dossier may name (`catalog/communes.yaml`).
    public var communes: CommuneList { core.communes }

    final class Core: Sendable {
        let departments: [Department]
        let documentTypes: [DocumentType]
        let procedures: [Procedure]
        let communes: CommuneList
        let departmentIndex: [DepartmentID: Int]
        let documentIndex: [String: Int]
        let procedureIndex: [String: Int]
        /// `procedureIndex` for the evaluation hot path.
        let procedureLookup: StringIndex
        /// The required documents of every procedure in one array: procedure `i`'s are
        /// `required[requiredStart[i]..<requiredStart[i + 1]]`.
        let requiredStart: [Int32]
        let required: [String]

        init(departments: [Department], documentTypes: [DocumentType], procedures: [Procedure], communes: CommuneList) {
            self.departments = departments
            self.documentTypes = documentTypes
            self.procedures = procedures
            self.communes = communes
            departmentIndex = Dictionary(departments.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
            documentIndex = Dictionary(documentTypes.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
            procedureIndex = Dictionary(procedures.enumerated().map { ($1.code, $0) }, uniquingKeysWith: { a, _ in a })
            procedureLookup = StringIndex(procedureIndex)
            var start: [Int32] = [0]
            for procedure in procedures { start.append(start.last! + Int32(procedure.documents.count)) }
            requiredStart = start
            required = procedures.flatMap(\.documents)
        }

        /// Whether the dossier lacks a required document of procedure `i` (an index into `procedures`): the
        /// answer of `!procedures[i].documents.allSatisfy(dossier.documents.contains)`, without copying either list.
        func lacksDocument(_ d: UnsafePointer<Dossier>, procedure i: Int) -> Bool {
            let (first, end) = requiredStart.withUnsafeBufferPointer { (Int($0[i]), Int($0[i + 1])) }
            if first == end { return false }
            return required.withUnsafeBufferPointer { required in
                d.pointee.documents.withUnsafeBufferPointer { documents in
                    for r in first..<end {
                        // The same representation first, then the same bytes (the usual cases); `==` only for a
                        // document not found so.
                        var found = false
                        for k in 0..<documents.count where RawStringTable.sameRepresentation(documents[k], required[r])
                        {
                            found = true
                            break
                        }
                        if found { continue }
                        for k in 0..<documents.count where RawStringTable.sameBytes(documents[k], required[r]) {
                            found = true
                            break
                        }
                        if found { continue }
                        for k in 0..<documents.count where documents[k] == required[r] {
                            found = true
                            break
                        }
                        if !found { return true }
                    }
                    return false
                }
            }
        }

        /// The required document types of a procedure, without copying the whole procedure.
        func requiredDocuments(_ code: String, hash: UInt64?) -> [String]? {
            guard let i = procedureLookup[code, hash: hash] else { return nil }
            return procedures[i].documents
        }
    }

    let core: Core

    /// The id of the delegator, the City People's Committee.
    public static let delegatorId = DepartmentID.city

    /// Builds a catalogue; ids and codes are expected to be unique (the loader reports duplicates).
    public init(
        departments: [Department], documentTypes: [DocumentType], procedures: [Procedure], communes: CommuneList = .empty
    ) {
        core = Core(departments: departments, documentTypes: documentTypes, procedures: procedures, communes: communes)
    }

    public func department(_ id: DepartmentID) -> Department? {
        core.departmentIndex[id].map { core.departments[$0] }
    }

    public func documentType(_ id: String) -> DocumentType? {
        core.documentIndex[id].map { core.documentTypes[$0] }
    }

    /// The procedure with this national code.
    public func procedure(_ code: String) -> Procedure? {
        core.procedureIndex[code].map { core.procedures[$0] }
    }

    /// The required document types of a procedure, without copying the whole procedure.
    func requiredDocuments(_ code: String) -> [String]? {
        core.requiredDocuments(code, hash: StringIndex.asciiHash(code))
    }

    /// The procedures owned by a department (its catalogue file).
    public func procedures(ownedBy department: DepartmentID) -> [Procedure] {
        core.procedures.filter { $0.department == department }
    }
}
