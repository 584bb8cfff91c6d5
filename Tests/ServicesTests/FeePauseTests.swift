import Authority
import EffectivelyOnce
import Foundation
import Messages
import Postgres
import Services
import Store
import TestSupport
import Testing

/// The coordinator's side of fees (issue 21): a `fee-requested` event pauses the clock like a supplement request
/// (national status 6), `fee-paid` resumes it and moves the due dates by the working days waited.
@Suite("Fee pause")
struct FeePauseTests {
    @Test("a fee pause moves the due date by the working days waited; portal codes 2, 4, 6, 4, 9 once each, with the fee, where it was paid online and the result file; one fee-requested notification naming the amount")
    func feePauseMovesDueDate() throws {
        let fixture = try CoordinatorFixture()
        defer { fixture.drop() }
        let id = CoordinatorFixture.dossierId()
        // Received Monday 2 March 2026, due Friday 13 March.
        try fixture.receive(id, at: "2026-03-02T09:00:00+07:00", due: "2026-03-13")
        let requested = fixture.event(
            .feeRequested, id, at: "2026-03-04T10:00:00+07:00",
            data: .init(outcome: .approve, review: .auto, procedure: "P-TEST", amount: 2_200_000))
        let paid = fixture.event(
            .feePaid, id, at: "2026-03-09T10:00:00+07:00",
            data: .init(official: "payment-gateway", amount: 2_200_000, paymentChannel: "national-portal",
                        receipt: "R-1"))
        let decided = fixture.event(
            .decided, id, at: "2026-03-09T10:00:01+07:00", data: .init(outcome: .approve, review: .auto))
        try fixture.apply([requested])
        #expect(try fixture.deadline(id, step: -1).status == "paused")
        #expect(try fixture.deadline(id, step: 0).status == "paused")
        // The worker records the payment (the national portal) and the result file in the transactions that emit
        // `fee-paid` and `decided`.
        try fixture.database.execute(
            """
            INSERT INTO fee_payments (dossier_id, department, step, procedure, amount_vnd, channel, receipt_number,
                                      principal, command_id, paid_at, source_topic, source_partition, source_offset)
            VALUES ($1, 'industry-trade', 0, 'P-TEST', 2200000, 'national-portal', 'R-1', 'payment-gateway',
                    gen_random_uuid(), now(), 't', 0, 0)
            """, [id])
        try fixture.database.execute(
            """
            INSERT INTO result_files (dossier_id, department, step, document_id, sha256, link, signed_by, recorded_at)
            VALUES ($1, 'industry-trade', 0, 'GP/2026/1', repeat('ab', 32), 'https://ketqua.example.vn/GP-1.pdf',
                    'auto', now())
            """, [id])
        try fixture.apply([paid, decided])
        // Paused Wednesday 4 to Monday 9 March: Wed, Thu, Fri = 3 working days; both deadlines move by them.
        #expect(try fixture.deadline(id, step: -1).due == "2026-03-18")
        #expect(try fixture.deadline(id, step: 0).due == "2026-03-18")
        #expect(try fixture.count(
            "SELECT count(*) FROM deadline_pauses WHERE dossier_id = $1 AND ended_at IS NOT NULL AND working_days = 3",
            [id]) == 2)
        #expect(try fixture.database.query(
            "SELECT due_date::text AS d FROM dossier_status WHERE dossier_id = $1", [id])[0].decode(String.self, "d")
            == "2026-03-18")
        // Re-processed events change nothing and publish nothing again.
        try fixture.apply([requested, paid, decided])
        let codes = try PortalSyncTests.records(fixture, id).map(\.0)
        // Received 2, assigned 4 (processing), fee requested 6, paid 4, decided 9.
        #expect(codes == [2, 4, 6, 4, 9])
        // The fee on its request and after; paid online through the national portal (1); the result file on 9.
        let records = try PortalSyncTests.records(fixture, id).map(\.1)
        #expect(records.map { $0["fee"] as? Int } == [nil, nil, 2_200_000, 2_200_000, 2_200_000])
        #expect(records.map { $0["paidOnline"] as? Int } == [nil, nil, nil, 1, 1])
        #expect(records.map { $0["resultLink"] as? String }
                == [nil, nil, nil, nil, "https://ketqua.example.vn/GP-1.pdf"])
        #expect(records.last?["resultDocument"] as? String == "GP/2026/1")
        let intents = try fixture.database.query(
            "SELECT convert_from(payload, 'UTF8')::jsonb::text AS j FROM outbox WHERE topic = $1 AND key = $2 ORDER BY id",
            [Topics().notifications, id]
        ).map { try $0.decode(String.self, "j") }
        let fee = intents.filter { $0.contains("\"fee-requested\"") }
        #expect(fee.count == 1 && fee[0].contains("\"amount\": \"2200000\""), "\(intents)")
        #expect(!intents.joined().contains("R-1"))
    }

    @Test("an apology for the appointment date gives one apology intent with the old and new dates; a step's apology gives none")
    func apologyIntent() throws {
        let fixture = try CoordinatorFixture()
        defer { fixture.drop() }
        let id = CoordinatorFixture.dossierId()
        try fixture.receive(id, at: "2026-03-02T09:00:00+07:00", due: "2026-03-13")
        // A step's slip, then the appointment's (the worker refuses a second one: no event reaches the coordinator).
        try fixture.apply([
            fixture.apology(id, step: 0, from: "2026-03-13", to: "2026-03-16", at: "2026-03-10T09:00:00+07:00",
                            reason: "step workload"),
            fixture.apology(id, step: -1, from: "2026-03-13", to: "2026-03-20", at: "2026-03-10T09:00:01+07:00",
                            reason: "chờ ý kiến liên ngành"),
        ])
        let intents = try fixture.database.query(
            "SELECT convert_from(payload, 'UTF8')::jsonb::text AS j FROM outbox WHERE topic = $1 AND key = $2",
            [Topics().notifications, id]
        ).map { try $0.decode(String.self, "j") }.filter { $0.contains("\"apology\"") }
        #expect(intents.count == 1, "\(intents)")
        #expect(intents.first?.contains("\"newDate\": \"2026-03-20\"") == true)
        #expect(intents.first?.contains("\"dueDate\": \"2026-03-13\"") == true)
    }
}
