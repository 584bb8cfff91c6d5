import Authority
import Foundation
import Postgres

/// The applicants' ratings (issue 21), reported beside the satisfaction indicator: how many, and the mean score of
/// each criterion. Decision 766's formula as known (100% − late rate − complaint rate) has no rating term; in
/// MotCua's reading a dossier rated dissatisfied counts like one with a complaint (``Scorecard/progress(_:calendar:in:)``,
/// `docs/scorecard.md`), so ratings feed the indicator through that term and give no points of their own.
extension Scorecard {
    /// A rating with any criterion at or below this score (1 very dissatisfied, 2 dissatisfied, of 5) says the
    /// applicant was not satisfied.
    package static let dissatisfiedAtMost = 2

    /// Ratings recorded in the period (local day from `from`, before `asOf`) of one procedure.
    package struct Ratings: Sendable, Hashable, Codable {
        package var count = 0
        /// Sums of the scores per criterion (`timeliness`, `attitude`, `guidance`, `result`).
        package var sums: [String: Int] = [:]

        package init(count: Int = 0, sums: [String: Int] = [:]) {
            self.count = count
            self.sums = sums
        }

        /// The mean score of each criterion (none without ratings).
        package var means: [String: Double] {
            count == 0 ? [:] : sums.mapValues { Double($0) / Double(count) }
        }

        mutating func add(_ other: Ratings) {
            count += other.count
            for (criterion, sum) in other.sums { sums[criterion, default: 0] += sum }
        }
    }

    package static func ratings(_ period: Period, in connection: PostgresConnection) throws -> [String: Ratings] {
        let from = period.from?.description, asOf = period.asOf
        var out: [String: Ratings] = [:]
        for row in try connection.query(
            """
            SELECT d.procedure, count(*) AS n, sum(r.timeliness)::int8 AS timeliness, sum(r.attitude)::int8 AS attitude,
                   sum(r.guidance)::int8 AS guidance, sum(r.result)::int8 AS result
            FROM ratings r JOIN dossiers d ON d.id = r.dossier_id
            WHERE r.rated_at < \(asOf)
              AND (\(from, as: "date") IS NULL OR (r.rated_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date >= \(from, as: "date"))
            GROUP BY d.procedure
            """
        ) {
            var ratings = Ratings(count: try row.decode(Int.self, "n"))
            for criterion in ["timeliness", "attitude", "guidance", "result"] {
                ratings.sums[criterion] = Int(try row.decode(Int64.self, criterion))
            }
            out[try row.decode(String.self, "procedure")] = ratings
        }
        return out
    }

    /// The ratings of each unit (department, and `city`).
    static func ratingsByUnit(_ byProcedure: [String: Ratings], catalogue: Catalogue) -> [String: Ratings] {
        var out: [String: Ratings] = [:]
        for (procedure, ratings) in byProcedure {
            let department = catalogue.procedure(procedure)?.department.rawValue ?? "unknown"
            out[department, default: Ratings()].add(ratings)
            out["city", default: Ratings()].add(ratings)
        }
        return out
    }
}
