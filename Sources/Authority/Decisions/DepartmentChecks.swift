
/// A department's own check beyond its decision table, which can stop an approval.
public struct CheckFinding: Codable, Sendable, Hashable {
    public var check: String
    public var outcome: Outcome
    public var reason: String
    public var legalBasis: String

    public init(check: String, outcome: Outcome, reason: String, legalBasis: String) {
        self.check = check
        self.outcome = outcome
        self.reason = reason
        self.legalBasis = legalBasis
    }
}

/// The checks a department runs on a dossier its rules would approve. Pure: the dossier is the only input.
///
/// Each department's worker executable chooses its own set; they live here so that audit replay re-derives the
/// same decisions.
public struct DepartmentChecks: Sendable {
    public let department: DepartmentID
    let checks: [@Sendable (Dossier) -> CheckFinding?]

    public init(department: DepartmentID, checks: [@Sendable (Dossier) -> CheckFinding?]) {
        self.department = department
        self.checks = checks
    }

    /// The first finding, if any check objects.
    public func run(_ dossier: Dossier) -> CheckFinding? {
        for check in checks {
            if let finding = check(dossier) { return finding }
        }
        return nil
    }

    /// The built-in checks of a department (none for one that has no checks of its own).
    public static func builtIn(for department: DepartmentID) -> DepartmentChecks {
        builtIns[department] ?? DepartmentChecks(department: department, checks: [])
    }

    /// Every department's own checks, keyed by the department each set names.
    static let builtIns: [DepartmentID: DepartmentChecks] = Dictionary(
        uniqueKeysWithValues: [industryTrade, industrialZones, labour, environment, culture].map { ($0.department, $0) })

    /// Enterprise applicants must give a well-formed enterprise code (10 digits, or 10 digits + "-" + 3 for a branch).
    public static let industryTrade = DepartmentChecks(department: "industry-trade", checks: [enterpriseCode])

    /// A work permit lasts at most 24 months, and only enterprises in the zones apply.
    public static let industrialZones = DepartmentChecks(department: "industrial-zones", checks: [
        enterpriseCode,
        { dossier in
            guard case .integer(let months)? = dossier.facts["permitMonths"], months > 24 else { return nil }
            return CheckFinding(
                check: "iz-permit-duration", outcome: .refuse,
                reason: "Thời hạn giấy phép lao động tối đa 24 tháng (work permits last at most 24 months)",
                legalBasis: "Nghị định 152/2020/NĐ-CP, Điều 10")
        },
    ])

    /// Workers must be adults.
    public static let labour = DepartmentChecks(department: "labour", checks: [
        { dossier in
            guard case .integer(let age)? = dossier.facts["workerAge"], age < 18 else { return nil }
            return CheckFinding(
                check: "lb-worker-age", outcome: .refuse, reason: "Người lao động chưa đủ 18 tuổi (worker under 18)",
                legalBasis: "Bộ luật Lao động 2019, Điều 151")
        }
    ])

    /// Wastewater discharge needs a treatment system on file.
    public static let environment = DepartmentChecks(department: "environment", checks: [
        { dossier in
            guard case .number(let volume)? = dossier.facts["wastewaterM3PerDay"], volume > 0,
                case .bool(false)? = dossier.facts["hasWastewaterTreatment"]
            else { return nil }
            return CheckFinding(
                check: "env-wastewater-treatment", outcome: .supplement,
                reason: "Bổ sung hồ sơ hệ thống xử lý nước thải (describe the wastewater treatment system)",
                legalBasis: "Luật Bảo vệ môi trường 2020, Điều 86")
        }
    ])

    /// Events must be filed far enough ahead.
    public static let culture = DepartmentChecks(department: "culture", checks: [
        { dossier in
            guard case .integer(let days)? = dossier.facts["daysBeforeEvent"], days < 5 else { return nil }
            return CheckFinding(
                check: "cu-filing-lead-time", outcome: .refuse,
                reason: "Hồ sơ nộp quá sát ngày tổ chức (filed less than 5 working days before the event)",
                legalBasis: "Nghị định 144/2020/NĐ-CP, Điều 12")
        }
    ])

    @Sendable static func enterpriseCode(_ dossier: Dossier) -> CheckFinding? {
        guard dossier.applicant.kind == .enterprise else { return nil }
        let code = dossier.applicant.id.utf8
        let digits = code.prefix(10)
        let wellFormed = digits.count == 10 && digits.allSatisfy { $0 >= 48 && $0 <= 57 }
            && (code.count == 10 || (code.count == 14 && code.dropFirst(10).first == 45
                && code.dropFirst(11).allSatisfy { $0 >= 48 && $0 <= 57 }))
        guard !wellFormed else { return nil }
        return CheckFinding(
            check: "enterprise-code-format", outcome: .supplement,
            reason: "Mã số doanh nghiệp không hợp lệ (the enterprise code must be 10 digits, or 10-3 for a branch)",
            legalBasis: "Nghị định 01/2021/NĐ-CP, Điều 8")
    }
}
