import Authority
import EffectivelyOnce
import Foundation
import Kafka
import Messages
import Postgres
import Services
import Store
import TestSupport
import Testing

/// The national portal records the status projection produces on `portal.sync`, the gateway's acknowledgements
/// on `portal.sync.ack`, and reconciliation.
@Suite("Portal sync")
struct PortalSyncTests {
    /// (status code, record JSON) of the portal records in the outbox for `dossier`, in outbox order.
    static func records(_ fixture: CoordinatorFixture, _ dossier: String) throws -> [(Int, [String: Any])] {
        try fixture.database.query(
            "SELECT payload FROM outbox WHERE topic = $1 AND key = $2 ORDER BY id", [Topics().portalSync, dossier]
        ).map { row in
            let json = try JSONSerialization.jsonObject(with: Data(try row.decode(PostgresBytes.self, "payload").bytes))
            let object = try #require(json as? [String: Any])
            return (try #require(object["statusCode"] as? Int), object)
        }
    }

    @Test("a dossier's national status codes through its life on portal.sync, in order and once each, re-processed events adding none; withdrawal 7, refusal at intake 3")
    func statusCodesThroughLife() throws {
        let fixture = try CoordinatorFixture()
        defer { fixture.drop() }
        let id = CoordinatorFixture.dossierId()
        let data = DossierEvent.Data(dueDate: "2026-03-20", procedure: "P-TEST", channel: "online")
        let life = [
            [fixture.event(.received, id, at: "2026-03-02T09:00:00+07:00", data: data),
             fixture.event(.assigned, id, at: "2026-03-02T09:00:01+07:00", data: data)],
            [fixture.event(.prepared, id, at: "2026-03-03T09:00:00+07:00"),
             fixture.event(.supplementRequested, id, at: "2026-03-03T10:00:00+07:00")],
            [fixture.event(.supplemented, id, at: "2026-03-05T10:00:00+07:00")],
            [fixture.event(.decided, id, at: "2026-03-10T10:00:00+07:00", data: .init(outcome: .approve)),
             fixture.event(.resultReturned, id, at: "2026-03-11T10:00:00+07:00")],
        ]
        for batch in life { try fixture.apply(batch) }
        for batch in life { try fixture.apply(batch) }
        let records = try Self.records(fixture, id)
        #expect(records.map(\.0) == [2, 4, 5, 4, 9, 10])
        #expect(Set(records.compactMap { $0.1["recordId"] as? String }).count == 6)
        let decided = try #require(records.first { $0.0 == 9 }?.1)
        // The channel comes from the intake (here the received event: the fixture stores no dossiers row).
        #expect(records[0].1["channel"] as? Int == 2)
        #expect(records[0].1["appointmentDate"] as? String == "2026-03-20")
        // The supplement pause moved the appointment date; the decided record carries the moved one.
        let moved = try fixture.database.query(
            "SELECT due_date::text AS d FROM dossier_status WHERE dossier_id = $1", [id])[0].decode(String.self, "d")
        #expect(moved != "2026-03-20")
        #expect(decided["appointmentDate"] as? String == moved)
        #expect(decided["outcome"] as? String == "approve")
        #expect(decided["finishedAt"] as? String != nil)
        #expect(decided["agency"] as? String == fixture.bundle.catalogue.department("industry-trade")?.agencyCode)
        #expect(records.first?.1["finishedAt"] == nil)
        #expect(records.last?.1["returnedAt"] as? String != nil)
        for (_, record) in records {
            #expect(record["applicant"] == nil && record["secret"] == nil && record["receiptSecret"] == nil)
        }
        #expect(try fixture.count("SELECT count(*) FROM portal_sync_records WHERE dossier_id = $1", [id]) == 6)

        let withdrawn = CoordinatorFixture.dossierId()
        try fixture.receive(withdrawn, at: "2026-03-02T09:00:00+07:00", due: "2026-03-20")
        try fixture.apply([fixture.event(.withdrawn, withdrawn, at: "2026-03-04T10:00:00+07:00")])
        #expect(try Self.records(fixture, withdrawn).map(\.0) == [2, 4, 7])
        let refused = CoordinatorFixture.dossierId()
        try fixture.apply([fixture.event(.intakeRefused, refused, at: "2026-03-02T09:00:00+07:00")])
        #expect(try Self.records(fixture, refused).map(\.0) == [3])
    }

    static func ack(_ value: String, offset: Int64) -> KafkaMessage {
        KafkaMessage(
            topic: Topics().portalSyncAck, partition: 0, offset: offset, key: nil, value: Array(value.utf8))
    }

    @Test("acknowledgements are recorded; forged ones (unknown record, another dossier or code, bad JSON) are dead-lettered with the reason and change nothing; reconcile names the dossier whose record was lost")
    func acknowledgementsAndReconcile() throws {
        let fixture = try CoordinatorFixture()
        defer { fixture.drop() }
        let synced = CoordinatorFixture.dossierId(), lost = CoordinatorFixture.dossierId()
        for id in [synced, lost] {
            try fixture.receive(id, at: "2026-03-02T09:00:00+07:00", due: "2026-03-20")
        }
        let rows = try fixture.database.query(
            "SELECT record_id, dossier_id, status_code FROM portal_sync_records ORDER BY id")
        let records = try rows.map {
            (try $0.decode(UUID.self, "record_id"), try $0.decode(String.self, "dossier_id"), try $0.decode(Int.self, "status_code"))
        }
        #expect(records.count == 4)
        func json(_ record: UUID, _ dossier: String, _ code: Int, accepted: Bool = true) -> String {
            #"{"recordId": "\#(record.uuidString)", "dossierId": "\#(dossier)", "statusCode": \#(code), "#
                + #""accepted": \#(accepted), "at": "2026-03-02T09:05:00+07:00"}"#
        }
        // Every record of `synced` acknowledged; of `lost`, only the first (its "processing" record was lost).
        var messages: [KafkaMessage] = []
        for (record, dossier, code) in records where dossier == synced || code == 2 {
            messages.append(Self.ack(json(record, dossier, code), offset: Int64(messages.count)))
        }
        let recorder = PortalAckRecorder()
        let good = try fixture.database.transaction { try recorder.write(messages, into: $0) }
        #expect(good.processed == 3 && good.deadLetters == 0)

        let first = records[0]
        let forged = [
            json(UUID(), first.1, first.2),
            json(first.0, lost == first.1 ? synced : lost, first.2),
            json(first.0, first.1, 9),
            "{\"recordId\": \"\(first.0.uuidString)\", \"recordId\": \"x\"}",
            "not json",
        ]
        let before = try fixture.count("SELECT count(*) FROM portal_sync_acks")
        let refused = try fixture.database.transaction { tx in
            try recorder.write(forged.enumerated().map { Self.ack($1, offset: Int64(100 + $0)) }, into: tx)
        }
        #expect(refused.deadLetters == forged.count && refused.processed == 0)
        #expect(try fixture.count("SELECT count(*) FROM portal_sync_acks") == before)
        let reasons = try fixture.database.query(
            "SELECT headers->>'motcua_error' AS reason FROM outbox WHERE topic = $1 ORDER BY id",
            [DeadLetter.topic(of: Topics().portalSyncAck)]
        ).map { try $0.decode(String.self, "reason") }
        #expect(reasons.count == forged.count)
        for fragment in ["did not produce", "another dossier", "acknowledges status 9", "appears twice", "not valid JSON"] {
            #expect(reasons.filter { $0.contains(fragment) }.count == 1, "\(fragment) in \(reasons)")
        }

        let differences = try PortalSync.reconcile(day: LocalDate("2026-03-02")!, in: fixture.database)
        #expect(differences.map(\.dossierId) == [lost])
        #expect(differences.first?.status == 4 && differences.first?.lastSent == 4
            && differences.first?.lastAcknowledged == 2)
        #expect(try PortalSync.reconcile(day: LocalDate("2026-03-03")!, in: fixture.database).isEmpty)
    }
}
