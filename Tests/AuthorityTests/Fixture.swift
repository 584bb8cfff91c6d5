import Foundation

@testable import Authority

/// A small, complete `deploy/` tree written to a temporary directory, with the repository's JSON Schemas.
enum Fixture {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let realDeploy = repositoryRoot.appendingPathComponent("deploy")
    static let realSchemas = repositoryRoot.appendingPathComponent("schemas")

    static let departments = """
        departments:
          - id: city
            name: "Ủy ban nhân dân thành phố Hà Nội"
            gloss: "Hanoi People's Committee"
            agencyCode: "UBND"
            head: "chu-tich-ubnd"
          - id: industry-trade
            name: "Sở Công Thương Hà Nội"
            gloss: "Hanoi Department of Industry and Trade"
            agencyCode: "CT"
            head: "giam-doc-so-cong-thuong"
          - id: environment
            name: "Sở Tài nguyên và Môi trường Hà Nội"
            gloss: "Hanoi Department of Natural Resources and Environment"
            agencyCode: "TNMT"
            head: "giam-doc-so-tnmt"

        """

    static let documents = """
        documents:
          - { id: application-form, name: "Đơn đề nghị", gloss: "Application form" }
          - { id: business-registration, name: "Giấy chứng nhận đăng ký doanh nghiệp", gloss: "Business registration" }
          - { id: eia-report, name: "Báo cáo đánh giá tác động môi trường", gloss: "EIA report" }

        """

    static let industryTradeProcedures = """
        department: industry-trade
        procedures:
          - code: "2.000633"
            name: "Cấp Giấy phép bán lẻ sản phẩm thuốc lá"
            gloss: "Issue of a tobacco retail licence"
            timeLimit: { value: 15, unit: working-days }
            onlineLevel: full
            verified: true
            legalBasis: ["Nghị định 67/2013/NĐ-CP, Điều 27"]
            documents: [application-form, business-registration]
          - code: "2.000581"
            name: "Cấp Giấy phép sản xuất rượu công nghiệp"
            gloss: "Issue of an industrial alcohol production licence"
            timeLimit: { value: 15, unit: working-days }
            onlineLevel: partial
            verified: true
            legalBasis: ["Nghị định 105/2017/NĐ-CP, Điều 25"]
            documents: [application-form]
            steps:
              - department: environment
                timeLimit: { value: 10, unit: working-days }
              - department: industry-trade
                timeLimit: { value: 5, unit: working-days }

        """

    static let environmentProcedures = """
        department: environment
        procedures:
          - code: "1.010727"
            name: "Cấp giấy phép môi trường cấp tỉnh"
            gloss: "Issue of a provincial environmental permit"
            timeLimit: { value: 30, unit: days }
            onlineLevel: partial
            verified: true
            legalBasis: ["Luật Bảo vệ môi trường 2020, Điều 43"]
            documents: [application-form, eia-report]

        """

    static let industryTradeDelegations = """
        delegations:
          - id: uq-ct-2024-01
            instrument: { number: "15/QĐ-UBND", date: 2024-01-05, signer: "Chủ tịch UBND Thành phố" }
            mode: delegation
            delegator: city
            delegatee: industry-trade
            scope:
              procedures: ["2.000633", "2.000581"]
              territory: ["*"]
              subjects: [enterprise, household]
            conditions:
              all:
                - { field: facts.capitalVnd, lte: 50000000000 }
            validFrom: 2024-01-15
            validTo: 2027-12-31

        """

    static let environmentDelegations = """
        delegations:
          - id: uq-tnmt-2023-02
            instrument: { number: "1102/QĐ-UBND", date: 2023-02-20, signer: "Chủ tịch UBND Thành phố" }
            mode: delegation
            delegator: city
            delegatee: environment
            scope:
              procedures: ["1.010727", "2.000581"]
              territory: ["*"]
            validFrom: 2023-03-01
            validTo: 2028-12-31
            revokedAt: 2026-06-30T17:00:00+07:00
            revokingInstrument: { number: "2890/QĐ-UBND", date: 2026-06-28, signer: "Chủ tịch UBND Thành phố" }

        """

    /// The 2026 calendar as published (Tết 16–20/2; 1/1 plus 2/1 swapped with Saturday 10/1; Hùng Kings 26/4
    /// on a Sunday, compensated 27/4; 30/4, 1/5; 1–2/9 plus 31/8 swapped with Saturday 22/8).
    static let calendar2026 = """
        year: 2026
        timezone: Asia/Ho_Chi_Minh
        source:
          notice: "Thông báo số 9441/TB-BNV"
          date: 2025-10-16
          issuer: "Bộ Nội vụ"
        holidays:
          - { date: 2026-01-01, name: "Tết Dương lịch" }
          - { from: 2026-02-16, to: 2026-02-20, name: "Tết Nguyên đán", kind: holiday }
          - { date: 2026-04-26, name: "Giỗ Tổ Hùng Vương" }
          - { date: 2026-04-27, name: "Nghỉ bù Giỗ Tổ Hùng Vương", kind: compensatory }
          - { date: 2026-04-30, name: "Ngày Chiến thắng" }
          - { date: 2026-05-01, name: "Ngày Quốc tế Lao động" }
          - { from: 2026-09-01, to: 2026-09-02, name: "Quốc khánh" }
        workingSaturdays:
          - { date: 2026-01-10, replaces: 2026-01-02 }
          - { date: 2026-08-22, replaces: 2026-08-31 }

        """

