import Authority
import Foundation
import Postgres

/// A `stage_deadlines` row (migration 023), every column: the stage a dossier step is at inside its department,
/// and the in-department escalations its timer has fired.
package struct StageDeadlineRow: Sendable, Equatable {
    package var dossierId: String
    package var step: Int
    package var round: Int
    package var department: String
    package var stage: String
    package var enteredAt: Date
    package var dueAt: Date
    package var headAt: Date
    package var directorAt: Date
    package var fired: Int
    package var nextFireAt: Date?
    package var status: String
    package var closedAt: Date?
}

extension ProjectionRows {
    /// Reads (and locks: a timer round holding one commits first) the stage deadlines of the batch's dossiers.
    mutating func loadStageDeadlines(_ ids: PostgresNullableTextArray, in tx: PostgresConnection) throws {
        for row in try tx.query(
            """
            SELECT dossier_id, step, round, department, stage, entered_at, due_at, head_at, director_at, fired,
                   next_fire_at, status, closed_at
            FROM stage_deadlines WHERE dossier_id = ANY($1::text[]) ORDER BY dossier_id, step FOR UPDATE
            """, [ids])
        {
            let stage = StageDeadlineRow(
                dossierId: try row.decode(String.self, "dossier_id"), step: try row.decode(Int.self, "step"),
                round: try row.decode(Int.self, "round"), department: try row.decode(String.self, "department"),
                stage: try row.decode(String.self, "stage"), enteredAt: try row.decode(Date.self, "entered_at"),
                dueAt: try row.decode(Date.self, "due_at"), headAt: try row.decode(Date.self, "head_at"),
                directorAt: try row.decode(Date.self, "director_at"), fired: try row.decode(Int.self, "fired"),
                nextFireAt: try row.decodeIfPresent(Date.self, "next_fire_at"),
                status: try row.decode(String.self, "status"), closedAt: try row.decodeIfPresent(Date.self, "closed_at"))
            stageDeadlines[stage.dossierId, default: [:]][stage.step] = stage
        }
        loadedStageDeadlines = stageDeadlines
    }

    /// ``StageDeadlineStore/move(_:step:round:department:stage:deadline:at:in:)``: the step is at `stage`, due at
    /// `deadline.dueAt`. The same open stage with the same round and due instant (a transfer to another official)
    /// keeps its row and what fired; anything else starts the row afresh.
    ///
    /// While the step is paused (`paused`: a supplement or a fee) the new row fires nothing until the pause ends
    /// (``resumeStages(_:since:at:calendar:)``).
    package mutating func moveStage(
        _ dossierId: String, step: Int, round: Int, department: String, stage: String, deadline: StageDeadline,
        paused: Bool = false, at: Date
    ) {
        if let current = stageDeadlines[dossierId]?[step], current.status == "open", current.round == round,
            current.stage == stage, Self.sameInstant(current.dueAt, deadline.dueAt)
        {
            return
        }
        stageDeadlines[dossierId, default: [:]][step] = StageDeadlineRow(
            dossierId: dossierId, step: step, round: round, department: department, stage: stage,
            enteredAt: Self.stored(at), dueAt: Self.stored(deadline.dueAt), headAt: Self.stored(deadline.headAt),
            directorAt: Self.stored(deadline.directorAt), fired: 0,
            nextFireAt: paused ? nil : deadline.nextFire(fired: 0).map(Self.stored), status: "open", closedAt: nil)
    }

    /// Since when the dossier's clock is paused (its earliest paused deadline's start), nil when it runs.
    package func pausedSince(_ dossierId: String) -> Date? {
        deadlines[dossierId]?.values.filter { $0.status == "paused" }.compactMap(\.pausedSince).min()
    }

    /// ``StageDeadlineStore/pause(_:in:)``: the step is paused, so its open stage's due instant stops running —
    /// no in-department escalation fires until the pause ends.
    package mutating func pauseStages(_ dossierId: String) {
        guard let current = stageDeadlines[dossierId] else { return }
        for (key, var row) in current where row.status == "open" && row.nextFireAt != nil {
            row.nextFireAt = nil
            stageDeadlines[dossierId]?[key] = row
        }
    }

