import Authority
import Foundation
import Postgres

extension ApologyStore {
    /// What the coordinator needs of a recorded apology to move its deadline (``ApologyMove``): whose it is, the date
    /// it moves to, and whether it came before migration 028 (recorded by the coordinator, no slip: it moves nothing
    /// now). Read with the coordinator's SELECT on `apologies`.
    package struct Issued: Sendable, Equatable {
        package var department: String?
        package var newDate: LocalDate
        package var reason: String
        package var before028: Bool

        package init(department: String?, newDate: LocalDate, reason: String, before028: Bool) {
            self.department = department
            self.newDate = newDate
            self.reason = reason
            self.before028 = before028
        }
    }

    /// The recorded apologies of `dossierIds` (one statement), by dossier and step.
    package static func issued(_ dossierIds: [String], in tx: PostgresConnection) throws -> [String: [Int: Issued]] {
        guard !dossierIds.isEmpty else { return [:] }
        var issued: [String: [Int: Issued]] = [:]
        for row in try tx.query(
            """
            SELECT dossier_id, step, department, new_date::text AS new_date, reason, before_028
            FROM apologies WHERE dossier_id = ANY($1::text[])
            """, [PostgresNullableTextArray(dossierIds.sorted())])
        {
            guard let newDate = LocalDate(try row.decode(String.self, "new_date")) else { continue }
            issued[try row.decode(String.self, "dossier_id"), default: [:]][try row.decode(Int.self, "step")] = Issued(
                department: try row.decodeIfPresent(String.self, "department"), newDate: newDate,
                reason: try row.decode(String.self, "reason"), before028: try row.decode(Bool.self, "before_028"))
        }
        return issued
    }
}