    static let industryTradeRules = """
        # Fixture decision table of the Sở Công Thương.
        department: industry-trade
        hitPolicy: first
        rules:
          - id: it-tobacco-near-school
            procedures: ["2.000633"]
            when: { field: facts.distanceToSchoolM, lt: 100 }
            outcome: refuse
            review: official
            legalBasis: "Nghị định 67/2013/NĐ-CP, Điều 26 khoản 2"
            reason: "Điểm bán cách trường học dưới 100 m"
          - id: it-fire-safety-invalid
            when: { field: facts.fireSafetyValid, eq: false }
            outcome: supplement
            review: official
            legalBasis: "Nghị định 136/2020/NĐ-CP, Điều 16"
            reason: "Văn bản phòng cháy chữa cháy không còn hiệu lực"
          - id: it-large-capital
            when: { field: facts.capitalVnd, gt: 20000000000 }
            outcome: escalate
            review: official
            legalBasis: "Quyết định 15/QĐ-UBND, Điều 2"
            reason: "Vốn trên 20 tỷ đồng: trình UBND Thành phố"
          - id: it-forward-env
            procedures: ["2.000581"]
            when:
              all:
                - { field: facts.needsEnvironmentalPermit, eq: true }
                - { field: channel, in: [online, counter] }
            outcome: forward
            forwardTo: environment
            review: auto
            legalBasis: "Nghị định 105/2017/NĐ-CP, Điều 25"
          - id: it-auto-online-enterprise
            procedures: ["2.000633"]
            when:
              all:
                - { field: channel, eq: online }
                - { field: applicant.kind, eq: enterprise }
            outcome: approve
            review: auto
            legalBasis: "Nghị định 67/2013/NĐ-CP, Điều 27"
          - id: it-default
            when: { always: true }
            outcome: approve
            review: official
            legalBasis: "Nghị định 67/2013/NĐ-CP, Điều 27"

        """

    static let environmentRules = """
        department: environment
        hitPolicy: first
        rules:
          - id: env-default
            when: { always: true }
            outcome: approve
            review: official
            legalBasis: "Luật Bảo vệ môi trường 2020, Điều 43"

        """

    static let communes = """
        city: "Thành phố Hà Nội"
        inForceFrom: "2025-07-01"
        synthetic: true
        verified: false
        source: { title: "test fixture", why: "codes the tests name", checked: "2026-12-07" }
        communes:
          - { code: "00001", name: "Xã Một", kind: commune }
          - { code: "00002", name: "Xã Hai", kind: commune }
          - { code: "00003", name: "Xã Ba", kind: commune }
          - { code: "00004", name: "Phường Ba Đình", kind: ward }
          - { code: "00007", name: "Phường Bảy", kind: ward }

        """

    static let files: [String: String] = [
        "catalog/departments.yaml": departments,
        "catalog/communes.yaml": communes,
        "catalog/documents.yaml": documents,
        "catalog/procedures/industry-trade.yaml": industryTradeProcedures,
        "catalog/procedures/environment.yaml": environmentProcedures,
        "delegations/industry-trade.yaml": industryTradeDelegations,
        "delegations/environment.yaml": environmentDelegations,
        "calendar/vn-2026.yaml": calendar2026,
        "rules/industry-trade.yaml": industryTradeRules,
        "rules/environment.yaml": environmentRules,
    ]

    /// Writes `<tmp>/deploy/…` (the fixture with `overrides`; a nil override removes the file) and `<tmp>/schemas`
    /// (copied from the repository). Returns the temporary root; remove it with ``remove(_:)``.
    static func write(_ overrides: [String: String?] = [:]) throws -> URL {
        let root = FileManager.default.temporaryDirectory
            .appendingPathComponent("authority-fixture-\(UUID().uuidString)")
        var all = files
        for (path, text) in overrides { all[path] = text }
        for (path, text) in all {
            let url = root.appendingPathComponent("deploy").appendingPathComponent(path)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        try FileManager.default.copyItem(at: realSchemas, to: root.appendingPathComponent("schemas"))
        return root
    }

    static func remove(_ root: URL) {
        try? FileManager.default.removeItem(at: root)
    }

    /// Loads the fixture (with overrides) from a temporary directory.
    static func load(_ overrides: [String: String?] = [:]) throws -> Result<AuthorityBundle, ValidationReport> {
        let root = try write(overrides)
        defer { remove(root) }
        do {
            return .success(try AuthorityBundle.load(from: root.appendingPathComponent("deploy")))
        } catch {
            return .failure(error)
        }
    }

    /// The fixture bundle; fails the calling test when it does not load.
    static func bundle() throws -> AuthorityBundle {
        try load().get()
    }

    /// The 1-based line of the first line of `text` containing `needle`.
    static func line(of needle: String, in text: String) -> Int {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        return (lines.firstIndex { $0.contains(needle) } ?? -1) + 1
    }

    /// An instant from an ISO-8601 text.
    static func instant(_ text: String) -> Date {
        ISO8601Instant.parse(text)!
    }

    static func date(_ text: String) -> LocalDate {
        LocalDate(text)!
    }

    static func dossier(
        procedure: String = "2.000633", channel: Dossier.Channel = .online, commune: String = "00004",
        kind: Dossier.Applicant.Kind = .enterprise,
        documents: [String] = ["application-form", "business-registration"],
        facts: [String: FactValue] = ["capitalVnd": .integer(5_000_000_000), "distanceToSchoolM": .integer(250)]
    ) -> Dossier {
        Dossier(
            id: "4b3f2a5e-6c1d-4e8f-9a0b-1c2d3e4f5a6b", procedure: procedure,
            submittedAt: instant("2026-11-27T09:30:00+07:00"), channel: channel, commune: commune,
            applicant: .init(kind: kind, id: "0101234567", name: "Công ty TNHH A"), documents: documents,
            facts: facts)
    }
}

/// SplitMix64: a tiny deterministic generator for the property tests (fixed seeds, reproducible failures).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
