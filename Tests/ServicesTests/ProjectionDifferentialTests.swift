import Authority
import EffectivelyOnce
import Foundation
import Kafka
import Messages
import Postgres
import Services
import Store
import TestSupport
import Testing

/// The set-based projection (``StatusProjection``, a batch in a few statements) against the per-event reference
/// (``ReferenceStatusProjection``, one event per transaction, statement after statement), on generated histories:
/// every event kind, in plausible and in odd orders, with duplicates in the same batch, redeliveries of earlier
/// events after later ones, and timer rounds in between (escalations for the projection to close). Both databases
/// must end with the same rows in every table the projection writes.
@Suite("Projection by sets against event by event")
struct ProjectionDifferentialTests {
    @Test("generated histories give the same tables by sets as event by event", arguments: [1, 2, 3, 4])
    func sameTables(seed: UInt64) throws {
        let sets = try CoordinatorFixture()
        defer { sets.drop() }
        let reference = try CoordinatorFixture()
        defer { reference.drop() }
        var generator = HistoryGenerator(seed: seed)
        let stream = generator.stream(dossiers: 60)
        let referenceWriter = ReferenceStatusProjection(
            calendar: reference.bundle.calendar, policy: reference.policy,
            recipients: EscalationRecipients(catalogue: reference.bundle.catalogue), catalogue: reference.bundle.catalogue,
            logger: TestEnvironment.logger)
        // The rows the departments' workers recorded, in both databases before the events (the coordinator reads them).
        for row in generator.recorded {
            let previous = LocalDate(row.newDate)!.adding(days: -1).description
            for fixture in [sets, reference] {
                try fixture.recordApology(
                    row.dossier, step: row.step, from: previous, to: row.newDate, at: "2026-03-02T09:00:00+07:00",
                    reason: "inspection", department: DepartmentID(row.department))
            }
        }
        var position = 0
        var round = 0
        while position < stream.count {
            let size = min(stream.count - position, generator.batchSize())
            let batch = Array(stream[position..<position + size])
            position += size
            try sets.apply(batch)
            for event in batch { try reference.applyEach(event, with: referenceWriter) }
            round += 1
            if round % 3 == 0 {
                // The timer fires on both at the same instant: overdue escalations that later events must close.
                let now = batch.map(\.at).max()!.addingTimeInterval(Double(generator.next(upTo: 20)) * 86_400)
                sets.clock.set(now)
                reference.clock.set(now)
                let firedSets = try sets.timer().fireDue()
                let firedReference = try reference.timer().fireDue()
                #expect(firedSets == firedReference)
            }
        }
        // The recorded apologies moved deadlines (the events without a row, of case 7, moved none).
        #expect(try sets.published(.apologyIssued) > 0, "no apology moved a deadline (seed \(seed))")
        for table in ProjectionTables.all {
            let ours = try ProjectionTables.dump(table, from: sets.database)
            let theirs = try ProjectionTables.dump(table, from: reference.database)
            #expect(ours == theirs, "table \(table.name) differs (seed \(seed))")
            #expect(!ours.isEmpty || table.mayBeEmpty, "table \(table.name) is empty: the history exercised nothing")
        }
    }

    @Test("a batch holding an event twice applies it once and counts the copy as a duplicate")
    func duplicateInOneBatch() throws {
        let fixture = try CoordinatorFixture()
        defer { fixture.drop() }
        let id = CoordinatorFixture.dossierId()
        try fixture.receive(id, at: "2026-03-02T09:00:00+07:00", due: "2026-03-09")
        let pause = fixture.event(.supplementRequested, id, at: "2026-03-04T10:00:00+07:00")
        let resume = fixture.event(.supplemented, id, at: "2026-03-05T10:00:00+07:00")
        let report = try fixture.apply([pause, pause, resume, pause, resume])
        #expect(report.processed == 2)
        #expect(report.skippedDuplicates == 3)
        #expect(try fixture.deadline(id, step: 0).due == "2026-03-10")
        #expect(try fixture.count("SELECT count(*) FROM deadline_pauses WHERE dossier_id = $1", [id]) == 2)
        #expect(try fixture.count("SELECT count(*) FROM dossier_timeline WHERE dossier_id = $1", [id]) == 4)
    }
}

/// The tables the projection writes, each dumped as sorted text rows without generated ids.
enum ProjectionTables {
    struct Table {
        var name: String
        var select: String
        var mayBeEmpty = false
    }

