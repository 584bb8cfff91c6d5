import Authority
import EffectivelyOnce
import Foundation
import Messages
import Postgres
import Store

extension DeadlineTimer {
    /// The stage deadlines of one round (in the round's transaction): claims up to `limit` open stages whose next
    /// in-department level is due and fires it — the head of the division when the stage is due soon (or already
    /// overdue), the director when it is still overdue a working day later (``StageDeadline``) — each once per stage
    /// entry, as a `stage-escalated` message on `escalations` and a `stage_escalations` row. Nothing goes to the
    /// City: `escalations` (the step's) and the dossier's timeline are not touched. A level whose recipient is not
    /// above the stage's role is marked fired without a message. Returns the rows claimed and the messages.
    func fireStages(
        now: Date, limit: Int, in tx: PostgresConnection, encoder: JSONEncoder, counts: inout [String: Int]
    ) throws -> (claimed: Int, outbox: [OutboxMessage]) {
        let rows = try StageDeadlineStore.claimDue(now: now, limit: limit, in: tx)
        guard !rows.isEmpty else { return (0, []) }
        var fired: [Int] = []
        var next: [Date?] = []
        var escalations: [StageDeadlineStore.Escalation] = []
        var outbox: [OutboxMessage] = []
        for row in rows {
            var bits = row.fired
            for level in StageEscalationLevel.allCases where bits & level.bit == 0 {
                guard row.deadline.instant(of: level) <= now else { continue }
                bits |= level.bit
                guard level.applies(to: row.role) else { continue }
                let reason =
                    switch level {
                    case .head: now > row.deadline.dueAt ? "overdue" : "due-soon"
                    case .director: "overdue-unresolved"
                    }
                let recipient = level.recipient.rawValue
                escalations.append(.init(due: row, level: level, reason: reason, recipient: recipient))
                let event = CoordinatorEvent(
                    eventId: StableID.make(
                        "coordinator", CoordinatorEvent.Kind.stageEscalated.rawValue, row.dossierId, String(row.step),
                        String(row.round), row.stage, PostgresTimestamp.format(row.enteredAt), level.rawValue),
                    dossierId: row.dossierId, type: .stageEscalated, step: row.step,
                    department: DepartmentID(row.department),
                    dueDate: LocalDate(instant: row.deadline.dueAt).description,
                    level: level == .head ? 1 : 2, recipient: recipient, reason: reason, stage: row.stage,
                    division: row.division, at: now)
                outbox.append(try event.outboxMessage(topics: settings.topics, encoder: encoder))
                counts[event.type.rawValue, default: 0] += 1
            }
            fired.append(bits)
            next.append(row.deadline.nextFire(fired: bits))
        }
        try StageDeadlineStore.record(rows, fired: fired, next: next, escalations: escalations, at: now, in: tx)
        return (rows.count, outbox)
    }
}
