import Foundation
import Synchronization

/// The public lookup's limit per client: at most `perMinute` lookups (found or not) in each minute since the client's
/// first of that minute; more get 429. `perMinute` 0: no limit (load tests). The client is the last address of
/// `X-Forwarded-For` (the one the City's reverse proxy adds; the server binds 127.0.0.1 only), or `direct`.
public final class LookupRateLimit: Sendable {
    public let perMinute: Int
    private let windows = Mutex<[String: (start: ContinuousClock.Instant, count: Int)]>([:])
    /// Clients remembered at most (the oldest windows are forgotten first when full).
    let capacity: Int

    public init(perMinute: Int, capacity: Int = 100_000) {
        self.perMinute = perMinute
        self.capacity = capacity
    }

    /// Counts a lookup of `client`; whether it is allowed, and if not, the seconds until it is.
    public func admit(_ client: String, at now: ContinuousClock.Instant = .now) -> (allowed: Bool, retryAfter: Int) {
        guard perMinute > 0 else { return (true, 0) }
        return windows.withLock { windows in
            if windows.count >= capacity {
                windows = windows.filter { now - $0.value.start < .seconds(60) }
                if windows.count >= capacity { windows.removeAll() }
            }
            var window = windows[client] ?? (now, 0)
            if now - window.start >= .seconds(60) { window = (now, 0) }
            window.count += 1
            windows[client] = window
            if window.count <= perMinute { return (true, 0) }
            let left = Duration.seconds(60) - (now - window.start)
            return (false, max(1, Int(left.components.seconds) + 1))
        }
    }

    /// The client a request counts against.
    public static func client(forwardedFor: String?) -> String {
        guard let forwardedFor,
            let last = forwardedFor.split(separator: ",").last?.trimmingCharacters(in: .whitespaces), !last.isEmpty
        else { return "direct" }
        return String(last.prefix(64))
    }
}
