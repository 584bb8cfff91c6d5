import Foundation
import Testing

@testable import Authority

@Suite("Workflows: divisions, stages, quotas and stage due instants")
struct WorkflowTests {
    static let industryTrade = """
        department: industry-trade
        divisions:
          - { id: trade-management, name: "Phòng Quản lý thương mại" }
          - { id: industry-management, name: "Phòng Quản lý công nghiệp" }
        default:
          division: trade-management
          stages:
            - { id: examine, role: specialist, share: 0.6 }
            - { id: check, role: head-of-division, share: 0.2, skippableWhenAutomatic: true }
            - { id: sign, role: director, share: 0.2 }
        procedures:
          - { code: '2.000581', division: industry-management }

        """

    private func problems(_ text: String) throws -> [ValidationReport.Problem] {
        switch try Fixture.load(["workflows/industry-trade.yaml": text]) {
        case .success: return []
        case .failure(let report): return report.errors
        }
    }

    private func expectError(
        _ text: String, line needle: String, _ message: String, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let line = Fixture.line(of: needle, in: text)
        let found = try problems(text)
        #expect(
            found.contains { $0.file.hasSuffix("workflows/industry-trade.yaml") && $0.line == line && $0.message.contains(message) },
            "expected workflows/industry-trade.yaml:\(line): …\(message)… in\n\(found.map(\.description).joined(separator: "\n"))",
            sourceLocation: sourceLocation)
    }

    @Test func aWorkflowLoadsWithItsDefaultAndOverrides() throws {
        let bundle = try Fixture.load(["workflows/industry-trade.yaml": Self.industryTrade]).get()
        let workflow = try #require(bundle.workflows["industry-trade"])
        #expect(workflow.divisions.map(\.id) == ["trade-management", "industry-management"])
        #expect(workflow.route(procedure: "2.000633").division == "trade-management")
        #expect(workflow.route(procedure: "2.000581").division == "industry-management")
        #expect(workflow.route(procedure: "2.000581").stages.map(\.role) == [.specialist, .headOfDivision, .director])
        #expect(workflow.route(procedure: "2.000633").stages(automatic: true).map(\.id) == ["examine", "sign"])
        // Environment takes steps and has rules but no workflow: named, as a warning.
        #expect(bundle.warnings.contains { $0.file.hasSuffix("workflows/environment.yaml") && $0.message.contains("no workflow") })
    }

    @Test func theRealWorkflowsLoadForEveryDepartment() throws {
        let bundle = try AuthorityBundle.load(from: Fixture.realDeploy)
        #expect(Set(bundle.workflows.keys) == Set(bundle.ruleSets.keys))
        #expect(!bundle.warnings.contains { $0.file.contains("workflows/") }, "\(bundle.warnings)")
        for workflow in bundle.workflows.values {
            for route in [workflow.defaultRoute] + workflow.overrides.values {
                #expect(route.stages.last?.role == .director)
                #expect(workflow.divisions.contains { $0.id == route.division })
            }
        }
    }

    @Test func sharesMustAddUpToOne() throws {
        let text = Self.industryTrade.replacingOccurrences(of: "share: 0.6", with: "share: 0.5")
        try expectError(text, line: "id: examine", "shares add up to 0.9, not 1")
    }

    @Test func stagesMoveUpTheRanks() throws {
        let text = Self.industryTrade
            .replacingOccurrences(of: "{ id: examine, role: specialist", with: "{ id: examine, role: head-of-division")
            .replacingOccurrences(of: "{ id: check, role: head-of-division", with: "{ id: check, role: specialist")
        try expectError(text, line: "id: check", "comes after a head-of-division stage")
    }

    @Test func theLastStageIsTheDirectors() throws {
        let text = Self.industryTrade.replacingOccurrences(of: "{ id: sign, role: director", with: "{ id: sign, role: head-of-division")
        try expectError(text, line: "id: sign", "the last stage is the director's")
    }

    @Test func unknownDivisionsAndProceduresAreNamedWhereTheyAre() throws {
        let text = Self.industryTrade
            .replacingOccurrences(of: "division: industry-management }", with: "division: nowhere }")
            + "  - { code: '9.999999', division: trade-management }\n"
            + "  - { code: '2.000633', division: trade-management }\n"
        try expectError(text, line: "division: nowhere", "unknown division \"nowhere\"")
        try expectError(text, line: "9.999999", "unknown procedure \"9.999999\"")
        // 2.000633 is industry-trade's; environment's file may not route it.
        let environment = Self.industryTrade.replacingOccurrences(of: "department: industry-trade", with: "department: environment")
            .replacingOccurrences(of: "'2.000581'", with: "'2.000633'")
        switch try Fixture.load(["workflows/environment.yaml": environment]) {
        case .success: Issue.record("accepted a route of a procedure environment takes no step of")
        case .failure(let report):
            #expect(report.errors.contains { $0.file.hasSuffix("workflows/environment.yaml") && $0.message.contains("has no step of environment") }, "\(report)")
        }
    }

    @Test func theSchemaRefusesAnUnknownRole() throws {
        let text = Self.industryTrade.replacingOccurrences(of: "role: specialist", with: "role: clerk")
        let found = try problems(text)
        #expect(found.contains { $0.file.hasSuffix("workflows/industry-trade.yaml") && $0.line == Fixture.line(of: "role: clerk", in: text) }, "\(found)")
    }

    // MARK: - Quotas and due instants

    @Test func quotasAreWholeWorkingDaysAtLeastOneAndAddUpToTheStep() {
        #expect(StagePlan.quotas(shares: [0.6, 0.2, 0.2], days: 15) == [9, 3, 3])
        #expect(StagePlan.quotas(shares: [0.6, 0.2, 0.2], days: 10) == [6, 2, 2])
        #expect(StagePlan.quotas(shares: [0.6, 0.2, 0.2], days: 5) == [3, 1, 1])
        #expect(StagePlan.quotas(shares: [0.6, 0.2, 0.2], days: 3) == [1, 1, 1])
        #expect(StagePlan.quotas(shares: [0.6, 0.2, 0.2], days: 1) == [1, 1, 1])
        #expect(StagePlan.quotas(shares: [0.5, 0.2, 0.15, 0.15], days: 7) == [4, 1, 1, 1])
        for days in 1...60 {
            for shares in [[0.6, 0.2, 0.2], [0.5, 0.2, 0.15, 0.15], [0.9, 0.05, 0.05], [1.0]] {
                let quotas = StagePlan.quotas(shares: shares, days: days)
                #expect(quotas.allSatisfy { $0 >= 1 })
                #expect(quotas.reduce(0, +) == max(days, shares.count), "\(shares) of \(days)")
            }
        }
    }

    @Test func aStageEndsAtTheCloseOfItsQuotaThWorkingDay() throws {
        let calendar = try Fixture.bundle().calendar
        // Monday 9 March 2026, 10:00 local: counts from that day; 2 working days → Wednesday 11 March, 17:00.
        let monday = Fixture.instant("2026-03-09T10:00:00+07:00")
        #expect(try StagePlan.dueInstant(quota: 2, startedAt: monday, calendar: calendar) == Fixture.instant("2026-03-11T17:00:00+07:00"))
        // After 15:00 the stage counts from the next working day.
        let late = Fixture.instant("2026-03-09T16:00:00+07:00")
        #expect(try StagePlan.dueInstant(quota: 2, startedAt: late, calendar: calendar) == Fixture.instant("2026-03-12T17:00:00+07:00"))
        // Friday 24 April: the weekend, Hùng Kings' compensatory Monday 27/4, then Tuesday 28 and Wednesday 29.
        let friday = Fixture.instant("2026-04-24T09:00:00+07:00")
        #expect(try StagePlan.dueInstant(quota: 2, startedAt: friday, calendar: calendar) == Fixture.instant("2026-04-29T17:00:00+07:00"))
        // Quota 0 is still one working day.
        #expect(try StagePlan.dueInstant(quota: 0, startedAt: monday, calendar: calendar) == Fixture.instant("2026-03-10T17:00:00+07:00"))
    }

    @Test func dueSoonIsLessThanOneWorkingDayLeft() throws {
        let calendar = try Fixture.bundle().calendar
        let due = Fixture.instant("2026-04-28T17:00:00+07:00")  // Tuesday after the compensatory Monday
        // The working day before the due day is Friday 24 April: due soon from its close.
        #expect(try StagePlan.dueSoonInstant(due: due, calendar: calendar) == Fixture.instant("2026-04-24T17:00:00+07:00"))
        #expect(StagePlan.standing(due: due, at: Fixture.instant("2026-04-24T16:59:00+07:00"), calendar: calendar) == .onTime)
        #expect(StagePlan.standing(due: due, at: Fixture.instant("2026-04-26T12:00:00+07:00"), calendar: calendar) == .dueSoon)
        #expect(StagePlan.standing(due: due, at: due, calendar: calendar) == .dueSoon)
        #expect(StagePlan.standing(due: due, at: due.addingTimeInterval(1), calendar: calendar) == .overdue)
    }

    @Test func verdictsAgainstTheQuota() {
        let due = Fixture.instant("2026-03-11T17:00:00+07:00")
        #expect(StagePlan.verdict(due: due, finishedAt: Fixture.instant("2026-03-10T16:00:00+07:00")) == .early)
        #expect(StagePlan.verdict(due: due, finishedAt: Fixture.instant("2026-03-11T08:00:00+07:00")) == .onTime)
        #expect(StagePlan.verdict(due: due, finishedAt: Fixture.instant("2026-03-11T17:00:01+07:00")) == .late)
    }

    @Test func calendarDayStepsCountTheirWorkingDays() throws {
        let calendar = try Fixture.bundle().calendar
        // 30 calendar days from Monday 2 March 2026: due Wednesday 1 April; 22 working days after 2 March.
        let days = try StagePlan.stepWorkingDays(
            limit: .init(value: 30, unit: .days), startedAt: Fixture.instant("2026-03-02T09:00:00+07:00"),
            calendar: calendar)
        #expect(days == 22)
        #expect(try StagePlan.stepWorkingDays(
            limit: .init(value: 10, unit: .workingDays), startedAt: Fixture.instant("2026-03-02T09:00:00+07:00"),
            calendar: calendar) == 10)
    }
}
