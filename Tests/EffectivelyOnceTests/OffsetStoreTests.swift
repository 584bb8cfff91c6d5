import Audit
@testable import EffectivelyOnce
import Foundation
import Kafka
import Messages
import Pages
import Postgres
import ServiceCommands
import Services
import Simulation
import Store
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

    @Test("a batch's partitions move in one call: new and stored ones together; one stale partition fences them all")
    func severalPartitions() throws {
        let store = OffsetStore(group: TestEnvironment.unique("fence-many"))
        let a = TopicPartition("dossiers.intake", 0), b = TopicPartition("dossiers.intake", 7)
        let c = TopicPartition("dossiers.labour", 2)
        try connection.transaction { tx in try store.advance([a: (nil, 5), b: (nil, 1)], in: tx) }
        try connection.transaction { tx in try store.advance([a: (5, 9), b: (1, 4), c: (nil, 30)], in: tx) }
        #expect(try store.load([a, b, c], from: connection) == [a: 9, b: 4, c: 30])
        // b is stale (another owner moved it to 4): neither a nor c moves, and the error names b.
        do {
            try connection.transaction { tx in try store.advance([a: (9, 12), b: (1, 6), c: (30, 31)], in: tx) }
            Issue.record("a batch with a stale partition advanced")
        } catch let error as OffsetFenceError {
            #expect(error.partition == b)
            #expect(error.expected == 1)
        }
        #expect(try store.load([a, b, c], from: connection) == [a: 9, b: 4, c: 30])
        // Nothing to move is no statement and no error.
        try connection.transaction { tx in try store.advance([:], in: tx) }
    }
}
