import Foundation
import Testing

@testable import Authority

@Suite("Loading deploy/")
struct AuthorityBundleTests {
    /// Loads the fixture with one file replaced and returns the errors about that file.
    private func errors(_ path: String, _ text: String) throws -> [ValidationReport.Problem] {
        switch try Fixture.load([path: text]) {
        case .success:
            Issue.record("\(path) was accepted")
            return []
        case .failure(let report):
            return report.errors.filter { $0.file.hasSuffix("deploy/" + path) }
        }
    }

    private func expectError(
        _ path: String, _ text: String, line needle: String, _ message: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let line = Fixture.line(of: needle, in: text)
        let found = try errors(path, text)
        #expect(
            found.contains { $0.line == line && $0.message.contains(message) },
            "expected \(path):\(line): …\(message)… in\n\(found.map(\.description).joined(separator: "\n"))",
            sourceLocation: sourceLocation)
    }

    @Test func theFixtureLoadsCleanly() throws {
        let bundle = try Fixture.bundle()
        #expect(bundle.warnings.isEmpty, "\(bundle.warnings)")
        #expect(bundle.catalogue.departments.count == 3)
        #expect(
            bundle.catalogue.procedure("2.000633")?.steps == [
                .init(department: "industry-trade", timeLimit: .init(value: 15, unit: .workingDays))
            ])
        #expect(bundle.catalogue.procedure("2.000581")?.steps.map(\.department) == ["environment", "industry-trade"])
        #expect(bundle.catalogue.procedure("2.000581")?.nextDepartment(after: "environment") == "industry-trade")
        #expect(bundle.catalogue.department("industry-trade")?.agencyCode == "CT")
        #expect(bundle.delegations.records.count == 2)
        #expect(bundle.ruleSets.keys.sorted() == ["environment", "industry-trade"])
    }

    @Test func theRealDeployDirectoryHasNoErrors() throws {
        do {
            let bundle = try AuthorityBundle.load(from: Fixture.realDeploy)
            #expect(bundle.catalogue.departments.count == 6)
            #expect(bundle.ruleSets.count == 5)
            #expect(bundle.calendar.loadedYears == 2025...2027)
            for (department, ruleSet) in bundle.ruleSets {
                #expect(try RuleSet(canonicalText: ruleSet.canonicalText).version == ruleSet.version, "\(department)")
            }
        } catch {
            Issue.record("deploy/ has errors:\n\(error)")
        }
    }

    @Test func malformedDepartments() throws {
        let text = Fixture.departments.replacingOccurrences(of: "agencyCode: \"CT\"", with: "agencyCode: \"ct\"")
        try expectError("catalog/departments.yaml", text, line: "agencyCode: \"ct\"", "does not match the pattern")
        let noCity = Fixture.departments.replacingOccurrences(of: "id: city", with: "id: culture")
        try expectError("catalog/departments.yaml", noCity, line: "departments:", "the delegator \"city\"")
    }

    @Test func malformedDocumentTypes() throws {
        let text = Fixture.documents.replacingOccurrences(of: ", gloss: \"EIA report\"", with: "")
        try expectError("catalog/documents.yaml", text, line: "eia-report", "missing required property \"gloss\"")
    }

    @Test func malformedProcedures() throws {
        let path = "catalog/procedures/industry-trade.yaml"
        let unknownDocument = Fixture.industryTradeProcedures.replacingOccurrences(
            of: "documents: [application-form]", with: "documents: [application-form, site-plan]")
        try expectError(path, unknownDocument, line: "site-plan", "unknown document type \"site-plan\"")

        let tooLong = Fixture.industryTradeProcedures.replacingOccurrences(
            of: "timeLimit: { value: 10, unit: working-days }", with: "timeLimit: { value: 12, unit: working-days }")
        try expectError(path, tooLong, line: "- department: environment", "the steps take 17 working-days")

        let unquoted = Fixture.industryTradeProcedures.replacingOccurrences(
            of: "code: \"2.000633\"", with: "code: 2.000633")
        try expectError(path, unquoted, line: "code: 2.000633", "expected string, got number")

        let wrongLast = Fixture.industryTradeProcedures.replacingOccurrences(
            of: """
                      - department: environment
                        timeLimit: { value: 10, unit: working-days }
                      - department: industry-trade
                """,
            with: """
                      - department: industry-trade
                        timeLimit: { value: 10, unit: working-days }
                      - department: environment
                """)
        try expectError(path, wrongLast, line: "- department: environment", "the last step must be industry-trade")
    }

    @Test func malformedDelegations() throws {
        let path = "delegations/industry-trade.yaml"
        let redelegating =
            Fixture.industryTradeDelegations + """
                  - id: uq-ct-2024-09
                    instrument: { number: "9/QĐ-SCT", date: 2024-03-01, signer: "Giám đốc Sở Công Thương" }
                    mode: delegation
                    delegator: industry-trade
                    delegatee: environment
                    scope: { procedures: ["1.010727"], territory: ["*"] }
                    validFrom: 2024-03-01
                    validTo: 2025-12-31

                """
        try expectError(path, redelegating, line: "delegator: industry-trade", "expected \"city\"")
        // Without the schema, the meaning checks catch it too.
        var files = Fixture.files
        files[path] = redelegating
        do {
            _ = try AuthorityBundle.load(files: files, schemas: nil)
            Issue.record("re-delegation accepted")
        } catch {
            let display = "deploy/" + path
            #expect(
                error.errors.contains {
                    $0.file == display && $0.line == Fixture.line(of: "delegatee: industry-trade", in: redelegating)
                        && $0.message.contains("a delegatee may not re-delegate")
                })
            #expect(
                error.errors.contains {
                    $0.file == display && $0.line == Fixture.line(of: "delegator: industry-trade", in: redelegating)
                        && $0.message.contains("the delegator must be \"city\"")
                })
        }

        let conflicting =
            Fixture.industryTradeDelegations + """
                  - id: uq-ct-2025-03
                    instrument: { number: "77/QĐ-UBND", date: 2025-01-10, signer: "Chủ tịch UBND Thành phố" }
                    mode: delegation
                    delegator: city
                    delegatee: industry-trade
                    scope: { procedures: ["2.000633"], territory: ["00004"], subjects: [enterprise] }
                    validFrom: 2025-02-01
                    validTo: 2026-12-31

                """
        try expectError(path, conflicting, line: "- id: uq-ct-2025-03", "conflicts with uq-ct-2024-01")
        let superseding = conflicting.replacingOccurrences(
            of: "validTo: 2026-12-31", with: "validTo: 2026-12-31\n    supersedes: uq-ct-2024-01")
        #expect(try Fixture.load([path: superseding]).get().delegations.records.count == 3)

        let unknownProcedure = Fixture.industryTradeDelegations.replacingOccurrences(
            of: "procedures: [\"2.000633\", \"2.000581\"]", with: "procedures: [\"2.000633\", \"2.999999\"]")
        try expectError(path, unknownProcedure, line: "2.999999", "unknown procedure \"2.999999\"")

        let noValidTo = Fixture.industryTradeDelegations.replacingOccurrences(of: "    validTo: 2027-12-31\n", with: "")
        try expectError(path, noValidTo, line: "- id: uq-ct-2024-01", "missing required property \"validTo\"")

        let badCondition = Fixture.industryTradeDelegations.replacingOccurrences(
            of: "{ field: facts.capitalVnd, lte: 50000000000 }",
            with: "{ field: facts.capitalVnd, atMost: 50000000000 }")
        try expectError(path, badCondition, line: "atMost", "unknown property \"atMost\"")
    }

    @Test func malformedCalendars() throws {
        let path = "calendar/vn-2026.yaml"
        let notSaturday = Fixture.calendar2026.replacingOccurrences(of: "date: 2026-01-10", with: "date: 2026-01-09")
        try expectError(path, notSaturday, line: "2026-01-09", "is not a Saturday")
        let badDate = Fixture.calendar2026.replacingOccurrences(of: "date: 2026-04-30", with: "date: 2026-04-31")
        try expectError(path, badDate, line: "2026-04-31", "expected a date YYYY-MM-DD")
        let wrongYear = Fixture.calendar2026.replacingOccurrences(of: "date: 2026-05-01", with: "date: 2027-05-01")
        try expectError(path, wrongYear, line: "2027-05-01", "outside the calendar's year 2026")
        let reversed = Fixture.calendar2026.replacingOccurrences(
            of: "from: 2026-09-01, to: 2026-09-02", with: "from: 2026-09-02, to: 2026-09-01")
        try expectError(path, reversed, line: "Quốc khánh", "ends (2026-09-01) before it starts")
    }

    @Test func malformedRules() throws {
        let path = "rules/industry-trade.yaml"
        let misspelt = Fixture.industryTradeRules.replacingOccurrences(
            of: "outcome: escalate", with: "outcome: escalated")
        try expectError(path, misspelt, line: "outcome: escalated", "expected one of approve, refuse")

        let unknownProcedure = Fixture.industryTradeRules.replacingOccurrences(
            of: "procedures: [\"2.000581\"]", with: "procedures: [\"2.000999\"]")
        try expectError(path, unknownProcedure, line: "2.000999", "unknown procedure \"2.000999\"")

        let forwardNowhere = Fixture.industryTradeRules.replacingOccurrences(
            of: "forwardTo: environment", with: "forwardTo: culture")
        try expectError(path, forwardNowhere, line: "forwardTo: culture", "unknown department \"culture\"")

        let afterCatchAll =
            Fixture.industryTradeRules + """
                  - id: it-too-late
                    when: { field: channel, eq: post }
                    outcome: approve
                    review: auto
                    legalBasis: "x"

                """
        try expectError(path, afterCatchAll, line: "- id: it-too-late", "can never fire")

        let unknownField = Fixture.industryTradeRules.replacingOccurrences(
            of: "field: channel, eq: online", with: "field: applicant.name, eq: online")
        try expectError(path, unknownField, line: "applicant.name", "does not match the pattern")

        let syntax = Fixture.industryTradeRules.replacingOccurrences(
            of: "    review: auto\n", with: "    review: [auto\n")
        let found = try errors(path, syntax)
        #expect(found.count == 1 && found[0].message.hasPrefix("YAML syntax"))
    }

    @Test func missingFilesAreReported() throws {
        let report = try #require(try Fixture.load(["catalog/documents.yaml": nil]).failure)
        #expect(
            report.errors.contains {
                $0.file.hasSuffix("deploy/catalog/documents.yaml") && $0.message.hasPrefix("missing")
            })
        let noCalendar = try #require(try Fixture.load(["calendar/vn-2026.yaml": nil]).failure)
        #expect(noCalendar.errors.contains { $0.message.contains("no calendar files") })
    }

    @Test func everyProblemIsListedAsFileLineMessage() throws {
        let report = try #require(
            try Fixture.load([
                "rules/environment.yaml": Fixture.environmentRules.replacingOccurrences(
                    of: "review: official", with: "review: maybe"),
                "calendar/vn-2026.yaml": Fixture.calendar2026.replacingOccurrences(
                    of: "date: 2026-01-10", with: "date: 2026-01-11"),
            ]).failure)
        let lines = report.description.split(separator: "\n")
        #expect(lines.count >= 2)
        for line in lines {
            #expect(line.wholeMatch(of: /.+\.yaml:\d+: .+/) != nil, "\(line)")
        }
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let e) = self { return e }
        return nil
    }
}

