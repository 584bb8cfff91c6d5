import Hummingbird
import Kafka
import Logging

/// The control endpoint's fault verbs: each calls one of librdkafka's mock cluster fault functions
/// (``KafkaMockCluster`` in Kafka/ForTesting) with the query's parameters, checked first; a bad parameter gets a 400
/// naming it and what it accepts. Every fault injected is logged at info, so a chaos run's devbroker log is its
/// record of what happened when.
struct FaultRoutes {
    let cluster: KafkaMockCluster
    let brokers: Int
    let logger: Logger

    /// A parameter that is missing or wrong: the 400 response's text.
    struct BadParameter: Error {
        var message: String
    }

    func add(to router: Router<BasicRequestContext>) {
        route(router, .post, "/brokers/down") { query in
            let broker = try brokerID(query)
            try cluster.setBroker(broker, up: false)
            return "broker \(broker) down"
        }
        route(router, .post, "/brokers/up") { query in
            let broker = try brokerID(query)
            try cluster.setBroker(broker, up: true)
            return "broker \(broker) up"
        }
        route(router, .post, "/brokers/rtt") { query in
            let broker = try brokerID(query, allowingAll: true)
            let ms = try number(query, "ms", in: 0...60_000)
            try cluster.setRoundTripTime(.milliseconds(ms), broker: broker)
            return "broker \(broker) round-trip time \(ms) ms"
        }
        route(router, .post, "/partitions/leader") { query in
            let topic = try topicName(query)
            let partition = try number(query, "partition", in: 0...63)
            let broker = try brokerID(query)
            try cluster.setPartitionLeader(topic: topic, partition: Int32(partition), broker: broker)
            return "\(topic)/\(partition) leader broker \(broker)"
        }
        route(router, .post, "/groups/coordinator") { query in
            guard let group = query["group"], !group.isEmpty, group.utf8.count <= 249 else {
                throw BadParameter(message: "group: a consumer group id is required (at most 249 bytes)")
            }
            let broker = try brokerID(query)
            try cluster.setGroupCoordinator(group: group, broker: broker)
            return "group \(group) coordinator broker \(broker)"
        }
        route(router, .post, "/requests/errors") { query in
            let request = try requestKind(query)
            let error = try errorCode(query)
            let count = try number(query, "count", in: 1...1000)
            if query["broker"] != nil {
                let broker = try brokerID(query)
                let delay = query["delay_ms"] == nil ? 0 : try number(query, "delay_ms", in: 0...60_000)
                try cluster.pushBrokerRequestErrors(
                    broker: broker, request, error: error, delay: .milliseconds(delay), count: count)
                let answer = KafkaMockCluster.errorName(error)
                return "broker \(broker): next \(count) \(request.name) requests answer \(answer) after \(delay) ms"
            }
            cluster.pushRequestErrors(request, errors: Array(repeating: error, count: count))
            return "next \(count) \(request.name) requests fail with \(KafkaMockCluster.errorName(error))"
        }
        route(router, .delete, "/requests/errors") { query in
            let request = try requestKind(query)
            cluster.clearRequestErrors(request)
            return "\(request.name) request errors cleared"
        }
    }

    private func route(
        _ router: Router<BasicRequestContext>, _ method: HTTPRequest.Method, _ path: RouterPath,
        _ apply: @escaping @Sendable ([String: String]) throws -> String
    ) {
        let logger = logger
        router.on(path, method: method) { request, _ -> Response in
            var query: [String: String] = [:]
            for (key, value) in request.uri.queryParameters { query[String(key)] = String(value) }
            do {
                let done = try apply(query)
                logger.info("fault injected", metadata: ["devbroker.fault": "\(done)"])
                return ControlEndpoint.text(.ok, done + "\n")
            } catch let error as BadParameter {
                return ControlEndpoint.text(.badRequest, error.message + "\n")
            } catch {
                return ControlEndpoint.text(.internalServerError, "the mock cluster refused: \(error)\n")
            }
        }
    }

    private func number(_ query: [String: String], _ name: String, in range: ClosedRange<Int>) throws -> Int {
        guard let text = query[name], let value = Int(text), range.contains(value) else {
            throw BadParameter(
                message: "\(name): a whole number from \(range.lowerBound) to \(range.upperBound) is required")
        }
        return value
    }

    private func brokerID(_ query: [String: String], allowingAll: Bool = false) throws -> Int32 {
        guard let text = query["broker"], let value = Int(text),
            (1...brokers).contains(value) || (allowingAll && value == -1)
        else {
            throw BadParameter(
                message: "broker: a broker id from 1 to \(brokers) is required\(allowingAll ? " (or -1 for all)" : "")")
        }
        return Int32(value)
    }

    private func topicName(_ query: [String: String]) throws -> String {
        guard let name = query["topic"], ControlEndpoint.isTopicName(name) else {
            throw BadParameter(message: "topic: a Kafka topic name is required (a-z A-Z 0-9 . _ -, ≤ 249 characters)")
        }
        return name
    }

    private func requestKind(_ query: [String: String]) throws -> KafkaMockCluster.Request {
        guard let name = query["request"], let request = KafkaMockCluster.Request(name: name) else {
            let names = KafkaMockCluster.Request.allCases.map(\.name).joined(separator: ", ")
            throw BadParameter(message: "request: one of \(names) is required")
        }
        return request
    }

    private func errorCode(_ query: [String: String]) throws -> Int32 {
        guard let text = query["error"], !text.isEmpty else {
            throw BadParameter(
                message: "error: a librdkafka error name (NOT_LEADER_FOR_PARTITION, _TRANSPORT, …) or number is needed")
        }
        if let code = Int32(text) { return code }
        guard let code = KafkaMockCluster.errorCode(named: text) else {
            throw BadParameter(
                message: "error: '\(text)' is not a librdkafka error name (e.g. REQUEST_TIMED_OUT, _TRANSPORT)")
        }
        return code
    }
}
