import ArgumentParser
import Authority
import EffectivelyOnce
import Foundation
import Messages
import Pages
import ServiceCommands
import ServiceLifecycle
import Services

/// The command line of the `coordinator` executable: reception (intake → dossiers → department topics), the
/// status projection of `dossier.events` (status, timeline, deadlines) and the deadline timer (due-soon, overdue,
/// escalations). `--reception-only`, `--projection-only` and `--timers-only` run one part alone, so operators can
/// scale them separately (timers share the work through PostgreSQL row locks).
struct CoordinatorCommand: ParsableArguments {
    @OptionGroup public var runtime: RuntimeOptions

    @Flag(help: "Run only the reception service.")
    var receptionOnly = false

    @Flag(help: "Run only the status projection of dossier.events.")
    var projectionOnly = false

    @Flag(help: "Run only the deadline timer.")
    var timersOnly = false

    @Option(help: "Consumer group of reception, used as given. Default: motcua.reception under the topic prefix.")
    var receptionGroup: String?

    @Option(help: "Consumer group of the status projection, used as given. Default: \(StatusProjection.consumerName) under the topic prefix.")
    var projectionGroup: String?

    @Option(help: "Working days before the due date at which due-soon fires.")
    var dueSoonDays: Int = 2

    @Option(help: "Working days after the due date at which the level-2 escalation (to the delegator) fires.")
    var level2Days: Int = 3

    @Option(help: "Working days the delegator has to answer an authority escalation.")
    var authorityDays: Int = 5

    @Option(help: "Most deadlines a timer fires per transaction.")
    var timerBatchSize: Int = 1_000

    @Option(help: "Citizens' lookups allowed per client and minute (429 beyond; 0: no limit, for load tests).")
    var lookupLimit: Int = 30

    @Option(help: "Officials' sign-ins (POST /sign-in, accepted or not) allowed per client and minute (429 beyond; 0: no limit).")
    var signInLimit: Int = 10

    @Option(help: "Seconds the status page's figures are served from memory before they are computed again (0: every request).")
    var statusCacheSeconds: Int = 10

    @Option(help: "PostgreSQL connections of the citizen lookup and the status page.")
    var pagesConnections: Int = 4

    @Option(help: "Port of the officials' pages (leader page, slips; sign-in with `motcua officials sign-in`), on 127.0.0.1 only. Default: not served.")
    var officialsPort: Int?

    @Option(help: "File that receives the officials' pages' bound port (useful with --officials-port 0).")
    var officialsPortFile: String?

    @Option(help: "File holding the secret (32 bytes or more) that authenticates officials' session cookies. Default: MOTCUA_SESSION_SECRET_FILE, else a secret drawn at start (sessions end with the process).")
    var sessionSecretFile: String?

    init() {}

    func validate() throws {
        guard [receptionOnly, projectionOnly, timersOnly].filter({ $0 }).count <= 1 else {
            throw ValidationError("give at most one of --reception-only, --projection-only, --timers-only")
        }
        guard (0...60).contains(dueSoonDays), (1...60).contains(level2Days), (1...60).contains(authorityDays) else {
            throw ValidationError("--due-soon-days must be 0–60, --level2-days and --authority-days 1–60")
        }
        guard lookupLimit >= 0 else { throw ValidationError("--lookup-limit must be 0 (no limit) or more") }
        guard signInLimit >= 0 else { throw ValidationError("--sign-in-limit must be 0 (no limit) or more") }
        guard (0...3_600).contains(statusCacheSeconds), (1...64).contains(pagesConnections) else {
            throw ValidationError("--status-cache-seconds must be 0–3600 and --pages-connections 1–64")
        }
        if let officialsPort, !(0...65_535).contains(officialsPort) {
            throw ValidationError("--officials-port must be 0–65535")
        }
        guard (1...100_000).contains(timerBatchSize) else {
            throw ValidationError("--timer-batch-size must be between 1 and 100000")
        }
    }

    var policy: DeadlinePolicy {
        var policy = DeadlinePolicy()
        policy.dueSoonWorkingDays = dueSoonDays
        policy.level2WorkingDays = level2Days
        policy.authorityWorkingDays = authorityDays
        return policy
    }

