import Authority
import Foundation
import Postgres

/// The statements of the stages inside a department (migration 019): the current stage of each open dossier step,
/// and the processing-control slip (one row per hand-over). Written by the department's worker only.
package enum StageStore {
    /// A dossier step entering its first stage.
    package struct Entry: Sendable, Hashable {
        package var dossierId: String
        package var step: Int
        package var round: Int
        package var division: String
        package var procedure: String
        package var route: [PlannedStage]
        package var position: Int
        package var assignee: String?
        package var enteredAt: Date
        package var dueAt: Date

        package init(
            dossierId: String, step: Int, round: Int, division: String, procedure: String, route: [PlannedStage],
            position: Int, assignee: String?, enteredAt: Date, dueAt: Date
        ) {
            self.dossierId = dossierId
            self.step = step
            self.round = round
            self.division = division
            self.procedure = procedure
            self.route = route
            self.position = position
            self.assignee = assignee
            self.enteredAt = enteredAt
            self.dueAt = dueAt
        }
    }

    /// The current stage of a dossier step.
    package struct Current: Sendable, Hashable {
        package var dossierId: String
        package var step: Int
        package var round: Int
        package var department: DepartmentID
        package var division: String
        package var procedure: String
        package var state: StageState
        package var enteredAt: Date
        package var dueAt: Date
        package var handovers: Int
        package var closedAt: Date?
    }

    /// `count` round-robin turns (one statement; a sequence takes no lock, so a department's worker processes
    /// never wait on each other for it).
    package static func turns(_ count: Int, in tx: PostgresConnection) throws -> [Int64] {
        guard count > 0 else { return [] }
        return try tx.query("SELECT nextval('stage_turns') AS turn FROM generate_series(1, \(count))").map {
            try $0.decode(Int64.self, "turn")
        }
    }

    /// Inserts the entries not there yet (a republished step enters once) with their slip's first line; returns
    /// the indices of `entries` inserted. One statement for the batch.
    package static func enter(_ entries: [Entry], department: DepartmentID, in tx: PostgresConnection) throws -> [Int] {
        guard !entries.isEmpty else { return [] }
        func column(_ values: [String?]) -> PostgresNullableTextArray { PostgresNullableTextArray(values) }
        let rows = try tx.query(
            """
            WITH input AS (
                SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                                     $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])
                    AS i(n, dossier_id, step, round, division, procedure, route, position, assignee, entered_at, due_at,
                         stage)
            ), inserted AS (
                INSERT INTO stages (dossier_id, step, round, department, division, procedure, route, stage_count, position,
                                    stage, role, assignee, entered_at, due_at, handovers)
                SELECT dossier_id, step::int, round::int, $13, division, procedure, route,
                       cardinality(string_to_array(route, ',')), position::int, stage,
                       split_part(split_part(route, ',', position::int + 1), ' ', 2), assignee,
                       entered_at::timestamptz, due_at::timestamptz, 1
                FROM input
                ON CONFLICT (dossier_id, step, round) DO NOTHING
                RETURNING dossier_id, step, round
            ), slip AS (
                INSERT INTO stage_handovers (dossier_id, step, round, line, department, division, action, to_stage,
                                             to_official, at)
                SELECT i.dossier_id, i.step::int, i.round::int, 1, $13, i.division, 'assign', i.stage, i.assignee,
                       i.entered_at::timestamptz
                FROM input i JOIN inserted s ON s.dossier_id = i.dossier_id AND s.step = i.step::int
                                            AND s.round = i.round::int
            )
            SELECT i.n::int AS n FROM input i JOIN inserted s ON s.dossier_id = i.dossier_id AND s.step = i.step::int
                                                            AND s.round = i.round::int
            ORDER BY 1
            """,
            [
                column(entries.indices.map { String($0) }), column(entries.map(\.dossierId)),
                column(entries.map { String($0.step) }), column(entries.map { String($0.round) }),
                column(entries.map(\.division)), column(entries.map(\.procedure)),
                column(entries.map { PlannedStage.encode($0.route) }), column(entries.map { String($0.position) }),
                column(entries.map(\.assignee)), column(entries.map { PostgresTimestamp.format($0.enteredAt) }),
                column(entries.map { PostgresTimestamp.format($0.dueAt) }),
                column(entries.map { $0.route[$0.position].id }), department.rawValue,
            ])
        return try rows.map { try $0.decode(Int.self, "n") }
    }

    /// Writes entries known to be new in this transaction, with their slip's first line, by binary COPY (two
    /// statements, no parsing of text arrays and no conflict probe: BENCHMARKS.md, issue 18). For a decision row
    /// this transaction copied into `decisions`: the decision's unique key (dossier, step, round) is the stage's
    /// primary key, and a stage row is written only with its decision or after it (``enter(_:department:in:)`` for
    /// decisions awaiting a signature), so none can be there yet. Were one there all the same, the primary key
    /// refuses the COPY (23505) and the transaction fails: nothing is skipped silently. The row guards run as for an
    /// INSERT (triggers fire on COPY; the tables have no row-level security).
    package static func copyNew(_ entries: [Entry], department: DepartmentID, in tx: PostgresConnection) throws {
        guard !entries.isEmpty else { return }
        func int32(_ value: Int, _ what: String) throws -> Int32 {
            guard let small = Int32(exactly: value) else {
                throw PostgresError(.copy, context: "COPY stages", message: "\(what) \(value) beyond int4")
            }
            return small
        }
        try tx.copyInBinary(
            """
            COPY stages (dossier_id, step, round, department, division, procedure, route, stage_count, position, stage,
                         role, assignee, entered_at, due_at, handovers) FROM STDIN (FORMAT binary)
            """
        ) { writer in
            // Entries of one procedure share their route (the worker plans it once per procedure of a batch): its
            // text is encoded again only when the route changes.
            var lastRoute: [PlannedStage] = []
            var lastRouteText = PlannedStage.encode([])
            for entry in entries {
                if entry.route != lastRoute {
                    lastRoute = entry.route
                    lastRouteText = PlannedStage.encode(entry.route)
                }
                guard entry.route.indices.contains(entry.position) else {
                    throw PostgresError(
                        .copy, context: "COPY stages",
                        message: "position \(entry.position) outside a route of \(entry.route.count) stages")
                }
                let stage = entry.route[entry.position]
                try writer.beginRow()
                writer.text(entry.dossierId)
                writer.int32(try int32(entry.step, "step"))
                writer.int32(try int32(entry.round, "round"))
                writer.text(department.rawValue)
                writer.text(entry.division)
                writer.text(entry.procedure)
                writer.text(lastRouteText)
                writer.int32(try int32(entry.route.count, "stage count"))
                writer.int32(try int32(entry.position, "position"))
                writer.text(stage.id)
                writer.text(stage.role.rawValue)
                writer.text(entry.assignee)
                writer.timestamp(entry.enteredAt)
                writer.timestamp(entry.dueAt)
                writer.int32(1)
            }
        }
        try tx.copyInBinary(
            """
            COPY stage_handovers (dossier_id, step, round, line, department, division, action, to_stage, to_official,
                                  at) FROM STDIN (FORMAT binary)
            """
        ) { writer in
            for entry in entries {
                try writer.beginRow()
                writer.text(entry.dossierId)
                writer.int32(try int32(entry.step, "step"))
                writer.int32(try int32(entry.round, "round"))
                writer.int32(1)
                writer.text(department.rawValue)
                writer.text(entry.division)
                writer.text("assign")
                writer.text(entry.route[entry.position].id)
                writer.text(entry.assignee)
                writer.timestamp(entry.enteredAt)
            }
        }
    }

    /// The latest round's stage of a dossier step, locked for the action that reads it.
    package static func current(_ dossierId: String, step: Int, in tx: PostgresConnection) throws -> Current? {
        try tx.query(
            """
            SELECT dossier_id, step, round, department, division, procedure, route, position, assignee, sender,
                   sender_position, entered_at, due_at, handovers, closed_at
            FROM stages WHERE dossier_id = \(dossierId) AND step = \(step) ORDER BY round DESC LIMIT 1 FOR UPDATE
            """
        ).first.flatMap { row -> Current? in
            guard let route = PlannedStage.decode(try row.decode(String.self, "route")) else { return nil }
            return Current(
                dossierId: try row.decode(String.self, "dossier_id"), step: try row.decode(Int.self, "step"),
                round: try row.decode(Int.self, "round"), department: try row.decode(DepartmentID.self, "department"),
                division: try row.decode(String.self, "division"), procedure: try row.decode(String.self, "procedure"),
                state: StageState(
                    route: route, position: try row.decode(Int.self, "position"),
                    assignee: try row.decodeIfPresent(String.self, "assignee"),
                    sender: try row.decodeIfPresent(String.self, "sender"),
                    senderPosition: try row.decodeIfPresent(Int.self, "sender_position")),
                enteredAt: try row.decode(Date.self, "entered_at"), dueAt: try row.decode(Date.self, "due_at"),
                handovers: try row.decode(Int.self, "handovers"), closedAt: try row.decodeIfPresent(Date.self, "closed_at"))
        }
    }

    /// The slip's action of the line a stop notice (form 05) closes the open stage with (migration 029).
    package static let stoppedAction = "stopped"

    /// Closes the dossier's open stages without a slip line (the current one got its `stopped` line first): a stop
    /// notice (form 05) ended its handling, which the `stopped` event and the sent draft record.
    package static func closeStopped(_ dossierId: String, at now: Date, in tx: PostgresConnection) throws {
        try tx.execute("UPDATE stages SET closed_at = \(now) WHERE dossier_id = \(dossierId) AND closed_at IS NULL")
    }

    /// The step's open stage of `round` waited with its step (a fee requested when it entered, now paid): its due
    /// instant moves to `dueAt`, nothing else changes (no hand-over, no slip line).
    package static func moveDue(
        _ dossierId: String, step: Int, round: Int, to dueAt: Date, in tx: PostgresConnection
    ) throws {
        try tx.execute(
            """
            UPDATE stages SET due_at = \(dueAt)
            WHERE dossier_id = \(dossierId) AND step = \(step) AND round = \(round) AND closed_at IS NULL
            """)
    }

    /// Closes the step's open stages of rounds before `round` without a slip line: a supplement opened `round`,
    /// decided afresh (its own stages, if it needs people, start from the first), and the supplement request and
    /// the applicant's supplement are on the dossier's timeline.
    package static func closeEarlierRounds(
        _ dossierId: String, step: Int, before round: Int, at now: Date, in tx: PostgresConnection
    ) throws {
        try tx.execute(
            """
            UPDATE stages SET closed_at = \(now)
            WHERE dossier_id = \(dossierId) AND step = \(step) AND round < \(round) AND closed_at IS NULL
            """)
    }

    /// A hand-over: the stage row moves (or closes, when `closed`) and the slip gets its line.
    package static func handOver(
        _ current: Current, action: String, actor: String, actedAs: StageRole?, to position: Int, assignee: String?,
        sender: String?, senderPosition: Int?, dueAt: Date, reason: String?, verdict: StageVerdict?, closed: Bool,
        at now: Date, in tx: PostgresConnection
    ) throws {
        let route = current.state.route
        let line = current.handovers + 1
        let stage = route[position]
        try tx.execute(
            """
            UPDATE stages SET position = \(position), stage = \(stage.id), role = \(stage.role.rawValue),
                assignee = \(assignee as String?), sender = \(sender as String?),
                sender_position = \(senderPosition as Int?), entered_at = \(closed ? current.enteredAt : now),
                due_at = \(dueAt), handovers = \(line), closed_at = \(closed ? now : nil as Date?)
            WHERE dossier_id = \(current.dossierId) AND step = \(current.step) AND round = \(current.round)
            """)
        try tx.execute(
            """
            INSERT INTO stage_handovers (dossier_id, step, round, line, department, division, action, from_stage,
                                         from_official, to_stage, to_official, acted_as, reason, at, stage_entered_at,
                                         stage_due_at, verdict)
            VALUES (\(current.dossierId), \(current.step), \(current.round), \(line), \(current.department.rawValue),
                    \(current.division), \(action), \(current.state.stage.id), \(actor),
                    \(closed ? nil : stage.id as String?), \(closed ? nil : assignee), \(actedAs?.rawValue),
                    \(reason), \(now), \(current.enteredAt), \(current.dueAt), \(verdict?.rawValue))
            """)
    }
}

