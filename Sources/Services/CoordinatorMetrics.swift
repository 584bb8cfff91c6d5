import Authority
import EffectivelyOnce
import Kafka
import Messages
import Metrics
import Operations
import Postgres
import Store
import Synchronization

/// The coordinator's metrics (swift-metrics; the executable exports them through its Prometheus registry).
///
/// - `motcua_dossiers_open` — dossiers neither decided nor refused at intake;
/// - `motcua_deadlines_overdue{department}` — open step and authority deadlines past their due instant;
/// - `motcua_escalations_open{level}` — open escalations; `motcua_escalations{level}` — raised by the timer;
/// - `motcua_deadline_events{type}` — due-soon, overdue and escalated-deadline events fired;
/// - `motcua_timer_lag_seconds` — now minus the due instant of the oldest unfired timer (0 when none is late).
package final class CoordinatorMetrics: Sendable {
    let factory: any MetricsFactory
    let openDossiers: Gauge
    let lag: Gauge
    private let departments = Mutex<Set<String>>([])

    init(factory: any MetricsFactory) {
        self.factory = factory
        openDossiers = Gauge(label: "motcua_dossiers_open", factory: factory)
        lag = Gauge(label: "motcua_timer_lag_seconds", factory: factory)
    }

    func fired(_ counts: [String: Int]) {
        for (key, count) in counts {
            if key.hasPrefix("level") {
                Counter(label: "motcua_escalations", dimensions: [("level", String(key.dropFirst(5)))], factory: factory)
                    .increment(by: count)
            } else {
                Counter(label: "motcua_deadline_events", dimensions: [("type", key)], factory: factory).increment(by: count)
            }
        }
    }

    func gauges(openDossiers open: Int, overdue: [String: Int], escalations: [Int: Int], lag seconds: Double) {
        openDossiers.record(open)
        // Departments seen before and now without overdue deadlines go back to zero.
        let known = departments.withLock { known in
            known.formUnion(overdue.keys)
            return known
        }
        for department in known {
            Gauge(label: "motcua_deadlines_overdue", dimensions: [("department", department)], factory: factory)
                .record(overdue[department] ?? 0)
        }
        for level in [1, 2] {
            Gauge(label: "motcua_escalations_open", dimensions: [("level", String(level))], factory: factory)
                .record(escalations[level] ?? 0)
        }
        lag.record(seconds)
    }
}
