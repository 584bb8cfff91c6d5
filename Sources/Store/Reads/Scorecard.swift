import Authority
import Foundation
import Postgres

/// The figures behind the City's scorecard (Decision 766/QĐ-TTg indicators), per procedure; which department a
/// procedure belongs to comes from the catalogue, at the caller (as for ``DepartmentReport``).
///
/// The formulas, and what MotCua reads for each, are in `docs/scorecard.md`.
package enum Scorecard {
    /// The period of a scorecard: local days, each bound optional and inclusive, measured at `asOf`.
    package struct Period: Sendable, Hashable {
        package var from: LocalDate?
        package var to: LocalDate?
        /// The instant the figures stand at: the end of `to` (next local midnight), or now if earlier.
        package var asOf: Date

        package init(from: LocalDate?, to: LocalDate?, now: Date) {
            self.from = from
            self.to = to
            let end = to.map { $0.adding(days: 1).startInstant } ?? now
            asOf = min(end, now)
        }
    }

    /// Progress of processing (766 rule) for the dossiers of one procedure.
    package struct Progress: Sendable, Hashable {
        package var procedure: String
        /// Received before `asOf`, not withdrawn before it, and not finished before the period began.
        package var counted: Int
        /// Decided (approved or refused) before `asOf`.
        package var finished: Int
        /// Finished by the appointment date with at most one supplement request.
        package var finishedOnTime: Int
        /// Not finished at `asOf` and still within the appointment date, with at most one supplement request.
        package var inProgressWithinDeadline: Int
        /// Counted dossiers with more than one supplement request (late whatever their dates).
        package var lateBySupplements: Int
        /// Counted dossiers with a complaint recorded before `asOf` (`complaints`).
        package var withComplaints: Int
        /// Counted dossiers whose applicant rated them dissatisfied (a criterion at most
        /// ``Scorecard/dissatisfiedAtMost`` of 5) before `asOf` (`ratings`).
        package var ratedDissatisfied: Int
        /// Counted dossiers with a complaint or a dissatisfied rating (each dossier once): the satisfaction
        /// indicator's "dossiers with complaints" in MotCua's reading (`docs/scorecard.md`).
        package var dissatisfied: Int

        package init(
            procedure: String, counted: Int, finished: Int, finishedOnTime: Int, inProgressWithinDeadline: Int,
            lateBySupplements: Int, withComplaints: Int = 0, ratedDissatisfied: Int = 0, dissatisfied: Int? = nil
        ) {
            self.withComplaints = withComplaints
            self.ratedDissatisfied = ratedDissatisfied
            self.dissatisfied = dissatisfied ?? withComplaints
            self.procedure = procedure
            self.counted = counted
            self.finished = finished
            self.finishedOnTime = finishedOnTime
            self.inProgressWithinDeadline = inProgressWithinDeadline
            self.lateBySupplements = lateBySupplements
        }
    }

    /// Dossiers received in the period, of one procedure and channel.
    package struct Received: Sendable, Hashable {
        package var procedure: String
        package var channel: Dossier.Channel
        package var count: Int
        /// Of them, those the national portal accepted a record of before `asOf` (`portal_sync_acks`).
        package var synced: Int
        /// Of them, those whose channel said their documents were digitised at reception (intake `digitised`), and
        /// those whose channel did not say (migration 030).
        package var digitised = 0
        package var digitisedNotSaid = 0
    }

    /// The 766 progress figures per procedure, as the dossiers stood at the period's end.
    ///
    /// The appointment date is the one reception gave the dossier (`dossiers.due_date`) moved by the working days of
    /// the overall deadline's supplement and fee pauses that ended before `asOf` (an apology slip does not move it:
    /// it does not make a late dossier on time; a pause that ended later had not moved it yet). A dossier paused at
    /// `asOf` is measured at the instant its pause began (the waiting time is subtracted). `calendar` gives the
    /// working days, as it gave them to the coordinator that moved the due dates.
    package static func progress(
        _ period: Period, calendar: WorkingCalendar, in connection: PostgresConnection
    ) throws -> [Progress] {
        try progress([period], calendar: calendar, in: connection)[0]
    }

    /// ``progress(_:calendar:in:)`` of several periods in one statement (the status page's weeks), in their order.
    package static func progress(
        _ periods: [Period], calendar: WorkingCalendar, in connection: PostgresConnection
    ) throws -> [[Progress]] {
        guard !periods.isEmpty else { return [] }
        let froms = periods.map { $0.from?.description ?? "" }
        let asOfs = periods.map { ISO8601Instant.format($0.asOf) }
        let days = WorkingDayTable(calendar)
        var result = [[Progress]](repeating: [], count: periods.count)
        for row in try connection.query(
            """
            WITH periods AS (
                SELECT n, NULLIF(f, '')::date AS from_day, a::timestamptz AS as_of
                FROM unnest(\(froms, as: "text[]"), \(asOfs, as: "text[]")) WITH ORDINALITY AS x(f, a, n)
            ), cal AS MATERIALIZED (
                -- Materialised: evaluated once. Inlined, the date[] cast (not foldable: date input depends on
                -- DateStyle) parsed the whole calendar again for every dossier whose appointment moved.
                SELECT \(days.first, as: "date") AS first_day, (\(days.through, as: "text[]"))::int[] AS through,
                       (\(days.workingDays, as: "text[]"))::date[] AS working_days
            ), ev AS (
                -- The timeline's events the rule reads, per period and dossier, in one pass over them (not a
                -- correlated probe per dossier and use: BENCHMARKS.md, "The scorecard's progress query").
                SELECT p.n, t.dossier_id, min(t.at) FILTER (WHERE t.type = 'stopped') AS stopped_at,
                       count(*) FILTER (WHERE t.type = 'supplement-requested') AS supplements,
                       bool_or(t.type = 'withdrawn') AS withdrawn
                FROM periods p JOIN dossier_timeline t ON t.at < p.as_of
                WHERE t.type IN ('stopped', 'supplement-requested', 'withdrawn')
                GROUP BY p.n, t.dossier_id
            ), pz AS (
                -- The overall deadline's pauses begun before the period's end: the working days of those ended by
                -- then, and the start of one still open then.
                SELECT p.n, q.dossier_id,
                       COALESCE(sum(q.working_days) FILTER (WHERE q.ended_at < p.as_of), 0)::int AS moved,
                       min(q.started_at) FILTER (WHERE q.ended_at IS NULL OR q.ended_at >= p.as_of) AS paused_at
                FROM periods p JOIN deadline_pauses q ON q.step = -1 AND q.started_at < p.as_of
                GROUP BY p.n, q.dossier_id
            ), complained AS (
                SELECT DISTINCT p.n, c.dossier_id FROM periods p JOIN complaints c ON c.recorded_at < p.as_of
            ), rated_low AS (
                SELECT p.n, r.dossier_id FROM periods p JOIN ratings r ON r.rated_at < p.as_of
                WHERE least(r.timeliness, r.attitude, r.guidance, r.result) <= \(Scorecard.dissatisfiedAtMost)
            ), d AS (
                SELECT p.n, p.from_day, d.procedure, p.as_of, d.due_date AS received_due,
                       COALESCE(o.due_date, s.due_date) AS due_now,
                       -- The end of processing, by priority: decided, then stopped (a stop notice, form 05).
                       COALESCE(CASE WHEN s.outcome IN ('approve', 'refuse') AND s.decided_at < p.as_of
                                     THEN s.decided_at END, ev.stopped_at) AS finished_at,
                       COALESCE(pz.moved, 0) AS moved, pz.paused_at, COALESCE(ev.supplements, 0) AS supplements,
                       c.dossier_id IS NOT NULL AS complained, r.dossier_id IS NOT NULL AS rated_dissatisfied
                FROM periods p
                JOIN dossiers d ON d.status = 'received' AND d.received_at < p.as_of
                LEFT JOIN dossier_status s ON s.dossier_id = d.id
                LEFT JOIN deadlines o ON o.dossier_id = d.id AND o.kind = 'overall'
                LEFT JOIN ev ON ev.n = p.n AND ev.dossier_id = d.id
                LEFT JOIN pz ON pz.n = p.n AND pz.dossier_id = d.id
                LEFT JOIN complained c ON c.n = p.n AND c.dossier_id = d.id
                LEFT JOIN rated_low r ON r.n = p.n AND r.dossier_id = d.id
                -- A dossier withdrawn before the period's end is neither finished nor in progress.
                WHERE ev.withdrawn IS NOT TRUE
            ), a AS (
                -- Adding `moved` working days: the working day whose rank is the received date's plus `moved`
                -- (array subscripts, so a day outside the loaded years gives NULL and the calendar-day fallback
                -- the coordinator uses too).
                SELECT d.*,
                       CASE WHEN received_due IS NULL THEN due_now
                            WHEN moved <= 0 THEN received_due
                            ELSE COALESCE(cal.working_days[cal.through[received_due - cal.first_day + 1] + moved],
                                          received_due + moved) END AS appointment
                FROM d CROSS JOIN cal
            ), p AS (
                SELECT n, procedure, finished_at, supplements, complained, rated_dissatisfied,
                       appointment IS NULL OR (COALESCE(finished_at, paused_at, as_of)
                           AT TIME ZONE 'Asia/Ho_Chi_Minh')::date <= appointment AS by_appointment
                FROM a
                WHERE from_day IS NULL OR finished_at IS NULL
                   OR (finished_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date >= from_day
            )
            SELECT n, procedure, count(*) AS counted,
                   count(*) FILTER (WHERE finished_at IS NOT NULL) AS finished,
                   count(*) FILTER (WHERE finished_at IS NOT NULL AND supplements <= 1 AND by_appointment) AS on_time,
                   count(*) FILTER (WHERE finished_at IS NULL AND supplements <= 1 AND by_appointment) AS within,
                   count(*) FILTER (WHERE supplements > 1) AS by_supplements,
                   count(*) FILTER (WHERE complained) AS complained,
                   count(*) FILTER (WHERE rated_dissatisfied) AS rated_dissatisfied,
                   count(*) FILTER (WHERE complained OR rated_dissatisfied) AS dissatisfied
            FROM p GROUP BY n, procedure ORDER BY n, procedure
            """
        ) {
            let n = try row.decode(Int.self, "n")
            guard (1...periods.count).contains(n) else { continue }
            result[n - 1].append(
                Progress(
                    procedure: try row.decode(String.self, "procedure"), counted: try row.decode(Int.self, "counted"),
                    finished: try row.decode(Int.self, "finished"), finishedOnTime: try row.decode(Int.self, "on_time"),
                    inProgressWithinDeadline: try row.decode(Int.self, "within"),
                    lateBySupplements: try row.decode(Int.self, "by_supplements"),
                    withComplaints: try row.decode(Int.self, "complained"),
                    ratedDissatisfied: try row.decode(Int.self, "rated_dissatisfied"),
                    dissatisfied: try row.decode(Int.self, "dissatisfied")))
        }
        return result
    }

    /// The loaded years of a working calendar as two arrays for SQL: for each day from `first`, the working days up
    /// to and including it, and the working days in order. Adding `n` working days to `d` is the working day of
    /// rank `through[d] + n` (``WorkingCalendar/addWorkingDays(_:to:)``).
    struct WorkingDayTable {
        var first: String?
        var through: [String] = []
        var workingDays: [String] = []

        init(_ calendar: WorkingCalendar) {
            guard var day = LocalDate(year: calendar.loadedYears.lowerBound, month: 1, day: 1),
                let end = LocalDate(year: calendar.loadedYears.upperBound + 1, month: 1, day: 1)
            else { return }
            first = day.description
            while day < end {
                if (try? calendar.isWorkingDay(day)) ?? false { workingDays.append(day.description) }
                through.append(String(workingDays.count))
                day = day.adding(days: 1)
            }
        }
    }

    /// Dossiers received (accepted at intake) between the period's local days, by procedure and channel.
    package static func received(_ period: Period, in connection: PostgresConnection) throws -> [Received] {
        let from = period.from?.description, asOf = period.asOf
        return try connection.query(
            """
            SELECT procedure, channel, count(*) AS n, count(a.dossier_id) AS synced,
                   count(*) FILTER (WHERE digitised) AS digitised, count(*) FILTER (WHERE digitised IS NULL) AS not_said
            FROM dossiers
            -- The acknowledged dossiers as one set (not a probe per dossier).
            LEFT JOIN (SELECT DISTINCT dossier_id FROM portal_sync_acks
                       WHERE accepted AND acknowledged_at < \(asOf)) a ON a.dossier_id = dossiers.id
            WHERE status = 'received' AND received_at < \(asOf)
              AND (\(from, as: "date") IS NULL
                   OR (received_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date >= \(from, as: "date"))
            GROUP BY procedure, channel ORDER BY procedure, channel
            """
        ).map { row in
            Received(
                procedure: try row.decode(String.self, "procedure"),
                channel: try row.decode(Dossier.Channel.self, "channel"), count: try row.decode(Int.self, "n"),
                synced: try row.decode(Int.self, "synced"), digitised: try row.decode(Int.self, "digitised"),
                digitisedNotSaid: try row.decode(Int.self, "not_said"))
        }
    }
}
