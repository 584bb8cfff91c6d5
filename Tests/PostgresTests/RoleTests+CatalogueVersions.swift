import Foundation
import Postgres
import TestSupport
import Testing

/// Migration 031 as a department worker's role meets it: the catalogue versions of a batch's dossiers, read through
/// `motcua_recorded_catalogue_versions` (planned by key), keep the row-level security of a plain read of `dossiers`.
extension RoleTests {
    func recordedVersions(_ ids: [String]) throws -> [String] {
        try db.query(
            "SELECT id, catalogue_version FROM motcua_recorded_catalogue_versions($1::text[]) ORDER BY id", [ids]
        ).map { "\(try $0.decode(String.self, "id"))=\(try $0.decodeIfPresent(String.self, "catalogue_version") ?? "nil")" }
    }

    @Test("the recorded catalogue versions read by key shows a department only the dossiers a plain read shows it")
    func recordedCatalogueVersions() throws {
        try db.execute(
            "UPDATE dossiers SET catalogue_version = 'cv-' || id WHERE id IN ('d-culture', 'd-labour')", [])
        let ids = ["d-culture", "d-labour", "d-nowhere"]
        try asRole(Self.role("culture")) { () throws in
            // Labour's dossier is not culture's (no decision of culture on it): absent, as from the table itself.
            #expect(try recordedVersions(ids) == ["d-culture=cv-d-culture"])
            #expect(try count("SELECT count(*) FROM dossiers WHERE id = ANY($1::text[])", [ids]) == 1)
        }
        try asRole(Self.role("labour")) { () throws in
            #expect(try recordedVersions(ids) == ["d-labour=cv-d-labour"])
        }
        #expect(try recordedVersions(ids) == ["d-culture=cv-d-culture", "d-labour=cv-d-labour"])
    }
}
