import Authority
import Foundation
import Postgres

/// The rows a batch of `dossier.events` touches — the batch's dossiers' `deadlines` (locked), `dossier_status`
/// (locked), `deadline_pauses` and `escalations` — read with one statement per table, changed in memory by the
/// operations below (each does exactly what the per-event statement of the same name in ``ProjectionStore`` or
/// ``DeadlineStore`` does), and written back by ``write(in:)`` with one set-based statement per table.
///
/// Locks: the deadlines are locked first (as the per-event path did, and before the rows that depend on them are
/// read), so a timer round or an apology that holds one of them commits before this batch reads the rest.
package struct ProjectionRows: Sendable {
    /// A `deadlines` row, every column.
    package struct Deadline: Sendable, Equatable {
        package var dossierId: String
        package var step: Int
        package var kind: DeadlineKind
        package var department: String?
        package var procedure: String?
        package var openedAt: Date
        package var dueDate: LocalDate
        package var soonAt: Date?
        package var dueAt: Date
        package var level2At: Date?
        package var fired: Int
        package var nextFireAt: Date?
        package var status: String
        package var pausedSince: Date?
        package var pausedDays: Int
        package var closedAt: Date?
        package var closedOnTime: Bool?
    }

    /// A `dossier_status` row, every column the projection writes (not `overdue`: the timer's).
    package struct Status: Sendable, Equatable {
        package var dossierId: String
        package var code: String?
        package var procedure: String?
        package var status: String
        package var department: String?
        package var step: Int?
        package var receivedAt: Date?
        package var dueDate: LocalDate?
        package var stepDueDate: LocalDate?
        package var outcome: String?
        package var decidedAt: Date?
        package var updatedAt: Date
    }

    /// A `deadline_pauses` row.
    package struct Pause: Sendable, Equatable {
        package var step: Int
        package var startedAt: Date
        package var endedAt: Date?
        package var workingDays: Int?
    }

    /// An `escalations` row; `id` nil for one this batch opens.
    package struct Escalation: Sendable, Equatable {
        package var id: Int64?
        package var step: Int
        package var kind: String
        package var level: Int
        package var reason: String
        package var department: String?
        package var recipient: String
        package var openedAt: Date
        package var closedAt: Date?
        package var closedBy: String?
    }

    /// A `dossier_timeline` row this batch adds.
    struct TimelineEntry: Sendable {
        var dossierId: String
        var eventId: UUID
        var type: String
        var step: Int?
        var at: Date
        var from: String?
        var to: String?
        var due: LocalDate?
        var detail: String?
    }

    /// Current deadlines by dossier and step.
    package private(set) var deadlines: [String: [Int: Deadline]] = [:]
    private var loadedDeadlines: [String: [Int: Deadline]] = [:]
    private var statuses: [String: Status] = [:]
    private var loadedStatuses: [String: Status] = [:]
    private var pauses: [String: [Pause]] = [:]
    private var loadedPauses: [String: [Pause]] = [:]
    private var escalations: [String: [Escalation]] = [:]
    private var loadedEscalations: [String: [Escalation]] = [:]
    private var timeline: [TimelineEntry] = []
    /// Current stage deadlines by dossier and step (``ProjectionRows+Stages.swift``).
    var stageDeadlines: [String: [Int: StageDeadlineRow]] = [:]
    var loadedStageDeadlines: [String: [Int: StageDeadlineRow]] = [:]

    /// No rows (a batch of dossiers none of which the database knows yet); tests use it.
    package init() {}

    /// Reads (and locks) the rows of `dossierIds`.
    package static func load(_ dossierIds: [String], in tx: PostgresConnection) throws -> ProjectionRows {
        var rows = ProjectionRows()
        guard !dossierIds.isEmpty else { return rows }
        let ids = PostgresNullableTextArray(dossierIds.sorted())
        for row in try tx.query(
            """
            SELECT dossier_id, step, kind, department, procedure, opened_at, due_date::text AS due_date, soon_at, due_at,
                   level2_at, fired, next_fire_at, status, paused_since, paused_days, closed_at, closed_on_time
            FROM deadlines WHERE dossier_id = ANY($1::text[]) ORDER BY dossier_id, step FOR UPDATE
            """, [ids])
        {
            let deadline = Deadline(
                dossierId: try row.decode(String.self, "dossier_id"), step: try row.decode(Int.self, "step"),
                kind: DeadlineKind(rawValue: try row.decode(String.self, "kind")) ?? .step,
                department: try row.decodeIfPresent(String.self, "department"),
                procedure: try row.decodeIfPresent(String.self, "procedure"),
                openedAt: try row.decode(Date.self, "opened_at"),
                dueDate: LocalDate(try row.decode(String.self, "due_date")) ?? LocalDate(dayNumber: 0),
                soonAt: try row.decodeIfPresent(Date.self, "soon_at"), dueAt: try row.decode(Date.self, "due_at"),
                level2At: try row.decodeIfPresent(Date.self, "level2_at"), fired: try row.decode(Int.self, "fired"),
                nextFireAt: try row.decodeIfPresent(Date.self, "next_fire_at"),
                status: try row.decode(String.self, "status"),
                pausedSince: try row.decodeIfPresent(Date.self, "paused_since"),
                pausedDays: try row.decode(Int.self, "paused_days"),
                closedAt: try row.decodeIfPresent(Date.self, "closed_at"),
                closedOnTime: try row.decodeIfPresent(Bool.self, "closed_on_time"))
            rows.deadlines[deadline.dossierId, default: [:]][deadline.step] = deadline
        }
        for row in try tx.query(
            """
            SELECT dossier_id, code, procedure, status, department, step, received_at, due_date::text AS due_date,
                   step_due_date::text AS step_due_date, outcome, decided_at, updated_at
            FROM dossier_status WHERE dossier_id = ANY($1::text[]) ORDER BY dossier_id FOR UPDATE
            """, [ids])
        {
            let status = Status(
                dossierId: try row.decode(String.self, "dossier_id"), code: try row.decodeIfPresent(String.self, "code"),
                procedure: try row.decodeIfPresent(String.self, "procedure"),
                status: try row.decode(String.self, "status"),
                department: try row.decodeIfPresent(String.self, "department"),
                step: try row.decodeIfPresent(Int.self, "step"),
                receivedAt: try row.decodeIfPresent(Date.self, "received_at"),
                dueDate: try row.decodeIfPresent(String.self, "due_date").flatMap { LocalDate($0) },
                stepDueDate: try row.decodeIfPresent(String.self, "step_due_date").flatMap { LocalDate($0) },
                outcome: try row.decodeIfPresent(String.self, "outcome"),
                decidedAt: try row.decodeIfPresent(Date.self, "decided_at"),
                updatedAt: try row.decode(Date.self, "updated_at"))
            rows.statuses[status.dossierId] = status
        }
        for row in try tx.query(
            """
            SELECT dossier_id, step, started_at, ended_at, working_days FROM deadline_pauses
            WHERE dossier_id = ANY($1::text[]) ORDER BY dossier_id, step, started_at
            """, [ids])
        {
            rows.pauses[try row.decode(String.self, "dossier_id"), default: []].append(
                Pause(
                    step: try row.decode(Int.self, "step"), startedAt: try row.decode(Date.self, "started_at"),
                    endedAt: try row.decodeIfPresent(Date.self, "ended_at"),
                    workingDays: try row.decodeIfPresent(Int.self, "working_days")))
        }
        for row in try tx.query(
            """
            SELECT id, dossier_id, step, kind, level, reason, department, recipient, opened_at, closed_at, closed_by
            FROM escalations WHERE dossier_id = ANY($1::text[]) ORDER BY id
            """, [ids])
        {
            rows.escalations[try row.decode(String.self, "dossier_id"), default: []].append(
                Escalation(
                    id: try row.decode(Int64.self, "id"), step: try row.decode(Int.self, "step"),
                    kind: try row.decode(String.self, "kind"), level: try row.decode(Int.self, "level"),
                    reason: try row.decode(String.self, "reason"),
                    department: try row.decodeIfPresent(String.self, "department"),
                    recipient: try row.decode(String.self, "recipient"), openedAt: try row.decode(Date.self, "opened_at"),
                    closedAt: try row.decodeIfPresent(Date.self, "closed_at"),
                    closedBy: try row.decodeIfPresent(String.self, "closed_by")))
        }
        try rows.loadStageDeadlines(ids, in: tx)
        rows.loadedDeadlines = rows.deadlines
        rows.loadedStatuses = rows.statuses
        rows.loadedPauses = rows.pauses
        rows.loadedEscalations = rows.escalations
        return rows
    }

    // MARK: - The per-event operations, in memory

    /// ``DeadlineStore/open(_:step:kind:department:procedure:schedule:at:in:)``: a deadline already there stays.
    package mutating func open(
        _ dossierId: String, step: Int, kind: DeadlineKind, department: DepartmentID?, procedure: String?,
        schedule: DeadlineSchedule, at: Date
    ) {
        guard deadlines[dossierId]?[step] == nil else { return }
        deadlines[dossierId, default: [:]][step] = Deadline(
            dossierId: dossierId, step: step, kind: kind, department: department?.rawValue, procedure: procedure,
            openedAt: Self.stored(at), dueDate: schedule.dueDate, soonAt: Self.stored(schedule.soonAt),
            dueAt: Self.stored(schedule.dueAt), level2At: schedule.level2At.map(Self.stored), fired: 0,
            nextFireAt: schedule.nextFire(fired: 0).map(Self.stored), status: "open", pausedSince: nil,
            pausedDays: 0, closedAt: nil, closedOnTime: nil)
    }

    /// ``DeadlineStore/reschedule(_:step:schedule:fired:pausedDays:in:)``.
    package mutating func reschedule(
        _ dossierId: String, step: Int, schedule: DeadlineSchedule, fired: Int, pausedDays: Int
    ) {
        guard var deadline = deadlines[dossierId]?[step] else { return }
        deadline.dueDate = schedule.dueDate
        deadline.soonAt = Self.stored(schedule.soonAt)
        deadline.dueAt = Self.stored(schedule.dueAt)
        deadline.level2At = schedule.level2At.map(Self.stored)
        deadline.fired = fired
        deadline.nextFireAt = schedule.nextFire(fired: fired).map(Self.stored)
        deadline.status = "open"
        deadline.pausedSince = nil
        deadline.pausedDays += pausedDays
        deadlines[dossierId]?[step] = deadline
    }

    /// An apology's new schedule (``ApologyStore/movePaused(_:step:to:schedule:in:)`` for a paused deadline, which
    /// stays paused; else ``reschedule(_:step:schedule:fired:pausedDays:)``): every level fires again.
    package mutating func moveForApology(_ dossierId: String, step: Int, schedule: DeadlineSchedule, paused: Bool) {
        guard paused else { return reschedule(dossierId, step: step, schedule: schedule, fired: 0, pausedDays: 0) }
        guard var deadline = deadlines[dossierId]?[step] else { return }
        deadline.dueDate = schedule.dueDate
        deadline.soonAt = Self.stored(schedule.soonAt)
        deadline.dueAt = Self.stored(schedule.dueAt)
        deadline.level2At = schedule.level2At.map(Self.stored)
        deadline.fired = 0
        deadlines[dossierId]?[step] = deadline
    }

    /// ``DeadlineStore/close(_:steps:at:counted:in:)``.
    package mutating func close(_ dossierId: String, steps: [Int]?, at: Date, counted: Bool = true) {
        guard let current = deadlines[dossierId] else { return }
        let at = Self.stored(at)
        for (step, var deadline) in current where deadline.status != "closed" && (steps?.contains(step) ?? true) {
            deadline.status = "closed"
            deadline.closedAt = at
            deadline.nextFireAt = nil
            deadline.pausedSince = nil
            deadline.closedOnTime =
                counted ? PostgresTimestamp.microseconds(at) <= PostgresTimestamp.microseconds(deadline.dueAt) : nil
            deadlines[dossierId]?[step] = deadline
        }
    }

    /// ``ProjectionStore/pause(_:at:in:)``.
    package mutating func pause(_ dossierId: String, at: Date) {
        guard let current = deadlines[dossierId] else { return }
        let at = Self.stored(at)
        for (step, var deadline) in current.sorted(by: { $0.key < $1.key })
        where deadline.status == "open" && deadline.kind != .authority {
            deadline.status = "paused"
            deadline.pausedSince = at
            deadline.nextFireAt = nil
            deadlines[dossierId]?[step] = deadline
            let exists = pauses[dossierId, default: []].contains {
                $0.step == step && Self.sameInstant($0.startedAt, at)
            }
            if !exists { pauses[dossierId, default: []].append(Pause(step: step, startedAt: at)) }
        }
    }

    /// ``ProjectionStore/endPause(_:step:at:workingDays:in:)``.
    package mutating func endPause(_ dossierId: String, step: Int, at: Date, workingDays: Int) {
        guard var list = pauses[dossierId] else { return }
        for index in list.indices where list[index].step == step && list[index].endedAt == nil {
            list[index].endedAt = Self.stored(at)
            list[index].workingDays = workingDays
        }
        pauses[dossierId] = list
    }

    /// ``ProjectionStore/setDueDate(_:_:in:)``.
    package mutating func setDueDate(_ dossierId: String, _ due: LocalDate) {
        statuses[dossierId]?.dueDate = due
    }

    /// ``ProjectionStore/setStepDueDate(_:step:_:in:)``.
    package mutating func setStepDueDate(_ dossierId: String, step: Int, _ due: LocalDate) {
        if statuses[dossierId]?.step == step { statuses[dossierId]?.stepDueDate = due }
    }

    /// ``ProjectionStore/moveDeadline(_:step:to:in:)``.
    package mutating func moveDeadline(_ dossierId: String, step: Int, to department: DepartmentID?) {
        if let deadline = deadlines[dossierId]?[step], deadline.status != "closed" {
            deadlines[dossierId]?[step]?.department = department?.rawValue
        }
    }

    /// ``ProjectionStore/closeEscalations(_:by:at:in:)``.
    package mutating func closeEscalations(_ dossierId: String, by cause: String, at: Date) {
        guard var list = escalations[dossierId] else { return }
        for index in list.indices where list[index].closedAt == nil {
            list[index].closedAt = Self.stored(at)
            list[index].closedBy = cause
        }
        escalations[dossierId] = list
    }

    /// ``ProjectionStore/openAuthorityEscalation(_:step:reason:department:recipient:at:in:)``.
    package mutating func openAuthorityEscalation(
        _ dossierId: String, step: Int, reason: String, department: DepartmentID?, recipient: String, at: Date
    ) {
        let exists = escalations[dossierId, default: []].contains {
            $0.step == step && $0.kind == "authority" && $0.level == 2
        }
        if !exists {
            escalations[dossierId, default: []].append(
                Escalation(
                    id: nil, step: step, kind: "authority", level: 2, reason: reason, department: department?.rawValue,
                    recipient: recipient, openedAt: Self.stored(at)))
        }
        if deadlines[dossierId]?[DeadlineKind.authorityStep]?.status == "closed" {
            deadlines[dossierId]?[DeadlineKind.authorityStep] = nil
        }
    }

    /// ``DeadlineStore/timeline(_:eventId:type:step:at:from:to:due:detail:in:)``.
    package mutating func timeline(
        _ dossierId: String, eventId: UUID, type: String, step: Int?, at: Date, from: String?, to: String?,
        due: LocalDate?, detail: String? = nil
    ) {
        timeline.append(
            TimelineEntry(
                dossierId: dossierId, eventId: eventId, type: type, step: step, at: at, from: from, to: to, due: due,
                detail: detail))
    }

    /// ``ProjectionStore/upsert(_:_:in:)``.
    package mutating func upsert(_ dossierId: String, _ change: ProjectionStore.StatusChange) {
        let at = Self.stored(change.at)
        guard var row = statuses[dossierId] else {
            statuses[dossierId] = Status(
                dossierId: dossierId, code: change.code, procedure: change.procedure,
                status: change.status ?? "unknown", department: change.department?.rawValue, step: change.step,
                receivedAt: change.receivedAt.map(Self.stored), dueDate: change.dueDate,
                stepDueDate: change.stepDueDate, outcome: change.outcome?.rawValue,
                decidedAt: change.decidedAt.map(Self.stored), updatedAt: at)
            return
        }
        row.status = change.status ?? row.status
        row.code = change.code ?? row.code
        row.procedure = change.procedure ?? row.procedure
        row.department = change.department?.rawValue ?? row.department
        row.step = change.step ?? row.step
        row.receivedAt = change.receivedAt.map(Self.stored) ?? row.receivedAt
        row.dueDate = change.dueDate ?? row.dueDate
        row.stepDueDate = change.stepDueDate ?? row.stepDueDate
        row.outcome = change.outcome?.rawValue ?? row.outcome
        row.decidedAt = change.decidedAt.map(Self.stored) ?? row.decidedAt
        row.updatedAt = at
        statuses[dossierId] = row
    }

    /// An instant as PostgreSQL stores it (whole microseconds), so that comparisons in memory agree with its own.
    static func stored(_ date: Date) -> Date {
        Date(timeIntervalSince1970: Double(PostgresTimestamp.microseconds(date)) / 1_000_000)
    }

    static func sameInstant(_ a: Date, _ b: Date) -> Bool {
        PostgresTimestamp.microseconds(a) == PostgresTimestamp.microseconds(b)
    }

    // MARK: - Writing back

    /// Writes what changed: one statement per table (none for a table nothing changed in).
    package func write(in tx: PostgresConnection) throws {
        try writeDeadlines(in: tx)
        try writeStatuses(in: tx)
        try writePauses(in: tx)
        try writeEscalations(in: tx)
        try writeTimeline(in: tx)
        try writeStageDeadlines(in: tx)
    }

    private func writeDeadlines(in tx: PostgresConnection) throws {
        var gone = Columns(2)
        for (dossierId, loaded) in loadedDeadlines {
            for step in loaded.keys where deadlines[dossierId]?[step] == nil {
                gone.append([dossierId, String(step)])
            }
        }
        if !gone.isEmpty {
            try tx.execute(
                """
                DELETE FROM deadlines AS d USING unnest($1::text[], $2::text[]) AS u(dossier_id, step)
                WHERE d.dossier_id = u.dossier_id AND d.step = u.step::int4
                """, gone.parameters)
        }
        var changed = Columns(17)
        for (dossierId, current) in deadlines {
            for (step, d) in current.sorted(by: { $0.key < $1.key }) where loadedDeadlines[dossierId]?[step] != d {
                changed.append([
                    d.dossierId, String(d.step), d.kind.rawValue, d.department, d.procedure, Self.text(d.openedAt),
                    d.dueDate.description, d.soonAt.map(Self.text), Self.text(d.dueAt), d.level2At.map(Self.text),
                    String(d.fired), d.nextFireAt.map(Self.text), d.status, d.pausedSince.map(Self.text),
                    String(d.pausedDays), d.closedAt.map(Self.text), d.closedOnTime.map { $0 ? "t" : "f" },
                ])
            }
        }
        guard !changed.isEmpty else { return }
        try tx.execute(
            """
            INSERT INTO deadlines (dossier_id, step, kind, department, procedure, opened_at, due_date, soon_at, due_at,
                                   level2_at, fired, next_fire_at, status, paused_since, paused_days, closed_at,
                                   closed_on_time)
            SELECT dossier_id, step::int4, kind, department, procedure, opened_at::timestamptz, due_date::date,
                   soon_at::timestamptz, due_at::timestamptz, level2_at::timestamptz, fired::int2,
                   next_fire_at::timestamptz, status, paused_since::timestamptz, paused_days::int4,
                   closed_at::timestamptz, closed_on_time::boolean
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                        $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[],
                        $15::text[], $16::text[], $17::text[])
                 AS u(dossier_id, step, kind, department, procedure, opened_at, due_date, soon_at, due_at, level2_at,
                      fired, next_fire_at, status, paused_since, paused_days, closed_at, closed_on_time)
            ON CONFLICT (dossier_id, step) DO UPDATE SET
                kind = EXCLUDED.kind, department = EXCLUDED.department, procedure = EXCLUDED.procedure,
                opened_at = EXCLUDED.opened_at, due_date = EXCLUDED.due_date, soon_at = EXCLUDED.soon_at,
                due_at = EXCLUDED.due_at, level2_at = EXCLUDED.level2_at, fired = EXCLUDED.fired,
                next_fire_at = EXCLUDED.next_fire_at, status = EXCLUDED.status, paused_since = EXCLUDED.paused_since,
                paused_days = EXCLUDED.paused_days, closed_at = EXCLUDED.closed_at,
                closed_on_time = EXCLUDED.closed_on_time
            """, changed.parameters)
    }

    private func writeStatuses(in tx: PostgresConnection) throws {
        var changed = Columns(12)
        for (dossierId, s) in statuses.sorted(by: { $0.key < $1.key }) where loadedStatuses[dossierId] != s {
            changed.append([
                s.dossierId, s.code, s.procedure, s.status, s.department, s.step.map(String.init),
                s.receivedAt.map(Self.text), s.dueDate?.description, s.stepDueDate?.description, s.outcome,
                s.decidedAt.map(Self.text), Self.text(s.updatedAt),
            ])
        }
        guard !changed.isEmpty else { return }
        try tx.execute(
            """
            INSERT INTO dossier_status (dossier_id, code, procedure, status, department, step, received_at, due_date,
                                        step_due_date, outcome, decided_at, updated_at)
            SELECT dossier_id, code, procedure, status, department, step::int4, received_at::timestamptz,
                   due_date::date, step_due_date::date, outcome, decided_at::timestamptz, updated_at::timestamptz
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                        $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])
                 AS u(dossier_id, code, procedure, status, department, step, received_at, due_date, step_due_date,
                      outcome, decided_at, updated_at)
            ON CONFLICT (dossier_id) DO UPDATE SET
                code = EXCLUDED.code, procedure = EXCLUDED.procedure, status = EXCLUDED.status,
                department = EXCLUDED.department, step = EXCLUDED.step, received_at = EXCLUDED.received_at,
                due_date = EXCLUDED.due_date, step_due_date = EXCLUDED.step_due_date, outcome = EXCLUDED.outcome,
                decided_at = EXCLUDED.decided_at, updated_at = EXCLUDED.updated_at
            """, changed.parameters)
    }

    private func writePauses(in tx: PostgresConnection) throws {
        var changed = Columns(5)
        for (dossierId, list) in pauses.sorted(by: { $0.key < $1.key }) {
            let loaded = loadedPauses[dossierId] ?? []
            for (index, p) in list.enumerated() where index >= loaded.count || loaded[index] != p {
                changed.append([
                    dossierId, String(p.step), Self.text(p.startedAt), p.endedAt.map(Self.text),
                    p.workingDays.map(String.init),
                ])
            }
        }
        guard !changed.isEmpty else { return }
        try tx.execute(
            """
            INSERT INTO deadline_pauses (dossier_id, step, started_at, ended_at, working_days)
            SELECT dossier_id, step::int4, started_at::timestamptz, ended_at::timestamptz, working_days::int4
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
                 AS u(dossier_id, step, started_at, ended_at, working_days)
            ON CONFLICT (dossier_id, step, started_at) DO UPDATE SET
                ended_at = EXCLUDED.ended_at, working_days = EXCLUDED.working_days
            """, changed.parameters)
    }

    private func writeEscalations(in tx: PostgresConnection) throws {
        var closed = Columns(3)
        var opened = Columns(10)
        for (dossierId, list) in escalations.sorted(by: { $0.key < $1.key }) {
            let loaded = loadedEscalations[dossierId] ?? []
            for (index, e) in list.enumerated() {
                if let id = e.id {
                    if index < loaded.count, loaded[index] != e {
                        closed.append([String(id), e.closedAt.map(Self.text), e.closedBy])
                    }
                } else {
                    opened.append([
                        dossierId, String(e.step), e.kind, String(e.level), e.reason, e.department, e.recipient,
                        Self.text(e.openedAt), e.closedAt.map(Self.text), e.closedBy,
                    ])
                }
            }
        }
        if !closed.isEmpty {
            try tx.execute(
                """
                UPDATE escalations AS e SET closed_at = u.closed_at::timestamptz, closed_by = u.closed_by
                FROM unnest($1::text[], $2::text[], $3::text[]) AS u(id, closed_at, closed_by)
                WHERE e.id = u.id::int8
                """, closed.parameters)
        }
        if !opened.isEmpty {
            try tx.execute(
                """
                INSERT INTO escalations (dossier_id, step, kind, level, reason, department, recipient, opened_at,
                                         closed_at, closed_by)
                SELECT dossier_id, step::int4, kind, level::int2, reason, department, recipient,
                       opened_at::timestamptz, closed_at::timestamptz, closed_by
                FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                            $8::text[], $9::text[], $10::text[]) WITH ORDINALITY
                     AS u(dossier_id, step, kind, level, reason, department, recipient, opened_at, closed_at,
                          closed_by, n)
                ORDER BY n
                ON CONFLICT DO NOTHING
                """, opened.parameters)
        }
    }

    private func writeTimeline(in tx: PostgresConnection) throws {
        guard !timeline.isEmpty else { return }
        var rows = Columns(10)
        for t in timeline {
            rows.append([
                t.dossierId, t.eventId.uuidString.lowercased(), t.type, t.step.map(String.init), Self.text(t.at),
                t.from, t.to, t.due?.description, t.due.map { DeadlineStore.timing(t.at, due: $0) }, t.detail,
            ])
        }
        try tx.execute(
            """
            INSERT INTO dossier_timeline (dossier_id, event_id, type, step, at, from_department, to_department,
                                          due_date, timing, detail)
            SELECT dossier_id, event_id::uuid, type, step::int4, at::timestamptz, from_department, to_department,
                   due_date::date, timing, detail
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                        $8::text[], $9::text[], $10::text[]) WITH ORDINALITY
                 AS u(dossier_id, event_id, type, step, at, from_department, to_department, due_date, timing, detail, n)
            ORDER BY n
            ON CONFLICT (event_id) DO NOTHING
            """, rows.parameters)
    }

    static func text(_ date: Date) -> String { PostgresTimestamp.format(date) }

    /// The columns of a set-based statement: one nullable `text[]` parameter per column.
    struct Columns {
        var columns: [[String?]]
        init(_ count: Int) { columns = Array(repeating: [], count: count) }
        var isEmpty: Bool { columns[0].isEmpty }
        mutating func append(_ row: [String?]) {
            for index in columns.indices { columns[index].append(row[index]) }
        }
        var parameters: [(any PostgresEncodable)?] { columns.map { PostgresNullableTextArray($0) } }
    }
}