extension StageStore {
    /// One line of the processing-control slip.
    package struct Handover: Sendable, Hashable {
        package var dossierId: String
        package var step: Int
        package var round: Int
        package var line: Int
        package var department: DepartmentID
        package var division: String
        package var action: String
        package var fromStage: String?
        /// The role of the stage left, from the step's planned route.
        package var fromRole: StageRole?
        package var fromOfficial: String?
        package var toStage: String?
        package var toOfficial: String?
        package var actedAs: String?
        package var reason: String?
        package var at: Date
        package var stageEnteredAt: Date?
        package var stageDueAt: Date?
        package var verdict: StageVerdict?
        /// The step's procedure (`stages.procedure`).
        package var procedure: String? = nil
        /// Who held the stage when this hand-over was made (the previous line's receiver); filled by
        /// ``handovers(departments:in:)`` only.
        package var holder: String? = nil
    }

    /// Officials' hand-overs (not the worker's entries; a leader's `assign` names its official) of `departments`
    /// (nil: all), in slip order.
    package static func handovers(departments: [DepartmentID]?, in connection: PostgresConnection) throws -> [Handover] {
        try lines(
            connection.query(
                """
                SELECT * FROM (
                    SELECT h.*, s.route, s.procedure,
                           lag(h.to_official) OVER (PARTITION BY h.dossier_id, h.step, h.round ORDER BY h.line) AS holder
                    FROM stage_handovers h
                    JOIN stages s ON s.dossier_id = h.dossier_id AND s.step = h.step AND s.round = h.round
                    WHERE (\(departments?.map(\.rawValue), as: "text[]") IS NULL
                           OR h.department = ANY(\(departments?.map(\.rawValue), as: "text[]")))
                ) AS x
                WHERE x.action IN ('propose', 'approve', 'return', 'transfer', 'recall')
                   OR (x.action = 'assign' AND x.from_official IS NOT NULL)
                ORDER BY x.dossier_id, x.step, x.round, x.line
                """))
    }

