import Authority
import Foundation
import Messages

/// Generates realistic intake dossiers, reproducibly from a seed: procedures across the catalogue, 93% online,
/// communes of the catalogue's list (`catalog/communes.yaml`), complete documents unless asked otherwise, and facts mostly inside the usual limits with a
/// share outside them (so that every outcome occurs).
///
/// Names and ids are synthetic; nothing here is personal data.
public struct DossierGenerator: Sendable {
    public let catalogue: Catalogue
    /// Per procedure code: the applicant kinds the generator draws from (enterprises and organisations that a
    /// delegation to the procedure's first department admits; enterprises when none does).
    private let applicantKinds: [String: [Dossier.Applicant.Kind]]
    private var state: UInt64
    private var counter: UInt64 = 0

    /// Draws procedures from the bundle's catalogue, and applicants of the kinds its delegations admit for each.
    public init(bundle: AuthorityBundle, seed: UInt64) {
        self.catalogue = bundle.catalogue
        self.state = seed &+ 0x9E37_79B9_7F4A_7C15
        var kinds: [String: [Dossier.Applicant.Kind]] = [:]
        let drawn: [Dossier.Applicant.Kind] = [.enterprise, .organisation]
        for procedure in bundle.catalogue.procedures {
            guard let first = procedure.steps.first?.department else { continue }
            var admitted = Set<Dossier.Applicant.Kind>()
            for record in bundle.delegations.records
            where record.delegatee == first && record.scope.procedures.contains(procedure.code) {
                admitted.formUnion(record.scope.subjects ?? drawn)
            }
            let usable = drawn.filter(admitted.contains)
            kinds[procedure.code] = usable.isEmpty ? [.enterprise] : usable
        }
        applicantKinds = kinds
    }

    /// SplitMix64.
    public mutating func nextRandom() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func uniform(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(nextRandom() % UInt64(range.count))
    }

    mutating func chance(_ probability: Double) -> Bool {
        Double(nextRandom() % 1_000_000) / 1_000_000 < probability
    }

    /// A dossier id (UUID) derived from the generator's state.
    public mutating func nextID() -> String {
        counter += 1
        let a = nextRandom(), b = nextRandom()
        var bytes = [UInt8](repeating: 0, count: 16)
        for i in 0..<8 {
            bytes[i] = UInt8(truncatingIfNeeded: a >> (8 * UInt64(i)))
            bytes[8 + i] = UInt8(truncatingIfNeeded: b >> (8 * UInt64(i)))
        }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                           bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
            .uuidString.lowercased()
    }

    /// The next dossier: of `procedure` if given, else of a procedure of `department` if given, else of any (not
    /// one moved away on or before the submission day).
    /// `incompleteShare` of dossiers lack one required document; `outsideShare` get facts beyond the usual limits.
    public mutating func next(
        procedure code: String? = nil, department: DepartmentID? = nil, submittedAt: Date, incompleteShare: Double = 0,
        outsideShare: Double = 0.1
    ) -> Dossier {
        let all = department.map { catalogue.procedures(ownedBy: $0) } ?? catalogue.procedures
        // Not a procedure that had moved away by then (reception refuses those); one asked for by code is kept.
        let day = LocalDate(instant: submittedAt).description
        let current = all.filter { $0.moved.map { $0.on > day } ?? true }
        let candidates = current.isEmpty ? all : current
        let procedure = code.flatMap { catalogue.procedure($0) } ?? candidates[uniform(0...(candidates.count - 1))]
        var documents = procedure.documents
        if !documents.isEmpty && chance(incompleteShare) { documents.remove(at: uniform(0...(documents.count - 1))) }
        let kinds = applicantKinds[procedure.code] ?? [.enterprise]
        let kind = kinds.count == 1 ? kinds[0] : kinds[uniform(0...(kinds.count - 1))]
        let applicantID = kind == .enterprise
            ? String(format: "01%08ld", uniform(0...99_999_999)) : "ORG-\(uniform(1000...9999))"
        let outside = chance(outsideShare)
        return Dossier(
            id: nextID(), procedure: procedure.code, submittedAt: submittedAt,
            channel: chance(0.93) ? .online : (chance(0.9) ? .counter : .post),
            commune: nextCommune(),
            applicant: Dossier.Applicant(kind: kind, id: applicantID, name: "Applicant \(counter)"),
            documents: documents, facts: facts(outside: outside))
    }

