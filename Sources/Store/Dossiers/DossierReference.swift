import Authority
import Foundation
import Messages
import Postgres

/// A dossier found by its id or its code (`AGENCY-yymmdd-NNNNNN`), with where it is now. No personal data.
public struct DossierReference: Sendable, Hashable {
    public var id: String
    public var code: String?
    public var procedure: String?
    /// Current status from the coordinator's projection (`received`, `prepared`, `decided`, …), or reception's.
    public var status: String
    /// The agency holding the dossier (`city` while an authority escalation is with the delegator).
    public var department: DepartmentID?
    public var step: Int?
    /// The department that decided the dossier's latest step (the worker that holds its rows), if any.
    public var decidingDepartment: DepartmentID?
    /// SHA-256 (lowercase hex) of the applicant's receipt secret, if the dossier came with one.
    public var receiptSecretSha256: String?

    /// The dossier `text` names (its id or its code), or nil when there is none. Status and holder come from the
    /// coordinator's projection when it has seen the dossier, otherwise from reception's table.
    public static func resolve(_ text: String, on connection: PostgresConnection) throws -> DossierReference? {
        let found = try connection.query(
            """
            SELECT d.id, d.code, d.procedure, COALESCE(s.department, d.department) AS department,
                   COALESCE(s.status, d.status) AS status, COALESCE(s.step, d.step) AS step,
                   encode(d.receipt_secret_sha256, 'hex') AS secret_sha256
            FROM dossiers d LEFT JOIN dossier_status s ON s.dossier_id = d.id
            WHERE d.id = $1 OR d.code = $1
            UNION ALL
            SELECT s.dossier_id, s.code, s.procedure, s.department, s.status, s.step, NULL FROM dossier_status s
            WHERE (s.dossier_id = $1 OR s.code = $1) AND NOT EXISTS (SELECT 1 FROM dossiers d WHERE d.id = s.dossier_id)
            LIMIT 1
            """, [text]
        ).first
        guard let found else { return nil }
        let id = try found.decode(String.self, "id")
        let deciding = try connection.query(
            "SELECT department FROM decisions WHERE dossier_id = $1 ORDER BY step DESC, round DESC LIMIT 1", [id]
        ).first
        return DossierReference(
            id: id, code: try found.decodeIfPresent(String.self, "code"),
            procedure: try found.decodeIfPresent(String.self, "procedure"), status: try found.decode(String.self, "status"),
            department: try found.decodeIfPresent(DepartmentID.self, "department"),
            step: try found.decodeIfPresent(Int.self, "step"),
            decidingDepartment: try deciding?.decodeIfPresent(DepartmentID.self, "department"),
            receiptSecretSha256: try found.decodeIfPresent(String.self, "secret_sha256"))
    }

    /// The department topic that orders commands for this dossier: the holding department when it runs a worker,
    /// otherwise (escalated to the delegator) the department that decided it last.
    /// `workers`: the departments that run a worker (those with rules).
    public func commandDepartment(workers: some Collection<DepartmentID>) -> DepartmentID? {
        if let department, workers.contains(department) { return department }
        return decidingDepartment
    }
}