    static func main() async {
        do {
            let command = try CoordinatorCommand.parse()
            let runtime = try Runtime.make(command.runtime.configuration, label: "motcua.coordinator")
            let all = !command.receptionOnly && !command.projectionOnly && !command.timersOnly
            // The citizens' lookup and the status page, on the operations endpoint (--metrics-port).
            let pages = OperationsPages(
                postgres: runtime.postgres, kafka: runtime.kafka, catalogue: runtime.bundle.catalogue,
                calendar: runtime.bundle.calendar, workerDepartments: runtime.bundle.ruleSets.keys.sorted(), topics: runtime.topics, logger: runtime.logger,
                lookupLimit: LookupRateLimit(perMinute: command.lookupLimit),
                poolSize: command.pagesConnections, statusCacheSeconds: command.statusCacheSeconds)
            let officials = try command.officialsPages(pages: pages, runtime: runtime)
            var services: [ConsumerWithRelay] = []
            if all || command.receptionOnly {
                let reception = Reception(
                    bundle: runtime.bundle, clock: runtime.clock, topics: runtime.topics, logger: runtime.logger)
                // Reception writes as motcua_reception: its own login when RECEPTION_DATABASE_URL is set, else DATABASE_URL's.
                services.append(try runtime.service(
                    writer: reception, group: command.receptionGroup ?? runtime.topics.group("motcua.reception"), topics: [runtime.topics.intake],
                    batchSize: command.runtime.batchSize, postgres: Runtime.receptionPostgres()))
            }
            let recipients = EscalationRecipients(catalogue: runtime.bundle.catalogue)
            if all || command.projectionOnly {
                let projection = StatusProjection(
                    calendar: runtime.bundle.calendar, policy: command.policy, recipients: recipients,
                    topics: runtime.topics, catalogue: runtime.bundle.catalogue, logger: runtime.logger)
                services.append(try runtime.service(
                    writer: projection, group: command.projectionGroup ?? runtime.topics.group(StatusProjection.consumerName), topics: [runtime.topics.events],
                    batchSize: command.runtime.batchSize))
                services.append(try runtime.service(
                    writer: PortalAckRecorder(), group: runtime.topics.group(PortalAckRecorder.consumerName),
                    topics: [runtime.topics.portalSyncAck], batchSize: command.runtime.batchSize))
            }
            guard all || command.timersOnly else {
                try await runtime.run(
                    services, additional: officials, configuration: command.runtime.configuration,
                    extraRoutes: pages.register)
                return
            }
            var settings = DeadlineTimer.Settings()
            settings.batchSize = command.timerBatchSize
            settings.topics = runtime.topics
            let relay = try OutboxRelay(
                settings: .init(source: settings.outboxSource), kafka: runtime.kafka, postgres: runtime.postgres,
                logger: runtime.logger)
            // After a start, the timer fires nothing until the projection has applied what dossier.events held then:
            // a dossier decided on the topic but not yet projected must not be escalated.
            let gate = try DeadlineTimer.ProjectionGate(
                group: command.projectionGroup ?? runtime.topics.group(StatusProjection.consumerName),
                topic: runtime.topics.events, kafka: runtime.kafka, logger: runtime.logger)
            let timer = DeadlineTimer(
                settings: settings, postgres: runtime.postgres, clock: runtime.clock, recipients: recipients,
                logger: runtime.logger, afterCommit: { relay.nudge() }, waitFor: gate)
            try await runtime.run(
                services, additional: [relay, timer] + officials, additionalHealth: { timer.isHealthy }, configuration: command.runtime.configuration,
                extraRoutes: pages.register)
        } catch {
            CoordinatorCommand.exit(withError: error)
        }
    }
}

extension CoordinatorCommand {
    /// The officials' pages' listener, when --officials-port is given.
    func officialsPages(pages: OperationsPages, runtime: Runtime) throws -> [any Service] {
        guard let officialsPort else { return [] }
        let secret: SessionSecret
        if let path = sessionSecretFile ?? ProcessInfo.processInfo.environment["MOTCUA_SESSION_SECRET_FILE"] {
            guard let bytes = FileManager.default.contents(atPath: path) else {
                throw ValidationError("cannot read the session secret file \(path)")
            }
            secret = try SessionSecret(bytes: Array(bytes))
        } else {
            secret = SessionSecret.random()
        }
        let officials = OfficialsPages(
            pages: pages, catalogue: runtime.bundle.catalogue, workflows: runtime.bundle.workflows,
            clock: runtime.clock, secret: secret, logger: runtime.logger,
            signInLimit: LookupRateLimit(perMinute: signInLimit))
        return [officials.application(port: officialsPort, portFile: officialsPortFile)]
    }
}