    /// A commune of the catalogue's list; a synthetic 5-digit code only when no list is loaded.
    mutating func nextCommune() -> String {
        let listed = catalogue.communes.communes
        if listed.isEmpty { return String(format: "%05ld", uniform(1...584) * 4) }
        return listed[uniform(0...(listed.count - 1))].code
    }

    mutating func facts(outside: Bool) -> [String: FactValue] {
        var f: [String: FactValue] = [
            "capitalVnd": .integer(Int64(outside ? uniform(60...2_000) : uniform(1...45)) * 1_000_000_000),
            "areaM2": .number(Double(uniform(40...400))),
            "minRoomAreaM2": .number(Double(uniform(20...40))),
            "distanceToSchoolM": .number(Double(outside ? uniform(10...90) : uniform(150...2_000))),
            "permitMonths": .integer(Int64(outside ? uniform(25...36) : uniform(6...24))),
            "insideIndustrialZone": .bool(!outside),
            "eventScale": .string(outside ? "international" : (chance(0.5) ? "local" : "city")),
            "extractionM3PerDay": .number(Double(outside ? uniform(3_000...5_000) : uniform(10...2_500))),
            "workerNationality": .string(["JP", "KR", "CN", "US", "DE"][uniform(0...4)]),
            "workerAge": .integer(Int64(outside ? uniform(15...17) : uniform(22...60))),
            "jobPosition": .string(["manager", "executive", "expert", "technician"][uniform(0...3)]),
            "experienceYears": .integer(Int64(outside ? uniform(0...1) : uniform(3...20))),
            "healthCertificateAgeMonths": .integer(Int64(outside ? uniform(13...24) : uniform(0...11))),
            "criminalRecordAgeMonths": .integer(Int64(outside ? uniform(7...12) : uniform(0...5))),
            "documentsLegalised": .bool(!outside || chance(0.5)),
            "workProvinces": .integer(Int64(outside ? uniform(2...3) : 1)),
            "extensionCount": .integer(Int64(outside ? uniform(1...2) : 0)),
            "reissueReason": .string(["lost", "damaged", "particulars-changed"][uniform(0...2)]),
            "recruitmentAdvertisedDays": .integer(Int64(outside ? uniform(1...10) : uniform(15...60))),
            "depositVnd": .integer(Int64(outside ? 1 : 2) * 1_000_000_000),
            "managerHasDegree": .bool(!outside),
            "managerExperienceYears": .integer(Int64(outside ? uniform(0...1) : uniform(2...10))),
            "employees": .integer(Int64(uniform(5...900))),
            "fireSafetyValid": .bool(!outside),
            "fireSafetyDesignApproved": .bool(!outside),
            "foodSafetyCertificateValid": .bool(!outside),
            "productionCapacityLitresPerYear": .integer(Int64(outside ? uniform(3_000_000...5_000_000) : uniform(10_000...2_900_000))),
            "retailerCount": .integer(Int64(outside ? uniform(0...2) : uniform(3...50))),
            "promotionValuePct": .number(Double(outside ? uniform(51...80) : uniform(5...50))),
            "priorViolations": .integer(Int64(outside ? uniform(1...3) : 0)),
            "requiresMinistryOpinion": .bool(outside && chance(0.5)),
            "projectGroup": .string(outside ? "I" : ["II", "III", "IV"][uniform(0...2)]),
            "wastewaterM3PerDay": .number(Double(uniform(0...400))),
            "hasWastewaterTreatment": .bool(!outside || chance(0.5)),
            "inRestrictedZone": .bool(outside),
            "waterAnalysisAgeMonths": .integer(Int64(outside ? uniform(7...12) : uniform(0...5))),
            "landDispute": .bool(outside && chance(0.5)),
            "changeKind": .string(["administrative", "technical", "capacity"][uniform(0...2)]),
            "requiresPolicyApproval": .bool(outside && chance(0.5)),
            "businessSector": .string(outside ? "fireworks" : ["electronics", "textiles", "food-processing"][uniform(0...2)]),
            "constructionGrade": .string(outside ? "special" : ["II", "III", "IV"][uniform(0...2)]),
            "planningCompliant": .bool(!outside),
            "connectedToCentralWwtp": .bool(!outside),
            "sportsStaffCertified": .bool(!outside),
            "contentApproved": .bool(!outside),
            "daysBeforeEvent": .integer(Int64(outside ? uniform(1...4) : uniform(20...60))),
            "includesNationalTreasure": .bool(outside && chance(0.3)),
        ]
        if outside && chance(0.3) { f.removeValue(forKey: "capitalVnd") }
        return f
    }
}
