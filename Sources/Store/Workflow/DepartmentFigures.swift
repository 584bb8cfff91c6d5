import Authority
import Foundation
import Postgres

/// The figures of a department's leader page (`/departments/{department}`): the queues by division and by
/// official, the time stages took against their quota, and open and overdue stages per division over the last
/// weeks. Read from `stages` and `stage_handovers` (migration 019); nothing about applicants.
public enum DepartmentFigures {
    /// Open stages of a division (`official` nil) or of one official in it (`official` nil and `whole` false: the
    /// division's queue, held by nobody).
    public struct Queue: Sendable, Hashable {
        public var division: String
        /// True for the division's total.
        public var whole: Bool
        public var official: String?
        public var open: Int
        /// Due within the next 24 hours (not yet overdue).
        public var dueSoon: Int
        public var overdue: Int
    }

    /// Stages finished (left with a verdict) of one stage id, in a division or by one official.
    public struct StageTime: Sendable, Hashable {
        public var division: String
        /// Nil: the division's figure.
        public var official: String?
        public var stage: String
        public var finished: Int
        public var late: Int
        /// Median working hours from entering the stage to leaving it.
        public var medianHours: Double
        /// Median working hours the stage's quota allowed (entered → due).
        public var quotaHours: Double
    }

    /// Open and overdue stages of a division at the end of a week.
    public struct Week: Sendable, Hashable {
        public var division: String
        public var at: Date
        public var open: Int
        public var overdue: Int

        public init(division: String, at: Date, open: Int, overdue: Int) {
            self.division = division
            self.at = at
            self.open = open
            self.overdue = overdue
        }
    }

    /// The open stages of `department` at `now` by division and by official (the division's total first).
    public static func queues(department: DepartmentID, now: Date, in connection: PostgresConnection) throws -> [Queue] {
        try connection.query(
            """
            SELECT division, assignee, GROUPING(assignee) = 1 AS whole, count(*) AS open,
                   count(*) FILTER (WHERE due_at >= \(now, as: "timestamptz")
                                      AND due_at < \(now, as: "timestamptz") + interval '24 hours') AS due_soon,
                   count(*) FILTER (WHERE due_at < \(now, as: "timestamptz")) AS overdue
            FROM stages WHERE department = \(department.rawValue) AND closed_at IS NULL
            GROUP BY GROUPING SETS ((division), (division, assignee))
            ORDER BY division, whole DESC, assignee NULLS FIRST
            """
        ).map { row in
            Queue(
                division: try row.decode(String.self, "division"), whole: try row.decode(Bool.self, "whole"),
                official: try row.decodeIfPresent(String.self, "assignee"), open: try row.decode(Int.self, "open"),
                dueSoon: try row.decode(Int.self, "due_soon"), overdue: try row.decode(Int.self, "overdue"))
        }
    }

    /// The stages of `department` finished since `since`, by division and stage and by official and stage, their
    /// times in working hours (``WorkingCalendar/workingHours(from:to:)``: office hours of working days, so a night
    /// or a weekend inside a stage counts nothing, as in its quota of working days).
    ///
    /// The lines are read in one statement and measured here, where the calendar is: PostgreSQL does not hold it.
    public static func stageTimes(
        department: DepartmentID, since: Date, calendar: WorkingCalendar, in connection: PostgresConnection
    ) throws -> [StageTime] {
        struct Key: Hashable {
            var division: String
            var official: String?
            var stage: String
        }
        var groups: [Key: (finished: Int, late: Int, times: [Double], quotas: [Double])] = [:]
        // Instants as epoch seconds and columns by position: the page reads every line of 8 weeks.
        for row in try connection.query(
            """
            SELECT division, coalesce(from_official, '—'), from_stage, verdict = 'late',
                   extract(epoch FROM stage_entered_at)::float8, extract(epoch FROM at)::float8,
                   extract(epoch FROM stage_due_at)::float8
            FROM stage_handovers
            WHERE department = \(department.rawValue) AND verdict IS NOT NULL AND stage_entered_at IS NOT NULL
              AND stage_due_at IS NOT NULL AND from_stage IS NOT NULL AND at >= \(since, as: "timestamptz")
            """)
        {
            let division = try row.decode(String.self, at: 0)
            let stage = try row.decode(String.self, at: 2)
            let entered = Date(timeIntervalSince1970: try row.decode(Double.self, at: 4))
            let time = calendar.workingHours(
                from: entered, to: Date(timeIntervalSince1970: try row.decode(Double.self, at: 5)))
            let quota = calendar.workingHours(
                from: entered, to: Date(timeIntervalSince1970: try row.decode(Double.self, at: 6)))
            let late = try row.decode(Bool.self, at: 3) ? 1 : 0
            for key in [
                Key(division: division, official: nil, stage: stage),
                Key(division: division, official: try row.decode(String.self, at: 1), stage: stage),
            ] {
                groups[key, default: (0, 0, [], [])].finished += 1
                groups[key]!.late += late
                groups[key]!.times.append(time)
                groups[key]!.quotas.append(quota)
            }
        }
        return groups.map { key, group in
            StageTime(
                division: key.division, official: key.official, stage: key.stage, finished: group.finished,
                late: group.late, medianHours: median(group.times), quotaHours: median(group.quotas))
        }.sorted {
            ($0.division, $0.official == nil ? 0 : 1, $0.official ?? "", $0.stage)
                < ($1.division, $1.official == nil ? 0 : 1, $1.official ?? "", $1.stage)
        }
    }

    /// The median of `values` (the mean of the two middle ones for an even count), as `percentile_cont(0.5)`.
    static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// Open and overdue stages of `department` per division at `now` and at the same instant of each of the
    /// `weeks - 1` weeks before, oldest first. A stage counts as open at an instant between its entry and the
    /// hand-over that left it (the slip's lines) or, still open, from its entry on.
    public static func weeks(
        department: DepartmentID, now: Date, weeks: Int, in connection: PostgresConnection
    ) throws -> [Week] {
        try connection.query(
            """
            WITH spans AS (
                SELECT division, stage_entered_at AS entered_at, at AS left_at, stage_due_at AS due_at
                FROM stage_handovers
                WHERE department = \(department.rawValue) AND verdict IS NOT NULL AND stage_entered_at IS NOT NULL
                UNION ALL
                SELECT division, entered_at, timestamptz 'infinity', due_at
                FROM stages WHERE department = \(department.rawValue) AND closed_at IS NULL
            ), ends AS (
                SELECT \(now, as: "timestamptz") - n * interval '7 days' AS at
                FROM generate_series(0, \(max(1, weeks), as: "integer") - 1) AS n
            )
            SELECT s.division, e.at,
                   count(*) FILTER (WHERE s.entered_at <= e.at AND s.left_at > e.at) AS open,
                   count(*) FILTER (WHERE s.entered_at <= e.at AND s.left_at > e.at AND s.due_at < e.at) AS overdue
            FROM ends e CROSS JOIN spans s
            GROUP BY s.division, e.at ORDER BY s.division, e.at
            """
        ).map { row in
            Week(
                division: try row.decode(String.self, "division"), at: try row.decode(Date.self, "at"),
                open: try row.decode(Int.self, "open"), overdue: try row.decode(Int.self, "overdue"))
        }
    }
}
