import Authority
import Foundation
import Postgres

/// Online payment (issue 21): dossiers paid online ÷ dossiers of fee-bearing procedures (zero-fee excluded), and the
/// fees collected. `docs/scorecard.md` gives the formula.
extension Scorecard {
    /// Dossiers received in the period of one fee-bearing procedure and applicant kind.
    package struct FeeDossiers: Sendable, Hashable {
        package var procedure: String
        package var applicantKind: String
        package var count: Int
        /// Of them, those whose fee a payment gateway confirmed paid online (national portal or provincial
        /// gateway) before `asOf`.
        package var paidOnline: Int

        package init(procedure: String, applicantKind: String, count: Int, paidOnline: Int) {
            self.procedure = procedure
            self.applicantKind = applicantKind
            self.count = count
            self.paidOnline = paidOnline
        }
    }

    /// Fees paid in the period (local day of payment from `from`, before `asOf`), per procedure and channel.
    package struct Collected: Sendable, Hashable {
        package var procedure: String
        package var channel: String
        package var payments: Int
        package var amountVND: Int
    }

    /// The fees collected of a unit.
    package struct Fees: Sendable, Hashable, Codable {
        package var payments = 0
        package var amountVND = 0
        /// Paid through the national portal or the provincial gateway.
        package var onlineAmountVND = 0

        package init() {}
    }

    /// ``FeeDossiers`` of the catalogue's fee-bearing procedures (those with a fee above zero for some applicant).
    package static func feeDossiers(_ period: Period, catalogue: Catalogue, in connection: PostgresConnection) throws
        -> [FeeDossiers]
    {
        let procedures = catalogue.procedures.filter(\.isFeeBearing).map(\.code)
        guard !procedures.isEmpty else { return [] }
        let from = period.from?.description, asOf = period.asOf
        return try connection.query(
            """
            SELECT d.procedure, d.applicant_kind, count(*) AS n,
                   count(*) FILTER (WHERE f.channel IN ('national-portal', 'provincial-gateway')
                                    AND f.paid_at < \(asOf)) AS paid_online
            FROM dossiers d LEFT JOIN fee_payments f ON f.dossier_id = d.id
            WHERE d.status = 'received' AND d.received_at < \(asOf) AND d.procedure = ANY(\(procedures, as: "text[]"))
              AND (\(from, as: "date") IS NULL
                   OR (d.received_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date >= \(from, as: "date"))
            GROUP BY d.procedure, d.applicant_kind ORDER BY d.procedure, d.applicant_kind
            """
        ).map { row in
            FeeDossiers(
                procedure: try row.decode(String.self, "procedure"),
                applicantKind: try row.decode(String.self, "applicant_kind"), count: try row.decode(Int.self, "n"),
                paidOnline: try row.decode(Int.self, "paid_online"))
        }
    }

    /// The fees paid in the period, per procedure and channel.
    package static func collected(_ period: Period, in connection: PostgresConnection) throws -> [Collected] {
        let from = period.from?.description, asOf = period.asOf
        return try connection.query(
            """
            SELECT procedure, channel, count(*) AS n, sum(amount_vnd)::int8 AS amount FROM fee_payments
            WHERE paid_at < \(asOf)
              AND (\(from, as: "date") IS NULL OR (paid_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date >= \(from, as: "date"))
            GROUP BY procedure, channel ORDER BY procedure, channel
            """
        ).map { row in
            Collected(
                procedure: try row.decode(String.self, "procedure"), channel: try row.decode(String.self, "channel"),
                payments: try row.decode(Int.self, "n"), amountVND: Int(try row.decode(Int64.self, "amount")))
        }
    }

    /// The online-payment figures of each unit (department, and `city`): (paid online, dossiers owing a fee).
    /// Dossiers of an applicant kind the procedure exempts owe no fee and are not counted (zero-fee excluded).
    static func onlinePayment(_ rows: [FeeDossiers], catalogue: Catalogue) -> [String: (paid: Int, owing: Int)] {
        var out: [String: (paid: Int, owing: Int)] = [:]
        for row in rows {
            guard let procedure = catalogue.procedure(row.procedure),
                let kind = Dossier.Applicant.Kind(rawValue: row.applicantKind), procedure.feeDue(for: kind) != nil
            else { continue }
            for unit in [procedure.department.rawValue, "city"] {
                out[unit] = ((out[unit]?.paid ?? 0) + row.paidOnline, (out[unit]?.owing ?? 0) + row.count)
            }
        }
        return out
    }

    /// The fees collected of each unit (department, and `city`).
    static func fees(_ rows: [Collected], catalogue: Catalogue) -> [String: Fees] {
        var out: [String: Fees] = [:]
        for row in rows {
            let department = catalogue.procedure(row.procedure)?.department.rawValue ?? "unknown"
            for unit in [department, "city"] {
                var fees = out[unit] ?? Fees()
                fees.payments += row.payments
                fees.amountVND += row.amountVND
                if row.channel != "desk" { fees.onlineAmountVND += row.amountVND }
                out[unit] = fees
            }
        }
        return out
    }
}
