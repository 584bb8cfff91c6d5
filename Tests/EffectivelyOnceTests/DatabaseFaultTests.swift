@testable import Audit
@testable import EffectivelyOnce
import Messages
import Pages
import Postgres
import ServiceCommands
import Services
import Simulation
import Store
import Testing

/// Which failures of a batch's transaction the consumer retries from the stored offsets (the database's fault) and
/// which it retries message by message, dead-lettering a message that fails alone (the messages' fault).
@Suite("Consumer: database faults are retried, never dead-lettered")
struct DatabaseFaultTests {
    typealias Fault = EffectivelyOnceConsumer.DatabaseFault

    @Test("a deadlock or serialization failure (two owners of a partition in a rebalance) is the database's fault")
    func transient() {
        #expect(Fault(PostgresError(.query, context: "UPDATE consumer_offsets", sqlState: "40P01")) == .connection)
        #expect(Fault(PostgresError(.query, context: "COMMIT", sqlState: "40001")) == .connection)
    }

    @Test("a missing table is the schema's; a unique or check violation is the messages'")
    func others() {
        #expect(Fault(PostgresError(.query, context: "COPY decisions", sqlState: "42P01")) == .schema)
        #expect(Fault(PostgresError(.copy, context: "COPY decisions", sqlState: "23505")) == nil)
        #expect(Fault(PostgresError(.copy, context: "COPY decisions", sqlState: "23514")) == nil)
    }
}
