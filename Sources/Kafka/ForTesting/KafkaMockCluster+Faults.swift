import CRdKafka

/// Faults a chaos test injects into the mock cluster: lost brokers, moved leaders and coordinators, failing and slow
/// requests. Every one acts at once, inside the cluster, on every client connected to it.
extension KafkaMockCluster {
    /// The Kafka protocol requests faults can be injected into (their ApiKey).
    public enum Request: Int16, CaseIterable, Sendable {
        case produce = 0
        case fetch = 1
        case listOffsets = 2
        case metadata = 3
        case offsetCommit = 8
        case offsetFetch = 9
        case findCoordinator = 10
        case joinGroup = 11
        case heartbeat = 12
        case leaveGroup = 13
        case syncGroup = 14

        /// The lower-case name used by the devbroker's control endpoint (`produce`, `join`, `commit`, …).
        public var name: String {
            switch self {
            case .produce: "produce"
            case .fetch: "fetch"
            case .listOffsets: "list-offsets"
            case .metadata: "metadata"
            case .offsetCommit: "commit"
            case .offsetFetch: "offset-fetch"
            case .findCoordinator: "find-coordinator"
            case .joinGroup: "join"
            case .heartbeat: "heartbeat"
            case .leaveGroup: "leave"
            case .syncGroup: "sync"
            }
        }

        public init?(name: String) {
            guard let request = Self.allCases.first(where: { $0.name == name }) else { return nil }
            self = request
        }
    }

    /// librdkafka's error code for a Kafka error name as librdkafka spells it without its prefix
    /// (`NOT_LEADER_FOR_PARTITION`, `REQUEST_TIMED_OUT`, `_TRANSPORT`), or nil when there is none of that name.
    public static func errorCode(named name: String) -> Int32? {
        var descriptions: UnsafePointer<rd_kafka_err_desc>?
        var count = 0
        rd_kafka_get_err_descs(&descriptions, &count)
        guard let descriptions else { return nil }
        for index in 0..<count {
            let description = descriptions[index]
            if let cName = description.name, String(cString: cName) == name { return description.code.rawValue }
        }
        return nil
    }

    /// librdkafka's name of an error code (`REQUEST_TIMED_OUT`), for logs.
    public static func errorName(_ code: Int32) -> String {
        String(cString: rd_kafka_err2name(rd_kafka_resp_err_t(code)))
    }

    /// Makes the next `errors.count` requests of this kind, to any broker, fail with these errors in turn
    /// (`_TRANSPORT`, -195, disconnects the client instead).
    public func pushRequestErrors(_ request: Request, errors: [Int32]) {
        let codes = errors.map { rd_kafka_resp_err_t($0) }
        rd_kafka_mock_push_request_errors_array(cluster, request.rawValue, codes.count, codes)
    }

    /// Makes the next `count` requests of this kind to one broker answer with `error` (0: none) after `delay`.
    /// Broker errors take precedence over the cluster-wide ones of ``pushRequestErrors(_:errors:)``.
    public func pushBrokerRequestErrors(
        broker: Int32, _ request: Request, error: Int32, delay: Duration, count: Int
    ) throws(KafkaError) {
        // The librdkafka call is variadic; the shim in CRdKafka pushes one (error, delay) pair per call.
        for _ in 0..<count {
            let err = motcua_mock_broker_push_request_error_rtt(
                cluster, broker, request.rawValue, rd_kafka_resp_err_t(error), Int32(clamping: delay.milliseconds))
            if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw KafkaError(.admin, "mock broker \(broker) \(request.name) request errors", error: err)
            }
        }
    }

    /// Forgets the request errors of this kind not yet used up (the cluster-wide ones).
    public func clearRequestErrors(_ request: Request) {
        rd_kafka_mock_clear_request_errors(cluster, request.rawValue)
    }

    /// Moves a partition's leadership to another broker, as a broker failover or a reassignment does.
    public func setPartitionLeader(topic: String, partition: Int32, broker: Int32) throws(KafkaError) {
        let err = rd_kafka_mock_partition_set_leader(cluster, topic, partition, broker)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(.admin, "mock partition \(topic)/\(partition) leader \(broker)", error: err)
        }
    }

    /// Moves a consumer group's coordinator to another broker: its members must find it anew and rejoin.
    public func setGroupCoordinator(group: String, broker: Int32) throws(KafkaError) {
        let err = rd_kafka_mock_coordinator_set(cluster, "group", group, broker)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(.admin, "mock group '\(group)' coordinator \(broker)", error: err)
        }
    }
}
