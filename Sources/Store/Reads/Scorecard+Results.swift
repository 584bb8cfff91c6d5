import Authority
import Foundation
import Postgres

/// Digitisation's electronic-results part (issue 21): result files ÷ completed dossiers of procedures with paper
/// results. `docs/scorecard.md` gives the formula.
extension Scorecard {
    /// Dossiers of one procedure approved in the period (local day of the decision from `from`, before `asOf`), and
    /// of them those whose result file was recorded before `asOf` (`result_files`).
    package struct ResultFiles: Sendable, Hashable {
        package var procedure: String
        package var completed: Int
        package var withFile: Int

        package init(procedure: String, completed: Int, withFile: Int) {
            self.procedure = procedure
            self.completed = completed
            self.withFile = withFile
        }
    }

    package static func resultFiles(_ period: Period, in connection: PostgresConnection) throws -> [ResultFiles] {
        let from = period.from?.description, asOf = period.asOf
        return try connection.query(
            """
            SELECT d.procedure, count(*) AS completed, count(r.dossier_id) AS with_file
            FROM dossier_status s JOIN dossiers d ON d.id = s.dossier_id
            -- One result file per dossier (its primary key): a join, not a probe per dossier.
            LEFT JOIN result_files r ON r.dossier_id = d.id AND r.recorded_at < \(asOf)
            WHERE s.outcome = 'approve' AND s.decided_at < \(asOf)
              AND (\(from, as: "date") IS NULL
                   OR (s.decided_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date >= \(from, as: "date"))
            GROUP BY d.procedure ORDER BY d.procedure
            """
        ).map { row in
            ResultFiles(
                procedure: try row.decode(String.self, "procedure"), completed: try row.decode(Int.self, "completed"),
                withFile: try row.decode(Int.self, "with_file"))
        }
    }

    /// (with a result file, completed) per unit (department, and `city`).
    static func electronicResults(_ rows: [ResultFiles], catalogue: Catalogue) -> [String: (file: Int, completed: Int)] {
        var out: [String: (file: Int, completed: Int)] = [:]
        for row in rows {
            let department = catalogue.procedure(row.procedure)?.department.rawValue ?? "unknown"
            for unit in [department, "city"] {
                out[unit] = ((out[unit]?.file ?? 0) + row.withFile, (out[unit]?.completed ?? 0) + row.completed)
            }
        }
        return out
    }
}
