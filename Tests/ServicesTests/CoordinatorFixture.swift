import Audit
import Authority
import EffectivelyOnce
import Foundation
import Kafka
import Messages
import Pages
import Postgres
import ServiceCommands
import Services
import Simulation
import Store
import TestSupport
import Testing

/// A coordinator under test: a database of its own (created from the shared server, migrated, dropped by
/// ``drop()``), the deploy bundle's calendar, a manual clock, and a projection fed hand-made events.
final class CoordinatorFixture: @unchecked Sendable {
    static let bundle: Result<AuthorityBundle, any Error> = Result {
        try AuthorityBundle.load(from: TestEnvironment.root.appendingPathComponent("deploy"))
    }

    let own: TestDatabase
    var name: String { own.name }
    var url: String { own.url }
    var database: PostgresConnection { own.connection }
    let bundle: AuthorityBundle
    let clock: ManualClock
    var policy = DeadlinePolicy()
    private var offset: Int64 = 0

    init(at start: String = "2026-03-02T09:00:00+07:00") throws {
        own = try TestDatabase("coord")
        bundle = try Self.bundle.get()
        clock = ManualClock(Self.instant(start))
    }

    /// Drops the test's database (call with `defer`).
    func drop() {
        own.drop()
    }

    var postgres: PostgresConfiguration { PostgresConfiguration(connectionString: url) }

    var projection: StatusProjection {
        StatusProjection(
            calendar: bundle.calendar, policy: policy, recipients: EscalationRecipients(catalogue: bundle.catalogue),
            catalogue: bundle.catalogue, logger: TestEnvironment.logger)
    }

    func timer(batchSize: Int = 1_000, connection: PostgresConfiguration? = nil) -> DeadlineTimer {
        var settings = DeadlineTimer.Settings()
        settings.batchSize = batchSize
        return DeadlineTimer(
            settings: settings, postgres: connection ?? postgres, clock: clock,
            recipients: EscalationRecipients(catalogue: bundle.catalogue), logger: TestEnvironment.logger)
    }

    /// The `apology-issued` event a department's worker publishes once it recorded an apology (signed slip or
    /// approved draft) for `dossier`'s deadline at `step`, with the `apologies` row it recorded (unless `recorded` is
    /// false: an event no worker recorded, as a forger would write it). `eventAt` varies the event's id.
    func apology(
        _ dossier: String, step: Int, from previous: String, to newDate: String, at: String, reason: String = "late",
        department: DepartmentID = "industry-trade", recorded: Bool = true
    ) throws -> DossierEvent {
        if recorded {
            try recordApology(dossier, step: step, from: previous, to: newDate, at: at, reason: reason, department: department)
        }
        return event(.apologyIssued, dossier, step: step, department: department, at: at,
                     data: .init(reason: reason, dueDate: newDate, official: "it-head", previousDueDate: previous))
    }

    /// The `apologies` row a department's worker records (written here as the superuser; none when the step has one).
    func recordApology(
        _ dossier: String, step: Int, from previous: String, to newDate: String, at: String, reason: String = "late",
        department: DepartmentID? = "industry-trade", before028: Bool = false
    ) throws {
        _ = try database.execute(
            """
            INSERT INTO apologies (dossier_id, step, reason, previous_date, new_date, issued_by, issued_at, department,
                                   before_028)
            VALUES ($1, $2, $3, $4::date, $5::date, 'it-head', $6, $7, $8) ON CONFLICT DO NOTHING
            """, [dossier, step, reason, previous, newDate, Self.instant(at), department?.rawValue, before028])
    }

    static func instant(_ text: String) -> Date {
        let formatter = ISO8601DateFormatter()
        return formatter.date(from: text)!
    }

    static func day(_ text: String) -> LocalDate { LocalDate(text)! }

    /// Applies events through the projection's `write`, in one transaction, as the consumer would.
    @discardableResult
    func apply(_ events: [DossierEvent]) throws -> BatchReport {
        let encoder = MessageCoding.encoder()
        let messages = try events.map { event -> KafkaMessage in
            offset += 1
            return KafkaMessage(
                topic: Topics().events, partition: 0, offset: offset, key: Array(event.dossierId.utf8),
                value: Array(try encoder.encode(event)), headers: [KafkaHeader("ce_type", MessageType.event)])
        }
        let projection = projection
        return try database.transaction { tx in try projection.write(messages, into: tx) }
    }

    /// Applies one event in a transaction of its own through `writer` (the per-event reference projection).
    func applyEach(_ event: DossierEvent, with writer: some BatchWriter) throws {
        offset += 1
        let message = KafkaMessage(
            topic: Topics().events, partition: 0, offset: offset, key: Array(event.dossierId.utf8),
            value: Array(try MessageCoding.encoder().encode(event)), headers: [KafkaHeader("ce_type", MessageType.event)])
        _ = try database.transaction { tx in try writer.write([message], into: tx) }
    }

    func event(
        _ kind: DossierEvent.Kind, _ dossier: String, step: Int? = 0, round: Int = 0,
        department: DepartmentID? = "industry-trade", at: String, data: DossierEvent.Data = DossierEvent.Data()
    ) -> DossierEvent {
        DossierEvent(
            eventId: StableID.make("test", kind.rawValue, dossier, String(step ?? -9), at), dossierId: dossier,
            code: "SCT-260302-000001", type: kind, department: department, step: step, round: round,
            at: Self.instant(at), data: data)
    }

    /// received + assigned for a one-step dossier of `department`, due on `due` (overall and step).
    func receive(
        _ dossier: String, at: String, due: String, stepDue: String? = nil, department: DepartmentID = "industry-trade",
        procedure: String = "P-TEST"
    ) throws {
        try apply([
            event(.received, dossier, department: department, at: at, data: .init(dueDate: due, procedure: procedure)),
            event(.assigned, dossier, department: department, at: at,
                  data: .init(dueDate: stepDue ?? due, procedure: procedure)),
        ])
    }

    func deadline(_ dossier: String, step: Int) throws -> (due: String, status: String, fired: Int) {
        let row = try database.query(
            "SELECT due_date::text AS d, status, fired FROM deadlines WHERE dossier_id = $1 AND step = $2", [dossier, step])[0]
        return (try row.decode(String.self, "d"), try row.decode(String.self, "status"), try row.decode(Int.self, "fired"))
    }

    func count(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) throws -> Int {
        try database.query(sql, parameters)[0].decode(Int.self, at: 0)
    }

    /// Outbox messages of a coordinator type for a dossier.
    func published(_ type: CoordinatorEvent.Kind, _ dossier: String) throws -> Int {
        try count(
            "SELECT count(*) FROM outbox WHERE ce_type = $1 AND key = $2",
            [CoordinatorEvent.messageType(type), dossier])
    }

    /// Outbox messages of a coordinator type, of every dossier.
    func published(_ type: CoordinatorEvent.Kind) throws -> Int {
        try count("SELECT count(*) FROM outbox WHERE ce_type = $1", [CoordinatorEvent.messageType(type)])
    }

    static func dossierId() -> String { UUID().uuidString.lowercased() }
}
