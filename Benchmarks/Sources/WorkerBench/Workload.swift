import BenchSupport
import Authority
import Foundation
import Audit
import EffectivelyOnce
import Messages
import Services
import Simulation
import Store

/// Reproducible dossiers of the industrial-zones authority (the 20-rule table), with facts drawn so that every
/// outcome occurs in realistic shares: most approve (auto or for signature), some supplement (stale certificates,
/// missing documents, malformed enterprise codes), refuse or escalate (outside the delegation, not-yet-valid
/// delegation for environmental permits).
///
/// Names and ids are synthetic; nothing here is personal data.
struct Workload {
    static let department: DepartmentID = "industrial-zones"

    let catalogue: Catalogue
    /// The department's procedures whose first step it decides (intake can route them straight to its topic).
    let intakeProcedures: [Procedure]
    /// Every (procedure, step) the department decides.
    let steps: [(procedure: Procedure, step: Int)]
    private var generator: SplitMix64

    init(bundle: AuthorityBundle, seed: UInt64) {
        catalogue = bundle.catalogue
        let owned = bundle.catalogue.procedures.filter { procedure in
            procedure.steps.contains { $0.department == Workload.department }
        }
        // Not a procedure that moved away (reception refuses its dossiers: the latency part waited for them in vain).
        intakeProcedures = owned.filter { $0.steps.first?.department == Workload.department && $0.moved == nil }
        steps = owned.flatMap { procedure in
            procedure.steps.indices.filter { procedure.steps[$0].department == Workload.department }.map {
                (procedure, $0)
            }
        }
        generator = SplitMix64(seed: seed &+ 0x9E37_79B9_7F4A_7C15)
    }

    mutating func random() -> UInt64 { generator.next() }

    mutating func uniform(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(random() % UInt64(range.count))
    }

    mutating func chance(_ probability: Double) -> Bool {
        Double(random() % 1_000_000) / 1_000_000 < probability
    }

    mutating func pick<T>(_ values: [T]) -> T { values[uniform(0...(values.count - 1))] }

