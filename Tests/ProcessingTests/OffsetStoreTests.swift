import Foundation
import Kafka
import Postgres
import Processing
import TestSupport
import Testing

@Suite("Offsets in PostgreSQL, fenced")
struct OffsetStoreTests {
    let connection: PostgresConnection
    init() throws {
        connection = try PostgresConnection.connect(
            PostgresConfiguration(connectionString: try TestEnvironment.databaseURL()), logger: TestEnvironment.logger)
    }

    @Test("advancing from the expected offset works; a stale owner is fenced and its transaction leaves nothing")
    func fence() throws {
        let store = OffsetStore(group: TestEnvironment.unique("fence"))
        let partition = TopicPartition("dossiers.labour", 3)
        #expect(try store.load([partition], from: connection).isEmpty)
        try connection.transaction { tx in try store.advance([partition: (nil, 10)], in: tx) }
        #expect(try store.load([partition], from: connection) == [partition: 10])
        try connection.transaction { tx in try store.advance([partition: (10, 25)], in: tx) }
        // A second owner that still believes the offset is 10 (it read it before the first moved on).
        do {
            try connection.transaction { tx in
                try tx.execute("INSERT INTO processed_events (consumer, event_id) VALUES ($1, $2)", [store.group, UUID()])
                try store.advance([partition: (10, 40)], in: tx)
            }
            Issue.record("a stale owner advanced the offset")
        } catch is OffsetFenceError {}
        #expect(try store.load([partition], from: connection) == [partition: 25])
        #expect(try connection.query("SELECT count(*) FROM processed_events WHERE consumer = $1", [store.group])[0].decode(Int.self, at: 0) == 0)
        // A first-time owner cannot start a partition that already has an offset.
        #expect(throws: OffsetFenceError.self) {
            try connection.transaction { tx in try store.advance([partition: (nil, 3)], in: tx) }
        }
    }
}
