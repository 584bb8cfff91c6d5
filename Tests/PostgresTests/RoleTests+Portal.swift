import Foundation
import Postgres
import Testing

extension RoleTests {
    @Test("portal sync: the coordinator records acknowledgements and its offsets on portal.sync.ack; a department role may do neither nor forge a record, and nothing changes")
    func portalSync() throws {
        let record = "00000000-0000-4000-8000-000000000001"
        try db.execute(
            "INSERT INTO portal_sync_records (record_id, dossier_id, status_code, status_at) VALUES ($1::uuid, 'd-labour', 2, now())",
            [record])
        let ack = """
            INSERT INTO portal_sync_acks (record_id, dossier_id, status_code, accepted, acknowledged_at, source_topic,
                                          source_partition, source_offset)
            VALUES ('\(record)', 'd-labour', 2, true, now(), 'portal.sync.ack', 0, 1)
            """
        let offsets = """
            INSERT INTO consumer_offsets (consumer_group, topic, partition, next_offset)
            VALUES ('motcua.coordinator.portal', 'portal.sync.ack', 0, 1)
            """
        let forged = """
            INSERT INTO portal_sync_records (record_id, dossier_id, status_code, status_at)
            VALUES (gen_random_uuid(), 'd-culture', 9, now())
            """
        try asRole(Self.role("labour")) {
            expectDenied("a department records a portal acknowledgement") { try db.execute(ack, []) }
            expectDenied("a department stores offsets of portal.sync.ack") { try db.execute(offsets, []) }
            expectDenied("a department forges a portal record") { try db.execute(forged, []) }
        }
        func count(_ sql: String) throws -> Int { try db.query(sql, [])[0].decode(Int.self, at: 0) }
        #expect(try count("SELECT count(*) FROM portal_sync_acks") == 0)
        #expect(try count("SELECT count(*) FROM portal_sync_records") == 1)
        #expect(try count("SELECT count(*) FROM consumer_offsets WHERE topic = 'portal.sync.ack'") == 0)
        try asRole("motcua_coordinator") {
            try db.execute(ack, [])
            try db.execute(offsets, [])
        }
        #expect(try count("SELECT count(*) FROM portal_sync_acks") == 1)
        #expect(try count("SELECT count(*) FROM consumer_offsets WHERE topic = 'portal.sync.ack'") == 1)
    }
}
