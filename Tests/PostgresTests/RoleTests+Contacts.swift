import Foundation
import Postgres
import TestSupport
import Testing

extension RoleTests {
    @Test("applicants' contacts: only the notifier reads them, through its narrow view; departments, the coordinator and the auditor are refused as real logins; reception inserts without reading back")
    func contacts() throws {
        try db.execute(
            "INSERT INTO applicant_contacts (dossier_id, channel, address, recorded_at) VALUES ('d-labour', 'sms', '0912345678', now())",
            [])
        func refused(_ connection: PostgresConnection, _ what: String, _ sql: String) {
            do {
                _ = try connection.query(sql, [])
                Issue.record("\(what): expected a refusal")
            } catch {
                #expect(error.sqlState == "42501", "\(what): \(error)")
            }
        }
        for role in [Self.role("labour"), "motcua_coordinator", "motcua_auditor", "motcua_reception"] {
            let (connection, drop) = try login(as: role)
            defer { drop() }
            refused(connection, "\(role) reads the contacts table", "SELECT address FROM applicant_contacts")
            refused(connection, "\(role) reads the notifier's view", "SELECT address FROM notification_contacts")
        }
        // Reception (its own role since 017) inserts a contact and cannot read it back; the coordinator cannot insert.
        do {
            let (coordinator, drop) = try login(as: "motcua_coordinator")
            defer { drop() }
            refused(coordinator, "the coordinator writes a contact",
                    "INSERT INTO applicant_contacts (dossier_id, channel, address, recorded_at) VALUES ('y', 'sms', '1', now())")
        }
        do {
            let (reception, drop) = try login(as: "motcua_reception")
            defer { drop() }
            #expect(try reception.execute(
                "INSERT INTO applicant_contacts (dossier_id, channel, address, recorded_at) VALUES ('d-culture', 'email', 'b@example.vn', now()) ON CONFLICT DO NOTHING",
                []) == 1)
        }
        let (notifier, drop) = try login(as: "motcua_notifier")
        defer { drop() }
        let rows = try notifier.query("SELECT dossier_id, code, channel, address FROM notification_contacts ORDER BY dossier_id", [])
            .map { [try $0.decode(String.self, "dossier_id"), try $0.decode(String.self, "code"),
                    try $0.decode(String.self, "channel"), try $0.decode(String.self, "address")] }
        #expect(rows == [["d-culture", "VH-1", "email", "b@example.vn"], ["d-labour", "LD-1", "sms", "0912345678"]])
        // Nothing else: not the table, not the dossiers (their bodies hold the applicant), not the outbox.
        refused(notifier, "the notifier reads the contacts table", "SELECT address FROM applicant_contacts")
        refused(notifier, "the notifier reads dossiers", "SELECT body FROM dossiers")
        refused(notifier, "the notifier reads the outbox", "SELECT payload FROM outbox")
        refused(notifier, "the notifier writes a contact",
                "INSERT INTO applicant_contacts (dossier_id, channel, address, recorded_at) VALUES ('x', 'sms', '1', now())")
        // A later migration's grants (motcua_grant_roles, then motcua_protect_personal_data) give nothing back.
        try db.execute("SELECT motcua_grant_roles()", [])
        try db.execute("SELECT motcua_protect_personal_data()", [])
        let (auditor, dropAuditor) = try login(as: "motcua_auditor")
        defer { dropAuditor() }
        refused(auditor, "the auditor reads the contacts table after the grants ran again", "SELECT address FROM applicant_contacts")
    }
}
