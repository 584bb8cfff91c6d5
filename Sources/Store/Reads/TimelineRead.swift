import Foundation
import Postgres

/// Reads of `dossier_timeline`, the coordinator's record of each dossier's events and hand-overs.
package enum TimelineRead {
    /// One timeline entry.
    package struct Entry: Sendable, Hashable {
        package var at: Date
        /// The event type (`received`, `assigned`, `forwarded`, `decided`, …).
        package var type: String
        package var step: Int?
        package var from: String?
        package var to: String?
        /// The due date of the step concerned (`YYYY-MM-DD`), when it has one.
        package var dueDate: String?
        /// `before`, `on` or `after` that due date.
        package var timing: String?
        package var detail: String?
    }

    /// A dossier's entries in order (by instant, then as recorded), at most `limit` (nil: all).
    package static func entries(of dossierId: String, limit: Int? = nil, in connection: PostgresConnection) throws
        -> [Entry]
    {
        try connection.query(
            """
            SELECT at, type, step, from_department, to_department, due_date::text AS due_date, timing, detail
            FROM dossier_timeline WHERE dossier_id = \(dossierId) ORDER BY at, id LIMIT \(limit, as: "bigint")
            """
        ).map { row in
            Entry(
                at: try row.decode(Date.self, "at"), type: try row.decode(String.self, "type"),
                step: try row.decodeIfPresent(Int.self, "step"),
                from: try row.decodeIfPresent(String.self, "from_department"),
                to: try row.decodeIfPresent(String.self, "to_department"),
                dueDate: try row.decodeIfPresent(String.self, "due_date"),
                timing: try row.decodeIfPresent(String.self, "timing"),
                detail: try row.decodeIfPresent(String.self, "detail"))
        }
    }

    /// The dossier's latest entry of one of `types` (by instant, then as recorded), among those recorded after the
    /// entry `after` (see `lastRecorded`) when given.
    package static func latest(
        of dossierId: String, types: [String], after: Int64? = nil, in connection: PostgresConnection
    ) throws -> Recorded? {
        try connection.query(
            """
            SELECT type, detail FROM dossier_timeline
            WHERE dossier_id = \(dossierId) AND type = ANY(\(types, as: "text[]")) AND id > \(after ?? 0, as: "bigint")
            ORDER BY at DESC, id DESC LIMIT 1
            """
        ).first.map(Recorded.init)
    }

    /// The id of the dossier's last timeline entry so far (0 when none): a command's answer is recorded after it.
    package static func lastRecorded(of dossierId: String, in connection: PostgresConnection) throws -> Int64 {
        try connection.query("SELECT coalesce(max(id), 0) AS id FROM dossier_timeline WHERE dossier_id = \(dossierId)")
            .first?.decode(Int64.self, "id") ?? 0
    }

    /// An entry's type and detail.
    package struct Recorded: Sendable, Hashable {
        package var type: String
        package var detail: String?

        init(_ row: PostgresRow) throws {
            type = try row.decode(String.self, "type")
            detail = try row.decodeIfPresent(String.self, "detail")
        }
    }

    /// The entry of the event with this id, or nil while it is not on a timeline.
    package static func event(_ eventId: UUID, in connection: PostgresConnection) throws -> Recorded? {
        try connection.query("SELECT type, detail FROM dossier_timeline WHERE event_id = \(eventId)").first
            .map(Recorded.init)
    }
}
