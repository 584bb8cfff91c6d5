import EffectivelyOnce
import Foundation
import Kafka
import Logging
import Postgres

extension DeadlineTimer {
    /// What the timer waits for after a start: the status projection's stored offsets (its consumer group in
    /// `consumer_offsets`) reaching the high watermarks of `dossier.events` read once, when the timer starts.
    ///
    /// A dossier decided on the topic but not yet projected still has open deadlines; firing them would escalate a
    /// decided dossier. After an outage the projection has a backlog: until it has applied what was on the topic
    /// when the timer started, the timer fires nothing.
    public struct ProjectionGate: Sendable {
        /// The projection's consumer group (its rows in `consumer_offsets`).
        public var group: String
        /// Reads the `(low, high)` watermarks of every partition of `dossier.events`.
        public var watermarks: @Sendable () throws -> [TopicPartition: (low: Int64, high: Int64)]

        public init(
            group: String, watermarks: @escaping @Sendable () throws -> [TopicPartition: (low: Int64, high: Int64)]
        ) {
            self.group = group
            self.watermarks = watermarks
        }

        /// The watermarks of `topic`'s partitions, asked of the cluster through `admin`.
        public init(group: String, topic: String, admin: KafkaAdmin) {
            self.init(group: group) {
                var result: [TopicPartition: (low: Int64, high: Int64)] = [:]
                for metadata in try admin.metadata(topic: topic) where metadata.name == topic {
                    for partition in metadata.partitions {
                        let key = TopicPartition(topic, partition.id)
                        result[key] = try admin.watermarks(key)
                    }
                }
                guard !result.isEmpty else { throw ProjectionGateError(topic: topic) }
                return result
            }
        }

        /// The watermarks of `topic`'s partitions, asked of the cluster of `kafka`.
        public init(group: String, topic: String, kafka: KafkaClientOptions, logger: Logger) throws {
            self.init(group: group, topic: topic, admin: try KafkaAdmin(options: kafka, logger: logger))
        }

        /// The partitions whose stored offset is still below the high watermark in `marks` (a partition never
        /// committed counts from its low watermark: nothing to project when the topic kept nothing).
        func behind(
            _ marks: [TopicPartition: (low: Int64, high: Int64)], on database: PostgresConnection
        ) throws -> [TopicPartition: Int64] {
            let stored = try OffsetStore(group: group).load(Array(marks.keys), from: database)
            var behind: [TopicPartition: Int64] = [:]
            for (partition, mark) in marks {
                let next = stored[partition] ?? mark.low
                if next < mark.high { behind[partition] = mark.high - next }
            }
            return behind
        }
    }

    /// The topic of a ``ProjectionGate`` had no partitions in the cluster's metadata.
    public struct ProjectionGateError: Error, CustomStringConvertible {
        public var topic: String
        public var description: String {
            "topic '\(topic)' has no partitions in the cluster's metadata: create it (or check the topic prefix)"
        }
    }

    /// Waits (blocking) until the projection has caught up with the watermarks read at the first attempt; returns
    /// at once without a gate, and early on ``stop()``. Retries failures (broker or database away) with backoff.
    func waitForProjection() {
        guard let gate = projectionGate else { return }
        var marks: [TopicPartition: (low: Int64, high: Int64)]?
        var failures = 0
        var logged = false
        defer { waitingForProjection.store(false, ordering: .releasing) }
        while !isStopping {
            do {
                if marks == nil { marks = try gate.watermarks() }
                let behind = try gate.behind(marks!, on: try databaseConnection())
                if behind.isEmpty {
                    logger.info("status projection current; deadline timer starts firing")
                    return
                }
                waitingForProjection.store(true, ordering: .releasing)
                if !logged {
                    logger.info(
                        "deadline timer waits for the status projection",
                        metadata: ["projection.lag": "\(behind.values.reduce(0, +))"])
                    logged = true
                }
                failures = 0
                pause(settings.idleWait)
            } catch {
                failures += 1
                logger.warning("cannot tell whether the status projection is current; retrying", metadata: ["error": "\(error)"])
                pause(settings.retry.delay(beforeAttempt: failures))
            }
        }
    }

    /// Whether the timer has read the watermarks and is waiting for the projection to reach them (it fires nothing
    /// meanwhile).
    public var isWaitingForProjection: Bool { waitingForProjection.load(ordering: .acquiring) }
}
