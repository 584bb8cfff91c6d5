import Authority
import Foundation
import Postgres

/// Drafts that need approval (`drafts`, migration 024): written, sent or returned by the department's worker.
package enum DraftStore {
    /// A stored draft.
    package struct Draft: Sendable, Hashable {
        package var draftId: UUID
        package var dossierId: String
        package var step: Int
        package var round: Int
        package var department: String
        package var kind: String
        package var reason: String
        package var documents: [String]
        package var newDate: String?
        package var writtenBy: String
        package var writtenAt: Date
        package var state: String
        package var decidedBy: String?
        package var decidedAt: Date?
        package var returnReason: String?
    }

    private static let columns: StaticString = """
        draft_id, dossier_id, step, round, department, kind, reason, documents, new_date::text AS new_date,
        written_by, written_at, state, decided_by, decided_at, return_reason
        """

    private static func draft(_ row: PostgresRow) throws -> Draft {
        Draft(
            draftId: try row.decode(UUID.self, "draft_id"), dossierId: try row.decode(String.self, "dossier_id"),
            step: try row.decode(Int.self, "step"), round: try row.decode(Int.self, "round"),
            department: try row.decode(String.self, "department"), kind: try row.decode(String.self, "kind"),
            reason: try row.decode(String.self, "reason"),
            documents: (try row.decodeIfPresent(String.self, "documents")).map {
                $0.split(separator: ",").map(String.init)
            } ?? [],
            newDate: try row.decodeIfPresent(String.self, "new_date"),
            writtenBy: try row.decode(String.self, "written_by"), writtenAt: try row.decode(Date.self, "written_at"),
            state: try row.decode(String.self, "state"), decidedBy: try row.decodeIfPresent(String.self, "decided_by"),
            decidedAt: try row.decodeIfPresent(Date.self, "decided_at"),
            returnReason: try row.decodeIfPresent(String.self, "return_reason"))
    }

    /// Records a written draft; false when a draft of that kind already waits for approval on the step, or a stop
    /// notice or apology of the step was already sent (nothing written).
    package static func write(
        draftId: UUID, dossierId: String, step: Int, round: Int, department: DepartmentID, kind: String, reason: String,
        documents: [String]?, newDate: String?, writtenBy: String, at now: Date, in tx: PostgresConnection
    ) throws -> Bool {
        if kind == "apology" || kind == "stop" {
            let sent = try tx.query(
                "SELECT 1 FROM drafts WHERE dossier_id = \(dossierId) AND step = \(step) AND kind = \(kind) AND state = 'sent'")
            if !sent.isEmpty { return false }
        }
        return try !tx.query(
            """
            INSERT INTO drafts (draft_id, dossier_id, step, round, department, kind, reason, documents, new_date,
                                written_by, written_at)
            VALUES (\(draftId), \(dossierId), \(step), \(round), \(department), \(kind), \(reason),
                    \(documents.map { $0.joined(separator: ",") }), \(newDate, as: "date"), \(writtenBy), \(now))
            ON CONFLICT DO NOTHING RETURNING draft_id
            """
        ).isEmpty
    }

    /// The draft written by command `draftId`, locked for this transaction.
    package static func load(_ draftId: UUID, in tx: PostgresConnection) throws -> Draft? {
        try tx.query("SELECT \(unescaped: columns) FROM drafts WHERE draft_id = \(draftId) FOR UPDATE").first.map(draft)
    }

    /// A step's drafts, oldest first (`motcua status`, the CLI looking up the draft to approve).
    package static func drafts(_ dossierId: String, in connection: PostgresConnection) throws -> [Draft] {
        try connection.query(
            "SELECT \(unescaped: columns) FROM drafts WHERE dossier_id = \(dossierId) ORDER BY written_at, draft_id"
        ).map(draft)
    }

    /// A department's drafts waiting for approval, oldest first (`motcua review list`).
    package static func waiting(department: DepartmentID, in connection: PostgresConnection) throws -> [Draft] {
        try connection.query(
            """
            SELECT \(unescaped: columns) FROM drafts WHERE department = \(department) AND state = 'written'
            ORDER BY written_at, draft_id
            """
        ).map(draft)
    }

    /// Marks a written draft sent (approved) or returned; false when it no longer waits (nothing changed).
    package static func decide(
        _ draftId: UUID, sent: Bool, by official: String, returnReason: String?, at now: Date, in tx: PostgresConnection
    ) throws -> Bool {
        try tx.execute(
            """
            UPDATE drafts SET state = \(sent ? "sent" : "returned"), decided_by = \(official), decided_at = \(now),
                return_reason = \(returnReason)
            WHERE draft_id = \(draftId) AND state = 'written'
            """) == 1
    }

    /// Whether a stop notice of the dossier was sent: its handling has ended.
    package static func isStopped(_ dossierId: String, in tx: PostgresConnection) throws -> Bool {
        try !tx.query("SELECT 1 FROM drafts WHERE dossier_id = \(dossierId) AND state = 'sent' AND kind = 'stop'").isEmpty
    }

    /// Every sent draft of `departments` (nil: all), for the audit replay.
    package static func sent(departments: [DepartmentID]?, in connection: PostgresConnection) throws -> [Draft] {
        try connection.query(
            """
            SELECT \(unescaped: columns) FROM drafts
            WHERE state = 'sent' AND (\(departments?.map(\.rawValue), as: "text[]") IS NULL
                                      OR department = ANY(\(departments?.map(\.rawValue), as: "text[]")))
            ORDER BY dossier_id, step, decided_at
            """
        ).map(draft)
    }
}
