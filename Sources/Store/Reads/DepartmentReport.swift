import Authority
import Foundation
import Postgres

/// The figures published per department: the submissions report (`motcua report`) and the operators' status page.
///
/// Both return rows as stored; which department a procedure belongs to comes from the catalogue, at the caller.
package enum DepartmentReport {
    /// Where a dossier stands for the report; every submitted dossier is in exactly one.
    package enum Category: String, Sendable, Hashable, CaseIterable {
        case notReceived = "not-received"
        case withdrawn
        /// Ended by a stop notice (form 05): neither decided nor open.
        case stopped
        case decidedOnTime = "decided-on-time"
        case decidedLate = "decided-late"
        case openOverdue = "open-overdue"
        case openOnTime = "open-on-time"
    }

    /// Submitted dossiers of one procedure, category, channel and outcome, with their escalation records.
    package struct Submissions: Sendable, Hashable {
        package var procedure: String
        package var category: Category
        package var channel: Dossier.Channel
        /// Nil while undecided.
        package var outcome: Outcome?
        package var count: Int
        /// Deadline escalations to the department head (level 1) and to the delegator (level 2).
        package var escalationsLevel1: Int
        package var escalationsLevel2: Int
        /// Authority escalations (outside the delegation).
        package var escalationsAuthority: Int
        /// In-department escalations of the dossiers' stages (issue 20, `stage_escalations`): to the head of the
        /// division, and to the director. Never sent to the City; counted apart from the escalations above.
        package var stageEscalationsHead = 0
        package var stageEscalationsDirector = 0
    }

    /// The dossiers submitted between the local days `from` and `to` (each bound optional, inclusive), grouped.
    package static func submissions(
        from: LocalDate?, to: LocalDate?, in connection: PostgresConnection
    ) throws -> [Submissions] {
        let from = from?.description, to = to?.description
        return try connection.query(
            """
            WITH d AS (
                SELECT d.id, d.procedure, d.channel, d.status AS intake, s.status, s.outcome, s.overdue,
                       o.closed_on_time, o.status AS overall, o.fired AS overall_fired, s.decided_at, s.due_date
                FROM dossiers d
                LEFT JOIN dossier_status s ON s.dossier_id = d.id
                LEFT JOIN deadlines o ON o.dossier_id = d.id AND o.kind = 'overall'
                WHERE (\(from, as: "date") IS NULL
                       OR (d.submitted_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date >= \(from, as: "date"))
                  AND (\(to, as: "date") IS NULL
                       OR (d.submitted_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date <= \(to, as: "date"))
            ), c AS (
                SELECT d.*,
                    CASE
                        WHEN d.intake <> 'received' THEN 'not-received'
                        WHEN d.status = 'withdrawn' THEN 'withdrawn'
                        WHEN d.status = 'stopped' AND d.outcome IS NULL THEN 'stopped'
                        WHEN d.outcome IS NOT NULL THEN
                            CASE WHEN COALESCE(d.closed_on_time,
                                    (d.decided_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date <= d.due_date, true)
                                 THEN 'decided-on-time' ELSE 'decided-late' END
                        WHEN COALESCE(d.overdue, false) OR COALESCE(d.overall_fired, 0) & 2 <> 0
                             OR EXISTS (SELECT 1 FROM deadlines x WHERE x.dossier_id = d.id AND x.status <> 'closed'
                                        AND x.fired & 2 <> 0) THEN 'open-overdue'
                        ELSE 'open-on-time'
                    END AS category
                FROM d
            )
            SELECT procedure, category, channel, COALESCE(outcome, '') AS outcome, count(*) AS n,
                   sum((SELECT count(*) FROM escalations e WHERE e.dossier_id = c.id AND e.kind = 'deadline'
                        AND e.level = 1)) AS level1,
                   sum((SELECT count(*) FROM escalations e WHERE e.dossier_id = c.id AND e.kind = 'deadline'
                        AND e.level = 2)) AS level2,
                   sum((SELECT count(*) FROM escalations e WHERE e.dossier_id = c.id AND e.kind = 'authority'))
                       AS authority,
                   sum((SELECT count(*) FROM stage_escalations e WHERE e.dossier_id = c.id AND e.level = 'head'))
                       AS stage_head,
                   sum((SELECT count(*) FROM stage_escalations e WHERE e.dossier_id = c.id AND e.level = 'director'))
                       AS stage_director
            FROM c GROUP BY 1, 2, 3, 4
            """
        ).map { row in
            let outcome = try row.decode(String.self, "outcome")
            return Submissions(
                procedure: try row.decode(String.self, "procedure"),
                category: try row.decode(Category.self, "category"),
                channel: try row.decode(Dossier.Channel.self, "channel"),
                outcome: try outcome.isEmpty ? nil : row.decode(Outcome.self, "outcome"),
                count: try row.decode(Int.self, "n"), escalationsLevel1: try row.decode(Int.self, "level1"),
                escalationsLevel2: try row.decode(Int.self, "level2"),
                escalationsAuthority: try row.decode(Int.self, "authority"),
                stageEscalationsHead: try row.decode(Int.self, "stage_head"),
                stageEscalationsDirector: try row.decode(Int.self, "stage_director"))
        }
    }

    /// Step deadlines of one department (nil: not assigned to one), from `on_time_statistics`.
    package struct Steps: Sendable, Hashable {
        package var department: DepartmentID?
        /// Open steps (paused ones count), and those of them past their due instant.
        package var open: Int
        package var openOverdue: Int
        /// Steps closed on time, and late.
        package var onTime: Int
        package var late: Int
    }

    /// Open escalations of one department and level.
    package struct OpenEscalations: Sendable, Hashable {
        package var department: DepartmentID?
        package var level: Int
        package var count: Int
    }

    /// In-department escalations of one department and level whose stage is still open (the stage not handed over
    /// since): `level` is `head` or `director`.
    package struct OpenStageEscalations: Sendable, Hashable {
        package var department: DepartmentID
        package var level: String
        package var count: Int
    }

    /// The next offset a consumer group stored for one partition.
    package struct StoredOffset: Sendable, Hashable {
        package var consumerGroup: String
        package var topic: String
        package var partition: Int32
        package var nextOffset: Int64
    }

    /// What the status page shows, read in one snapshot.
    package struct StatusFigures: Sendable, Hashable {
        package var steps: [Steps]
        package var openEscalations: [OpenEscalations]
        /// In-department escalations of open stages (issue 20), apart from the step escalations above.
        package var openStageEscalations: [OpenStageEscalations] = []
        /// The offsets of the consumer groups asked for.
        package var offsets: [StoredOffset]
    }

    /// The status page's figures, in one read-only snapshot (`REPEATABLE READ READ ONLY`); `offsets` only of
    /// `consumerGroups`.
    package static func statusFigures(
        consumerGroups: [String], in connection: PostgresConnection
    ) throws -> StatusFigures {
        try connection.transaction(isolation: "REPEATABLE READ READ ONLY") { tx in
            let steps = try tx.query(
                """
                SELECT department, sum(open)::bigint AS open, sum(open_overdue)::bigint AS open_overdue,
                       sum(on_time)::bigint AS on_time, sum(late)::bigint AS late
                FROM on_time_statistics GROUP BY department
                """
            ).map { row in
                Steps(
                    department: try row.decodeIfPresent(DepartmentID.self, "department"),
                    open: try row.decode(Int.self, "open"), openOverdue: try row.decode(Int.self, "open_overdue"),
                    onTime: try row.decode(Int.self, "on_time"), late: try row.decode(Int.self, "late"))
            }
            let escalations = try tx.query(
                """
                SELECT department, level, count(*) AS n FROM escalations WHERE closed_at IS NULL
                GROUP BY department, level
                """
            ).map { row in
                OpenEscalations(
                    department: try row.decodeIfPresent(DepartmentID.self, "department"),
                    level: try row.decode(Int.self, "level"), count: try row.decode(Int.self, "n"))
            }
            let offsets = try tx.query(
                """
                SELECT consumer_group, topic, partition, next_offset FROM consumer_offsets
                WHERE consumer_group = ANY(\(consumerGroups, as: "text[]"))
                """
            ).map { row in
                StoredOffset(
                    consumerGroup: try row.decode(String.self, "consumer_group"),
                    topic: try row.decode(String.self, "topic"),
                    partition: Int32(try row.decode(Int.self, "partition")),
                    nextOffset: try row.decode(Int64.self, "next_offset"))
            }
            let stageEscalations = try tx.query(
                """
                SELECT e.department, e.level, count(*) AS n FROM stage_escalations e
                JOIN stage_deadlines d ON d.dossier_id = e.dossier_id AND d.step = e.step AND d.round = e.round
                                      AND d.stage = e.stage AND d.entered_at = e.entered_at AND d.status = 'open'
                GROUP BY e.department, e.level
                """
            ).map { row in
                OpenStageEscalations(
                    department: try row.decode(DepartmentID.self, "department"),
                    level: try row.decode(String.self, "level"), count: try row.decode(Int.self, "n"))
            }
            return StatusFigures(
                steps: steps, openEscalations: escalations, openStageEscalations: stageEscalations, offsets: offsets)
        }
    }
}
