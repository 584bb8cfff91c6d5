/// The status page's figures, computed at most once per `maxAge` and served from memory meanwhile (their
/// `generatedAt` says as of when). One computation at a time: requests that arrive while it runs wait for it instead
/// of starting their own; a failed computation is not kept (the next request tries again).
package actor StatusCache {
    private let maxAge: Duration
    private var current: (report: StatusReport, at: ContinuousClock.Instant)?
    private var refreshing: Task<StatusReport, any Error>?

    package init(maxAge: Duration) { self.maxAge = maxAge }

    package func report(_ compute: @escaping @Sendable () async throws -> StatusReport) async throws -> StatusReport {
        if let current, ContinuousClock.now - current.at < maxAge { return current.report }
        if let refreshing { return try await refreshing.value }
        let started = ContinuousClock.now
        let task = Task { try await compute() }
        refreshing = task
        defer { refreshing = nil }
        let report = try await task.value
        if maxAge > .zero { current = (report, started) }
        return report
    }
}