@Suite("Catalogue verification")
struct CatalogueVerificationTests {
    static let deploy = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("deploy")

    @Test("rules check warns on every unverified and every moved procedure of the shipped catalogue, naming it")
    func shippedCatalogue() throws {
        let bundle = try AuthorityBundle.load(from: Self.deploy)
        // Counted from the YAML text itself, not from the loader.
        var unverified = 0
        var moved = 0
        for file in try FileManager.default.contentsOfDirectory(atPath: Self.deploy.appendingPathComponent("catalog/procedures").path) {
            let text = try String(contentsOf: Self.deploy.appendingPathComponent("catalog/procedures/\(file)"), encoding: .utf8)
            unverified += text.components(separatedBy: "\n").filter { $0.trimmingCharacters(in: .whitespaces) == "verified: false" }.count
            moved += text.components(separatedBy: "\n").filter { $0.trimmingCharacters(in: .whitespaces).hasPrefix("movedOn:") }.count
        }
        #expect(unverified > 0 && moved > 0)
        #expect(bundle.warnings.filter { $0.message.contains("not verified against a published source") }.count == unverified)
        #expect(bundle.warnings.filter { $0.message.contains(": moved on ") }.count == moved)
        #expect(bundle.warnings.contains { $0.message.hasPrefix("procedure 2.000633: moved on 2025-07-01") })
        #expect(bundle.catalogue.procedure("2.000633")?.moved?.on == "2025-07-01")
        #expect(bundle.catalogue.procedure("2.001240")?.verified == true)
        #expect(bundle.catalogue.procedure("2.001240")?.timeLimit.value == 10)
    }
}
