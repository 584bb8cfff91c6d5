import Foundation
import Pages
import Synchronization
import Testing

@Suite("Status page figures served from memory")
struct StatusCacheTests {
    static func report(_ n: Int) -> StatusReport {
        let json = """
            {"generatedAt": "2026-12-07T11:00:00+07:00", "departments": [],
             "totals": {"department": "all", "name": "All", "openDossiers": \(n), "overdueOpen": 0, "closedOnTime": 0,
                        "closedLate": 0, "escalationsLevel1": 0, "escalationsLevel2": 0, "stageEscalationsHead": 0,
                        "stageEscalationsDirector": 0, "consumerLagStatus": "unknown"}}
            """
        return try! JSONDecoder().decode(StatusReport.self, from: Data(json.utf8))
    }

    @Test("figures are computed once per interval, once for requests arriving together, and again after a failure")
    func computedOncePerInterval() async throws {
        let cache = StatusCache(maxAge: .seconds(3_600))
        let computed = Atomic<Int>(0)
        let compute: @Sendable () async throws -> StatusReport = {
            let n = computed.wrappingAdd(1, ordering: .relaxed).newValue
            try await Task.sleep(for: .milliseconds(100))
            return Self.report(n)
        }
        let reports = try await withThrowingTaskGroup(of: StatusReport.self) { group in
            for _ in 0..<32 { group.addTask { try await cache.report(compute) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(computed.load(ordering: .relaxed) == 1)
        #expect(Set(reports.map(\.totals.openDossiers)) == [1])
        #expect(try await cache.report(compute).totals.openDossiers == 1)
        #expect(computed.load(ordering: .relaxed) == 1)

        struct Down: Error {}
        let failing = StatusCache(maxAge: .seconds(3_600))
        await #expect(throws: Down.self) { try await failing.report { throw Down() } }
        #expect(try await failing.report { Self.report(7) }.totals.openDossiers == 7)
    }

    @Test("an interval of 0 computes the figures for every request")
    func noCache() async throws {
        let cache = StatusCache(maxAge: .zero)
        let computed = Atomic<Int>(0)
        for _ in 0..<3 {
            _ = try await cache.report { Self.report(computed.wrappingAdd(1, ordering: .relaxed).newValue) }
        }
        #expect(computed.load(ordering: .relaxed) == 3)
    }
}