    static let all: [Table] = [
        Table(name: "deadlines", select: "SELECT * FROM deadlines"),
        Table(name: "dossier_status", select: "SELECT * FROM dossier_status"),
        Table(name: "deadline_pauses", select: "SELECT * FROM deadline_pauses"),
        Table(
            name: "escalations",
            select: """
                SELECT dossier_id, step, kind, level, reason, department, recipient, opened_at, closed_at, closed_by
                FROM escalations
                """),
        Table(
            name: "dossier_timeline",
            select: """
                SELECT dossier_id, event_id, type, step, at, from_department, to_department, due_date, timing, detail
                FROM dossier_timeline
                """),
        Table(name: "stage_deadlines", select: "SELECT * FROM stage_deadlines"),
        Table(name: "stage_escalations", select: "SELECT * FROM stage_escalations"),
        Table(name: "processed_events", select: "SELECT consumer, event_id FROM processed_events"),
        // Apologies are the departments' (028): neither projection writes them.
        Table(name: "apologies", select: "SELECT * FROM apologies", mayBeEmpty: true),
        // The portal's records carry the dossier's dated fields as the batch leaves them (the projection reads them
        // once per batch), the reference's as each event leaves them: the same records, once each, compared without
        // their payloads; every other row whole.
        Table(
            name: "outbox",
            select: """
                SELECT source, event_id, topic, key, ce_type,
                       CASE WHEN ce_type = 'motcua.portal.record' THEN NULL ELSE payload END AS payload, headers
                FROM outbox
                """),
    ]

    static func dump(_ table: Table, from database: PostgresConnection) throws -> [String] {
        try database.query("SELECT t::text AS row FROM (\(table.select)) AS t ORDER BY 1", [])
            .map { try $0.decode(String.self, "row") }
    }
}

/// Histories of dossiers: mostly the usual course (received, assigned, supplement asked and given, forwarded,
/// escalated, decided, returned), with any kind at any point now and then; interleaved across dossiers keeping
/// each dossier's order, with copies of earlier events redelivered later and duplicates side by side.
struct HistoryGenerator {
    private var state: UInt64

    /// An `apologies` row a department's worker recorded with its `apology-issued` event.
    struct Recorded {
        var dossier: String
        var step: Int
        var department: String
        var newDate: String
    }

