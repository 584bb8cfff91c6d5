import Foundation
import Hummingbird
import Kafka
import Logging
import NIOCore
import ServiceLifecycle

/// The devbroker's control endpoint on 127.0.0.1: creates topics in the mock cluster, which refuses CreateTopics
/// requests and can only be driven by the process that owns it, and injects faults into it (``FaultRoutes``).
/// Runs until SIGTERM or SIGINT.
struct ControlEndpoint {
    let cluster: KafkaMockCluster
    let brokers: Int
    let replicationFactor: Int
    let portFile: String?
    let logger: Logger

    /// Kafka's rule for topic names: ASCII letters, digits, `.`, `_`, `-`; at most 249 characters.
    static func isTopicName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 249 && name != "." && name != ".."
            && name.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == 0x2E || byte == 0x5F || byte == 0x2D
            }
    }

    func run() async throws {
        let router = Router()
        let cluster = cluster
        let replicationFactor = replicationFactor
        let logger = logger
        router.post("/topics") { request, _ -> Response in
            let name = request.uri.queryParameters.get("name") ?? ""
            guard Self.isTopicName(name) else {
                return Self.text(.badRequest, "name: a Kafka topic name is required (a-z A-Z 0-9 . _ -, ≤ 249 characters)\n")
            }
            guard let partitions = request.uri.queryParameters.get("partitions", as: Int.self), (1...64).contains(partitions)
            else {
                return Self.text(.badRequest, "partitions: a number from 1 to 64 is required\n")
            }
            do {
                try cluster.createTopic(name, partitions: partitions, replicationFactor: replicationFactor)
            } catch {
                return Self.text(.internalServerError, "cannot create topic: \(error)\n")
            }
            logger.debug("topic created", metadata: ["kafka.topic": "\(name)", "kafka.partitions": "\(partitions)"])
            return Self.text(.created, "created\n")
        }
        FaultRoutes(cluster: cluster, brokers: brokers, logger: logger).add(to: router)
        let portFile = portFile
        let application = Application(
            router: router, configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                logger.info("control endpoint listening", metadata: ["http.port": "\(port)"])
                if let portFile {
                    try? "\(port)\n".write(toFile: portFile + ".tmp", atomically: false, encoding: .utf8)
                    _ = rename(portFile + ".tmp", portFile)
                }
            }, logger: logger)
        let group = ServiceGroup(
            configuration: .init(services: [application], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        if let portFile { _ = unlink(portFile) }
    }

    static func text(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}
