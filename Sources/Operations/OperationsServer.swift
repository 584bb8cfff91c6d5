import Foundation
import Hummingbird
import Logging
import NIOCore
import Prometheus

/// `/health/live`, `/health/ready` (and `/health`, the same as ready) and Prometheus `/metrics` over HTTP, on
/// 127.0.0.1 unless told otherwise. Live: the process answers. Ready: every check holds (503 and the failing check
/// named otherwise).
public enum OperationsServer {
    /// Health as reported by the components of a process.
    public struct Health: Sendable {
        public var checks: [String: @Sendable () -> Bool]
        public init(checks: [String: @Sendable () -> Bool]) { self.checks = checks }
    }

    /// Builds the HTTP application. `portFile`, when given, receives the bound port (useful with port 0).
    public static func application(
        host: String = "127.0.0.1", port: Int, registry: PrometheusCollectorRegistry, health: Health,
        extraRoutes: (Router<BasicRequestContext>) -> Void = { _ in }, portFile: String? = nil, logger: Logger
    ) -> some ApplicationProtocol {
        let router = Router()
        let ready: @Sendable (Request, BasicRequestContext) -> Response = { _, _ in
            let results = health.checks.mapValues { $0() }
            let ok = results.values.allSatisfy { $0 }
            let body = "{\"status\":\"\(ok ? "ok" : "degraded")\","
                + results.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",") + "}"
            return Response(
                status: ok ? .ok : .serviceUnavailable, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
        }
        router.get("/health", use: ready)
        router.get("/health/ready", use: ready)
        router.get("/health/live") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: "{\"status\":\"live\"}")))
        }
        router.get("/metrics") { _, _ -> Response in
            var buffer: [UInt8] = []
            registry.emit(into: &buffer)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: buffer)))
        }
        extraRoutes(router)
        return Application(
            router: router, configuration: ApplicationConfiguration(address: .hostname(host, port: port)),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                logger.info("operations endpoint listening", metadata: ["http.port": "\(bound)"])
                if let portFile { try? "\(bound)\n".write(toFile: portFile, atomically: true, encoding: .utf8) }
            }, logger: logger)
    }
}
