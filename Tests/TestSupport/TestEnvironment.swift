import Foundation
import Logging

/// Where the real services of the test run are, from the environment `tools/test` sets.
///
/// Tests never skip: a missing service is a failure that says how to start it.
public enum TestEnvironment {
    public struct Missing: Error, CustomStringConvertible {
        public let variable: String
        public var description: String {
            "\(variable) is not set: run the tests with ./tools/test (it starts PostgreSQL and the devbroker), or "
                + "run ./tools/dev-up and export the lines of .dev/env"
        }
    }

    public static func require(_ variable: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[variable], !value.isEmpty else {
            throw Missing(variable: variable)
        }
        return value
    }

    public static func kafkaBootstrap() throws -> String { try require("KAFKA_BOOTSTRAP") }
    public static func databaseURL() throws -> String { try require("DATABASE_URL") }

    /// The repository root (from `MOTCUA_ROOT`, else found from this file's path).
    public static var root: URL {
        if let root = ProcessInfo.processInfo.environment["MOTCUA_ROOT"] { return URL(fileURLWithPath: root) }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    /// A unique suffix for names (tables, groups) so that tests can run in parallel and be rerun.
    public static func unique(_ prefix: String) -> String {
        "\(prefix)_\(UUID().uuidString.prefix(8).lowercased())"
    }

    public static let logger: Logger = {
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        return logger
    }()
}

/// Polls `condition` until it holds or `timeout` passes; returns whether it held. A condition that throws (a
/// database still restarting) counts as not holding yet.
public func eventually(
    timeout: Duration = .seconds(30), interval: Duration = .milliseconds(50), _ condition: () throws -> Bool
) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if (try? condition()) == true { return true }
        try? await Task.sleep(for: interval)
    }
    return (try? condition()) == true
}

/// A plain HTTP/1.0 GET to 127.0.0.1 (Foundation on Linux has no URL loading without FoundationNetworking):
/// returns the status code and the body.
public func httpGet(port: Int, path: String, timeout: TimeInterval = 5) throws -> (status: Int, body: String) {
    struct HTTPError: Error, CustomStringConvertible { var description: String }
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw HTTPError(description: "socket() failed") }
    defer { close(fd) }
    var tv = timeval(tv_sec: Int(timeout), tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw HTTPError(description: "cannot connect to 127.0.0.1:\(port)") }
    let request = Array("GET \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".utf8)
    _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
    var response: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65_536)
    while true {
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count <= 0 { break }
        response.append(contentsOf: buffer[0..<count])
    }
    let text = String(decoding: response, as: UTF8.self)
    guard let statusLine = text.split(separator: "\r\n").first, statusLine.split(separator: " ").count >= 2,
        let status = Int(statusLine.split(separator: " ")[1])
    else { throw HTTPError(description: "no HTTP response from 127.0.0.1:\(port)\(path)") }
    let body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
    return (status, body)
}
