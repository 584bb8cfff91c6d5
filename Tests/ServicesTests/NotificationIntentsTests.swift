import Authority
import EffectivelyOnce
import Foundation
import Messages
import Postgres
import Services
import Store
import TestSupport
import Testing

/// The citizens' notification intents the status projection puts on `notifications`.
@Suite("Notification intents")
struct NotificationIntentsTests {
    @Test("one intent per event (received, supplement requested, decided, result ready), none again for re-delivered events, never contact data nor the receipt secret")
    func oncePerEvent() throws {
        let fixture = try CoordinatorFixture()
        defer { fixture.drop() }
        let id = CoordinatorFixture.dossierId()
        let batches = [
            [fixture.event(.received, id, at: "2026-03-02T09:00:00+07:00", data: .init(dueDate: "2026-03-20", procedure: "P-TEST")),
             fixture.event(.assigned, id, at: "2026-03-02T09:00:01+07:00", data: .init(dueDate: "2026-03-20", procedure: "P-TEST"))],
            [fixture.event(.supplementRequested, id, at: "2026-03-03T10:00:00+07:00",
                           data: .init(reason: "thiếu bản sao", documents: ["business-registration"]))],
            [fixture.event(.supplemented, id, at: "2026-03-04T10:00:00+07:00")],
            [fixture.event(.decided, id, at: "2026-03-10T10:00:00+07:00", data: .init(outcome: .approve))],
        ]
        for batch in batches { try fixture.apply(batch) }
        for batch in batches { try fixture.apply(batch) }
        let rows = try fixture.database.query(
            "SELECT payload FROM outbox WHERE topic = $1 AND key = $2 ORDER BY id", [Topics().notifications, id])
        let intents = try rows.map {
            try MessageCoding.decoder().decode(
                NotificationIntent.self, from: Data(try $0.decode(PostgresBytes.self, "payload").bytes))
        }
        #expect(intents.map(\.intent) == [.received, .supplementRequested, .decided, .resultReady])
        #expect(intents.map(\.template) == ["received", "supplement-requested", "decided", "result-ready"])
        #expect(intents[0].values["dueDate"] == "2026-03-20" && intents[0].values["code"] == "SCT-260302-000001")
        #expect(intents[1].values["documents"] == "business-registration")
        #expect(Set(intents.map(\.intentId)).count == 4)
        for row in rows {
            let text = String(decoding: try row.decode(PostgresBytes.self, "payload").bytes, as: UTF8.self)
            #expect(!text.contains("secret") && !text.contains("contact") && !text.contains("applicant"))
        }
        // Every template the intents name exists in deploy/.
        let templates = try String(
            contentsOf: TestEnvironment.root.appendingPathComponent("deploy/notifications/templates.yaml"), encoding: .utf8)
        for kind in NotificationIntent.Kind.allCases { #expect(templates.contains("\n  \(kind.rawValue):\n")) }
    }
}