    mutating func uuid() -> String {
        let a = random()
        let b = random()
        var bytes = [UInt8](repeating: 0, count: 16)
        for i in 0..<8 {
            bytes[i] = UInt8(truncatingIfNeeded: a >> (8 * UInt64(i)))
            bytes[8 + i] = UInt8(truncatingIfNeeded: b >> (8 * UInt64(i)))
        }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            )
        )
        .uuidString.lowercased()
    }

    /// A dossier of `procedure`; `incompleteShare` of them lack one required document.
    mutating func dossier(_ procedure: Procedure, submittedAt: Date, incompleteShare: Double) -> Dossier {
        var documents = procedure.documents
        if documents.count > 1 && chance(incompleteShare) { documents.remove(at: uniform(0...(documents.count - 1))) }
        // About 1% of enterprise codes are malformed (a department check asks for a supplement).
        let enterprise =
            chance(0.01)
            ? String(format: "01%06d", uniform(0...999_999))
            : String(format: "01%08d", uniform(0...99_999_999))
        return Dossier(
            id: uuid(), procedure: procedure.code, submittedAt: submittedAt,
            channel: chance(0.93) ? .online : (chance(0.9) ? .counter : .post),
            // A commune of the list in force (reception refuses any other code since the communes catalogue): the
            // latency part's intake dossiers were all dead-lettered with the old synthetic codes.
            commune: catalogue.communes.communes.isEmpty
                ? String(format: "%05d", uniform(1...584) * 4)
                : catalogue.communes.communes[uniform(0...(catalogue.communes.communes.count - 1))].code,
            applicant: Dossier.Applicant(
                kind: .enterprise, id: enterprise, name: "Công ty TNHH Mẫu \(uniform(1...99_999))"),
            documents: documents, facts: facts(for: procedure.code))
    }

    /// Facts the industrial-zones rules and delegations read, mostly inside the usual limits.
    mutating func facts(for code: String) -> [String: FactValue] {
        var f: [String: FactValue] = ["insideIndustrialZone": .bool(!chance(0.02))]
        switch code {
        case "2.000192", "2.001955":  // work permit, extension
            f["permitMonths"] = .integer(chance(0.03) ? 36 : Int64(pick([12, 18, 24])))
            f["healthCertificateAgeMonths"] = .integer(Int64(chance(0.06) ? uniform(13...20) : uniform(0...11)))
            f["criminalRecordAgeMonths"] = .integer(Int64(chance(0.04) ? uniform(7...12) : uniform(0...5)))
            f["documentsLegalised"] = .bool(!chance(0.03))
            f["workProvinces"] = .integer(chance(0.04) ? 2 : 1)
            f["workerAge"] = .integer(Int64(chance(0.01) ? 17 : uniform(22...60)))
            f["jobPosition"] = .string(pick(["expert", "manager", "technical-worker", "executive"]))
            f["experienceYears"] = .integer(Int64(uniform(1...20)))
            f["extensionCount"] = .integer(chance(0.1) ? 1 : 0)
            f["nationality"] = .string(pick(["KR", "CN", "JP", "TW", "SG", "DE", "US"]))
        case "2.000219":  // re-issue
            f["reissueReason"] = .string(pick(["lost", "damaged", "lost", "information-changed"]))
        case "2.000184":  // demand for foreign workers
            f["workProvinces"] = .integer(chance(0.04) ? 2 : 1)
            f["recruitmentAdvertisedDays"] = .integer(Int64(chance(0.08) ? uniform(5...14) : uniform(15...45)))
            f["foreignWorkers"] = .integer(Int64(uniform(1...40)))
        case "2.002096", "2.002097":  // investment certificate, adjustment
            f["capitalVnd"] = .integer(Int64(chance(0.03) ? uniform(1_100...3_000) : uniform(10...900)) * 1_000_000_000)
            f["requiresPolicyApproval"] = .bool(chance(0.08))
            f["businessSector"] = .string(
                chance(0.01) ? "fireworks" : pick(["electronics", "textiles", "logistics", "food-processing"]))
            f["changeKind"] = .string(pick(["administrative", "administrative", "capital", "scope"]))
            f["areaM2"] = .number(Double(uniform(2_000...200_000)))
        case "2.002175":  // environmental permit (its delegation is not valid yet: escalates)
            f["projectGroup"] = .string(pick(["I", "II", "II", "III"]))
            f["connectedToCentralWwtp"] = .bool(!chance(0.05))
            f["wastewaterM3PerDay"] = .number(Double(uniform(5...2_000)))
        case "2.002180":  // internal labour rules
            f["employees"] = .integer(Int64(chance(0.05) ? uniform(3...9) : uniform(10...3_000)))
        case "2.002199":  // construction permit
            f["fireSafetyDesignApproved"] = .bool(!chance(0.05))
            f["constructionGrade"] = .string(chance(0.01) ? "special" : pick(["I", "II", "III"]))
            f["planningCompliant"] = .bool(!chance(0.03))
            f["floorAreaM2"] = .number(Double(uniform(500...50_000)))
        default:
            break
        }
        return f
    }

    /// A step task for the department's topic, as reception (step 0) or a forward (later steps) sends it.
    mutating func stepTask(at now: Date, sequence: Int) -> StepTask {
        let (procedure, step) = steps[uniform(0...(steps.count - 1))]
        let dossier = self.dossier(
            procedure, submittedAt: now.addingTimeInterval(-Double(uniform(60...86_400))),
            incompleteShare: 0.03)
        let number = String(sequence % 1_000_000)
        return StepTask(
            taskId: StableID.make("step", dossier.id, String(step), "0"), dossier: dossier,
            code: "HEZA-261127-" + String(repeating: "0", count: max(0, 6 - number.count)) + number, step: step,
            round: 0, department: Workload.department, receivedAt: now, dueDate: "2026-12-11")
    }

    /// A complete intake dossier of a procedure whose first step the department decides.
    mutating func intakeDossier(at now: Date) -> Dossier {
        dossier(pick(intakeProcedures), submittedAt: now, incompleteShare: 0)
    }
}