    /// ``StageDeadlineStore/resume(_:since:at:calendar:in:)``: the pause that began at `since` ends at `at`; each
    /// open stage's due instant moves by the working days it was paused (from its entry when it was entered during
    /// the pause), counted as the step's own deadline counts them, and its levels not yet fired are due again.
    package mutating func resumeStages(_ dossierId: String, since: Date, at: Date, calendar: WorkingCalendar) {
        guard let current = stageDeadlines[dossierId] else { return }
        for (key, var row) in current where row.status == "open" {
            let moved = StageDeadlineStore.resumed(
                StageDeadline(dueAt: row.dueAt, headAt: row.headAt, directorAt: row.directorAt),
                enteredAt: row.enteredAt, since: since, at: at, calendar: calendar)
            row.dueAt = Self.stored(moved.dueAt)
            row.headAt = Self.stored(moved.headAt)
            row.directorAt = Self.stored(moved.directorAt)
            row.nextFireAt = moved.nextFire(fired: row.fired).map(Self.stored)
            stageDeadlines[dossierId]?[key] = row
        }
    }

    /// ``StageDeadlineStore/close(_:step:beforeRound:at:in:)``: the step's stage (every step's when `step` is nil)
    /// closes; with `beforeRound`, only a stage of an earlier round (a supplement opened a new one).
    package mutating func closeStages(_ dossierId: String, step: Int?, beforeRound: Int? = nil, at: Date) {
        guard let current = stageDeadlines[dossierId] else { return }
        for (key, var row) in current
        where row.status == "open" && (step == nil || step == key) && (beforeRound.map { row.round < $0 } ?? true) {
            row.status = "closed"
            row.closedAt = Self.stored(at)
            row.nextFireAt = nil
            stageDeadlines[dossierId]?[key] = row
        }
    }

    func writeStageDeadlines(in tx: PostgresConnection) throws {
        var changed = Columns(13)
        for (dossierId, current) in stageDeadlines.sorted(by: { $0.key < $1.key }) {
            for (step, s) in current.sorted(by: { $0.key < $1.key }) where loadedStageDeadlines[dossierId]?[step] != s {
                changed.append([
                    s.dossierId, String(s.step), String(s.round), s.department, s.stage, Self.text(s.enteredAt),
                    Self.text(s.dueAt), Self.text(s.headAt), Self.text(s.directorAt), String(s.fired),
                    s.nextFireAt.map(Self.text), s.status, s.closedAt.map(Self.text),
                ])
            }
        }
        guard !changed.isEmpty else { return }
        try tx.execute(
            """
            INSERT INTO stage_deadlines (dossier_id, step, round, department, stage, entered_at, due_at, head_at,
                                         director_at, fired, next_fire_at, status, closed_at)
            SELECT dossier_id, step::int4, round::int4, department, stage, entered_at::timestamptz, due_at::timestamptz,
                   head_at::timestamptz, director_at::timestamptz, fired::int2, next_fire_at::timestamptz, status,
                   closed_at::timestamptz
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                        $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[])
                 AS u(dossier_id, step, round, department, stage, entered_at, due_at, head_at, director_at, fired,
                      next_fire_at, status, closed_at)
            ON CONFLICT (dossier_id, step) DO UPDATE SET
                round = EXCLUDED.round, department = EXCLUDED.department, stage = EXCLUDED.stage,
                entered_at = EXCLUDED.entered_at, due_at = EXCLUDED.due_at, head_at = EXCLUDED.head_at,
                director_at = EXCLUDED.director_at, fired = EXCLUDED.fired, next_fire_at = EXCLUDED.next_fire_at,
                status = EXCLUDED.status, closed_at = EXCLUDED.closed_at
            """, changed.parameters)
    }
}
