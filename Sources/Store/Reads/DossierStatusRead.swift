import Authority
import Foundation
import Postgres

/// Where a dossier stands: reception's row (`dossiers`, only its non-personal columns, never `body`) next to the
/// coordinator's projection (`dossier_status`). Callers choose which side wins; ``Row`` offers the usual choice
/// (the projection where it has a value, else reception's).
package enum DossierStatusRead {
    /// How the dossier is named.
    package enum Key: Sendable, Hashable {
        /// Its id: found in reception's table or, when reception's table lacks it, in the projection alone.
        case id(String)
        /// Its code: found in reception's table only.
        case code(String)
    }

    /// Reception's columns (non-personal only).
    package struct Reception: Sendable, Hashable {
        package var code: String
        package var procedure: String
        package var status: String
        package var department: DepartmentID?
        package var receivedAt: Date
        /// The appointment date (`YYYY-MM-DD`).
        package var dueDate: String?
    }

    /// The coordinator's projection.
    package struct Projection: Sendable, Hashable {
        package var status: String
        package var department: DepartmentID?
        package var step: Int?
        package var receivedAt: Date?
        /// The dossier's due date (`YYYY-MM-DD`).
        package var dueDate: String?
        /// The current step's due date (`YYYY-MM-DD`).
        package var stepDueDate: String?
        package var overdue: Bool
        package var outcome: Outcome?
        package var decidedAt: Date?
    }

    /// A dossier found: at least one side is present.
    package struct Row: Sendable, Hashable {
        package var id: String
        /// Nil when reception's table does not hold the dossier.
        package var reception: Reception?
        /// Nil while the coordinator has not seen the dossier.
        package var projection: Projection?

        /// The projection's status, else reception's.
        package var status: String? { projection?.status ?? reception?.status }
        /// The holding agency: the projection's, else reception's.
        package var department: DepartmentID? { projection?.department ?? reception?.department }
        package var receivedAt: Date? { projection?.receivedAt ?? reception?.receivedAt }
        package var dueDate: String? { projection?.dueDate ?? reception?.dueDate }
        /// False until the projection says otherwise.
        package var overdue: Bool { projection?.overdue ?? false }
    }

    /// The SHA-256 (hex) of the receipt secret of the dossier with this code, if it has one.
    package static func receiptSecretSha256(code: String, in connection: PostgresConnection) throws -> String? {
        try connection.query(
            "SELECT encode(receipt_secret_sha256, 'hex') AS h FROM dossiers WHERE code = \(code)"
        ).first?.decodeIfPresent(String.self, "h")
    }

    /// The dossier `key` names, or nil.
    package static func find(_ key: Key, in connection: PostgresConnection) throws -> Row? {
        let id: String?, code: String?
        switch key {
        case .id(let value): (id, code) = (value, nil)
        case .code(let value): (id, code) = (nil, value)
        }
        // A NULL key matches nothing, so each branch finds the dossier only by the key given.
        guard let row = try connection.query(
            """
            SELECT d.id, true AS in_reception, d.code, d.procedure, d.status, d.department, d.received_at,
                   d.due_date::text AS due_date, s.dossier_id IS NOT NULL AS projected, s.status AS s_status,
                   s.department AS s_department, s.step AS s_step, s.received_at AS s_received_at,
                   s.due_date::text AS s_due_date, s.step_due_date::text AS s_step_due_date, s.overdue AS s_overdue,
                   s.outcome AS s_outcome, s.decided_at AS s_decided_at
            FROM dossiers d LEFT JOIN dossier_status s ON s.dossier_id = d.id
            WHERE d.id = \(id, as: "text") OR d.code = \(code, as: "text")
            UNION ALL
            SELECT s.dossier_id, false, NULL, NULL, NULL, NULL, NULL, NULL, true, s.status, s.department, s.step,
                   s.received_at, s.due_date::text, s.step_due_date::text, s.overdue, s.outcome, s.decided_at
            FROM dossier_status s
            WHERE s.dossier_id = \(id, as: "text") AND NOT EXISTS (SELECT 1 FROM dossiers d WHERE d.id = s.dossier_id)
            LIMIT 1
            """
        ).first else { return nil }
        var found = Row(id: try row.decode(String.self, "id"))
        if try row.decode(Bool.self, "in_reception") {
            found.reception = Reception(
                code: try row.decode(String.self, "code"), procedure: try row.decode(String.self, "procedure"),
                status: try row.decode(String.self, "status"),
                department: try row.decodeIfPresent(DepartmentID.self, "department"),
                receivedAt: try row.decode(Date.self, "received_at"),
                dueDate: try row.decodeIfPresent(String.self, "due_date"))
        }
        if try row.decode(Bool.self, "projected") {
            found.projection = Projection(
                status: try row.decode(String.self, "s_status"),
                department: try row.decodeIfPresent(DepartmentID.self, "s_department"),
                step: try row.decodeIfPresent(Int.self, "s_step"),
                receivedAt: try row.decodeIfPresent(Date.self, "s_received_at"),
                dueDate: try row.decodeIfPresent(String.self, "s_due_date"),
                stepDueDate: try row.decodeIfPresent(String.self, "s_step_due_date"),
                overdue: try row.decode(Bool.self, "s_overdue"),
                outcome: try row.decodeIfPresent(Outcome.self, "s_outcome"),
                decidedAt: try row.decodeIfPresent(Date.self, "s_decided_at"))
        }
        return found
    }
}