    /// The slip of one dossier: every hand-over of every step and round, in order.
    package static func slip(_ dossierId: String, in connection: PostgresConnection) throws -> [Handover] {
        try lines(
            connection.query(
                """
                SELECT h.*, s.route, s.procedure, NULL::text AS holder FROM stage_handovers h
                JOIN stages s ON s.dossier_id = h.dossier_id AND s.step = h.step AND s.round = h.round
                WHERE h.dossier_id = \(dossierId) ORDER BY h.step, h.round, h.line
                """))
    }

    private static func lines(_ rows: PostgresRows) throws -> [Handover] {
        try rows.map { row in
            let fromStage = try row.decodeIfPresent(String.self, "from_stage")
            let route = PlannedStage.decode(try row.decode(String.self, "route")) ?? []
            return Handover(
                dossierId: try row.decode(String.self, "dossier_id"), step: try row.decode(Int.self, "step"),
                round: try row.decode(Int.self, "round"), line: try row.decode(Int.self, "line"),
                department: try row.decode(DepartmentID.self, "department"),
                division: try row.decode(String.self, "division"), action: try row.decode(String.self, "action"),
                fromStage: fromStage, fromRole: route.first { $0.id == fromStage }?.role,
                fromOfficial: try row.decodeIfPresent(String.self, "from_official"),
                toStage: try row.decodeIfPresent(String.self, "to_stage"),
                toOfficial: try row.decodeIfPresent(String.self, "to_official"),
                actedAs: try row.decodeIfPresent(String.self, "acted_as"),
                reason: try row.decodeIfPresent(String.self, "reason"), at: try row.decode(Date.self, "at"),
                stageEnteredAt: try row.decodeIfPresent(Date.self, "stage_entered_at"),
                stageDueAt: try row.decodeIfPresent(Date.self, "stage_due_at"),
                verdict: try row.decodeIfPresent(String.self, "verdict").flatMap(StageVerdict.init(rawValue:)),
                procedure: try row.decodeIfPresent(String.self, "procedure"),
                holder: try row.decodeIfPresent(String.self, "holder"))
        }
    }
}

