import Authority
import Foundation
import Postgres

/// Electronic result files (`result_files`, migration 020), recorded with an official's approval.
package enum ResultFileStore {
    /// Records the result file of a dossier's approval; false when one is already recorded (nothing written).
    package static func record(
        _ dossierId: String, department: DepartmentID, step: Int, documentId: String, sha256: String, link: String,
        signedBy: String, at now: Date, in tx: PostgresConnection
    ) throws -> Bool {
        try !tx.query(
            """
            INSERT INTO result_files (dossier_id, department, step, document_id, sha256, link, signed_by, recorded_at)
            VALUES (\(dossierId), \(department), \(step), \(documentId), \(sha256), \(link), \(signedBy), \(now))
            ON CONFLICT (dossier_id) DO NOTHING RETURNING dossier_id
            """
        ).isEmpty
    }
}

/// Ratings and complaints (`ratings`, `complaints`, migration 020), recorded by the department worker from a
/// channel's signed command.
package enum FeedbackStore {
    /// Records a rating; false when the dossier is already rated (nothing written).
    package static func recordRating(
        _ dossierId: String, department: DepartmentID, scores: [String: Int], channel: String, commandId: UUID,
        at now: Date, in tx: PostgresConnection
    ) throws -> Bool {
        try !tx.query(
            """
            INSERT INTO ratings (dossier_id, department, timeliness, attitude, guidance, result, channel, command_id,
                                 rated_at)
            VALUES (\(dossierId), \(department), \(scores["timeliness"] ?? 0), \(scores["attitude"] ?? 0),
                    \(scores["guidance"] ?? 0), \(scores["result"] ?? 0), \(channel), \(commandId), \(now))
            ON CONFLICT (dossier_id) DO NOTHING RETURNING dossier_id
            """
        ).isEmpty
    }

    /// Records a complaint; false when this command's complaint is already recorded.
    package static func recordComplaint(
        _ dossierId: String, department: DepartmentID, category: String, reference: String, channel: String,
        commandId: UUID, at now: Date, in tx: PostgresConnection
    ) throws -> Bool {
        try !tx.query(
            """
            INSERT INTO complaints (complaint_id, dossier_id, department, category, reference, channel, recorded_at)
            VALUES (\(commandId), \(dossierId), \(department), \(category), \(reference), \(channel), \(now))
            ON CONFLICT DO NOTHING RETURNING dossier_id
            """
        ).isEmpty
    }
}
