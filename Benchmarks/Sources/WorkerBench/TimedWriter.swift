import BenchSupport
import Foundation
import Kafka
import Postgres
import Audit
import EffectivelyOnce
import Messages
import Services
import Simulation
import Store
import Synchronization

/// Wraps a ``BatchWriter`` (unchanged behaviour) and records, per batch, when its `write` started and ended and when
/// the consumer's transaction committed (the consumer calls ``committed()``, which is passed on), plus what the batch
/// held: the offsets per partition (to replay the same transactions in the raw COPY baseline) and, when asked, the
/// message keys (dossier ids, to stamp each dossier's commit instant for the latency measure).
final class TimedWriter: BatchWriter {
    struct Batch: Sendable {
        var writeStart: ContinuousClock.Instant
        var writeEnd: ContinuousClock.Instant
        var commitEnd: ContinuousClock.Instant?
        var messages: Int
        /// Partition → (first offset, last offset) of the batch.
        var ranges: [Int32: (first: Int64, last: Int64)]
    }

    /// When a dossier's batch started and committed (monotonic, and wall-clock seconds since 1970 to compare with
    /// Kafka timestamps), and the Kafka create time (ms since 1970) of its message.
    struct Stamp: Sendable {
        var start: ContinuousClock.Instant
        var commit: ContinuousClock.Instant
        var startWall: Double
        var commitWall: Double
        var created: Int64?
    }

    struct State: Sendable {
        var batches: [Batch] = []
        var committedMessages = 0
        var pendingKeys: [(key: String, created: Int64?)] = []
        var pendingStart: ContinuousClock.Instant?
        var pendingStartWall = 0.0
        /// Dossier id → its stamps.
        var stamps: [String: Stamp] = [:]
    }

    let inner: any BatchWriter
    let recordKeys: Bool
    let recordBatches: Bool
    private let state = Mutex(State())

    init(_ inner: any BatchWriter, recordKeys: Bool, recordBatches: Bool) {
        self.inner = inner
        self.recordKeys = recordKeys
        self.recordBatches = recordBatches
    }

    var outboxSource: String { inner.outboxSource }

    func prepare(_ connection: PostgresConnection) throws { try inner.prepare(connection) }

    /// Staging runs beside the transaction before (the consumer's overlap); it is not part of the write's time.
    func stage(_ messages: [KafkaMessage]) -> (any Sendable)? { inner.stage(messages) }

    func write(_ messages: [KafkaMessage], into transaction: PostgresConnection) throws -> BatchReport {
        try write(messages, staged: nil, into: transaction)
    }

    func write(_ messages: [KafkaMessage], staged: (any Sendable)?, into transaction: PostgresConnection) throws
        -> BatchReport
    {
        let start = ContinuousClock.now
        let startWall = Date().timeIntervalSince1970
        let report = try inner.write(messages, staged: staged, into: transaction)
        let end = ContinuousClock.now
        var ranges: [Int32: (first: Int64, last: Int64)] = [:]
        if recordBatches {
            for message in messages {
                if let range = ranges[message.partition] {
                    ranges[message.partition] = (min(range.first, message.offset), max(range.last, message.offset))
                } else {
                    ranges[message.partition] = (message.offset, message.offset)
                }
            }
        }
        let keys =
            recordKeys
            ? messages.map { (String(decoding: $0.key ?? [], as: UTF8.self), $0.timestampMilliseconds) } : []
        state.withLock { state in
            // A batch that failed before committing is replaced by the retry that follows.
            if let last = state.batches.last, last.commitEnd == nil { state.batches.removeLast() }
            state.batches.append(
                Batch(
                    writeStart: start, writeEnd: end, commitEnd: nil, messages: messages.count,
                    ranges: ranges))
            state.pendingKeys = keys
            state.pendingStart = start
            state.pendingStartWall = startWall
        }
        return report
    }

    /// The consumer committed the last written batch.
    func committed() {
        inner.committed()
        let now = ContinuousClock.now
        let wall = Date().timeIntervalSince1970
        state.withLock { state in
            guard let index = state.batches.indices.last, state.batches[index].commitEnd == nil else { return }
            state.batches[index].commitEnd = now
            state.committedMessages += state.batches[index].messages
            if let start = state.pendingStart {
                for (key, created) in state.pendingKeys where state.stamps[key] == nil {
                    state.stamps[key] = Stamp(
                        start: start, commit: now, startWall: state.pendingStartWall,
                        commitWall: wall, created: created)
                }
            }
            state.pendingKeys = []
            state.pendingStart = nil
        }
    }

    var committedMessages: Int { state.withLock { $0.committedMessages } }

    /// How many dossier ids have a commit stamp.
    var stampCount: Int { state.withLock { $0.stamps.count } }

    /// The stamps of `ids`, looked up under the lock (no copy of the table, which would make the consumer thread pay
    /// for copying it at its next commit).
    func stamps(for ids: [String]) -> [Stamp?] {
        state.withLock { state in ids.map { state.stamps[$0] } }
    }

    func snapshot() -> State { state.withLock { $0 } }

    func reset() { state.withLock { $0 = State() } }
}