    /// The apologies recorded so far (the first of a dossier step holds: the table keeps one).
    var recorded: [Recorded] = []

    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 }

    /// SplitMix64.
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func next(upTo bound: Int) -> Int { Int(next() % UInt64(bound)) }

    mutating func batchSize() -> Int { [1, 3, 17, 64, 200][next(upTo: 5)] }

    mutating func uuid() -> UUID {
        let a = next()
        let b = next()
        return withUnsafeBytes(of: (a, b)) { bytes in
            UUID(uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8],
                bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
        }
    }

    static let departments = ["industry-trade", "construction", "justice", "health", "education"]
    static let start = CoordinatorFixture.instant("2026-03-02T09:00:00+07:00")

    mutating func day(after instant: Date, within days: Int) -> String {
        LocalDate(instant: instant.addingTimeInterval(Double(1 + next(upTo: days)) * 86_400)).description
    }

    /// One dossier's events in its order.
    mutating func history(of dossier: String) -> [DossierEvent] {
        var at = Self.start.addingTimeInterval(Double(next(upTo: 5 * 86_400)))
        var step = 0
        var department = Self.departments[next(upTo: Self.departments.count)]
        let procedure = "P-\(next(upTo: 4))"
        var lastStage: (stage: String, dueAt: Date)?
        var events: [DossierEvent] = []
        func add(_ kind: DossierEvent.Kind, _ data: DossierEvent.Data = DossierEvent.Data(), step: Int?, round: Int = 0) {
            events.append(
                DossierEvent(
                    eventId: uuid(), dossierId: dossier, code: "SCT-260302-\(100_000 + events.count)", type: kind,
                    department: DepartmentID(department), step: step, round: round, at: at, data: data))
            // Minutes to days later, sometimes the very same instant.
            at = at.addingTimeInterval(Double([0, 60, 3_600, 86_400, 3 * 86_400][next(upTo: 5)]))
        }
        if next(upTo: 12) == 0 {
            add(next(upTo: 2) == 0 ? .intakeIncomplete : .intakeRefused, .init(reason: "documents", procedure: procedure), step: nil)
            return events
        }
        add(.received, .init(dueDate: day(after: at, within: 20), procedure: procedure), step: 0)
        add(.assigned, .init(dueDate: day(after: at, within: 10), procedure: procedure), step: 0)
        for _ in 0..<next(upTo: 6) {
            switch next(upTo: 11) {
            case 0, 1:
                add(.supplementRequested, .init(reason: "missing page"), step: step)
                // A supplement opens the next round (closing the stage of the one before) or, odd, names round 0.
                if next(upTo: 4) != 0 { add(.supplemented, step: step, round: next(upTo: 2)) }
            case 2:
                let target = Self.departments[next(upTo: Self.departments.count)]
                add(.forwarded, .init(forwardTo: DepartmentID(target), dueDate: day(after: at, within: 10), procedure: procedure),
                    step: step)
                step += 1
                department = target
            case 3:
                add(.escalatedAuthority, .init(escalationReason: .noDelegation, procedure: procedure), step: step)
            case 4:
                add(.prepared, step: step)
            case 5:
                add(.signatureRejected, .init(reason: "unsigned"), step: step)
            case 6:
                add(.withdrawalRejected, .init(reason: "decided"), step: step)
            case 9:
                // An approved apology draft (form 04): the appointment moves when it can (drafts: issue 20).
                add(.drafted, .init(reason: "inspection", dueDate: day(after: at, within: 30), action: "apology"), step: step)
                let newDate = day(after: at, within: 30)
                add(.draftSent, .init(reason: "inspection", dueDate: newDate, official: "head", action: "apology"),
                    step: step)
                // The worker recorded it for the appointment and the step (apology-issued: the deadlines move when
                // they can), or refused one of them (apology-rejected: nothing moves).
                // The worker's `apologies` rows come with them (ApologyMove moves a deadline only for its row).
                add(.apologyIssued, .init(reason: "inspection", dueDate: newDate, official: "head"), step: -1)
                recorded.append(Recorded(dossier: dossier, step: -1, department: department, newDate: newDate))
                let issued = next(upTo: 3) != 0
                add(issued ? .apologyIssued : .apologyRejected,
                    .init(reason: "inspection", dueDate: newDate, official: "head"), step: step)
                if issued { recorded.append(Recorded(dossier: dossier, step: step, department: department, newDate: newDate)) }
            case 7:
                // Anything at any point: odd orders must agree too.
                let kinds = DossierEvent.Kind.allCases
                let kind = kinds[next(upTo: kinds.count)]
                add(kind, .init(outcome: .approve, reason: "odd", escalationReason: .expired,
                                forwardTo: DepartmentID(Self.departments[next(upTo: Self.departments.count)]),
                                dueDate: next(upTo: 2) == 0 ? day(after: at, within: 10) : nil, procedure: procedure),
                    step: next(upTo: 3) == 0 ? nil : step)
            case 8:
                // Inside the department: stages entered and handed over, a transfer keeping its stage and due
                // instant, now and then the signature closing the stage.
                let action = ["assign", "propose", "approve", "return", "transfer", "recall", "sign"][next(upTo: 7)]
                if action != "transfer" || lastStage == nil {
                    lastStage = (
                        ["examine", "check", "sign"][next(upTo: 3)],
                        at.addingTimeInterval(Double(3_600 * (1 + next(upTo: 24 * 6))))
                    )
                }
                add(.stageMoved, .init(official: "o-1", action: action, stage: lastStage!.stage, dueAt: lastStage!.dueAt),
                    step: step)
            default:
                add(.supplemented, step: step)
            }
        }
        switch next(upTo: 5) {
        case 0: add(.withdrawn, step: step)
        case 1: if next(upTo: 2) == 0 { add(.stopped, .init(reason: "stop notice"), step: step) }
        default:
            add(.decided, .init(outcome: next(upTo: 2) == 0 ? .approve : .refuse), step: step)
            if next(upTo: 2) == 0 { add(.resultReturned, step: step) }
        }
        return events
    }

    /// The dossiers' histories interleaved (each in its order), with redeliveries and duplicates.
    mutating func stream(dossiers: Int) -> [DossierEvent] {
        var queues = (0..<dossiers).map { _ in history(of: uuid().uuidString.lowercased()) }
        var out: [DossierEvent] = []
        while queues.contains(where: { !$0.isEmpty }) {
            let live = queues.indices.filter { !queues[$0].isEmpty }
            let index = live[next(upTo: live.count)]
            let event = queues[index].removeFirst()
            out.append(event)
            switch next(upTo: 10) {
            case 0: out.append(event)  // side by side (likely the same batch)
            case 1: out.append(out[next(upTo: out.count)])  // an earlier event again, after later ones
            default: break
            }
        }
        return out
    }
}