extension StageStore {
    /// A decision awaiting a signature that never entered a stage (prepared before the department had a workflow).
    package struct Awaiting: Sendable, Hashable {
        package var dossierId: String
        package var step: Int
        package var round: Int
        package var procedure: String
    }

    /// The department's decisions awaiting a signature (official review, approve or refuse, unsigned, the latest
    /// round of their step, not withdrawn) whose step has no stage row; through the partial index
    /// `decisions_awaiting_signature`.
    package static func awaitingWithoutStage(_ department: DepartmentID, in connection: PostgresConnection) throws
        -> [Awaiting]
    {
        try connection.query(
            """
            SELECT d.dossier_id, d.step, d.round, d.procedure FROM decisions d
            WHERE d.department = \(department.rawValue) AND d.review = 'official' AND d.signed_at IS NULL
              AND d.outcome IN ('approve', 'refuse')
              AND NOT EXISTS (SELECT 1 FROM decisions n WHERE n.dossier_id = d.dossier_id AND n.step = d.step
                              AND n.round > d.round)
              AND NOT EXISTS (SELECT 1 FROM stages s WHERE s.dossier_id = d.dossier_id AND s.step = d.step)
              AND NOT EXISTS (SELECT 1 FROM withdrawals w WHERE w.dossier_id = d.dossier_id)
            ORDER BY d.decided_at, d.dossier_id
            """
        ).map {
            Awaiting(
                dossierId: try $0.decode(String.self, "dossier_id"), step: try $0.decode(Int.self, "step"),
                round: try $0.decode(Int.self, "round"), procedure: try $0.decode(String.self, "procedure"))
        }
    }
}
