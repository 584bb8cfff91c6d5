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

    /// How long a test waits for a consumer to join its group and process what it was sent. Joining the mock
    /// cluster's group takes ~3 s on an idle machine; with the module suites running side by side on two loaded
    /// cores, joins were seen to take over a minute (a fresh clone's run with another process keeping a core busy).
    public static let consumerDeadline: Duration = .seconds(180)

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

/// A plain HTTP/1.0 GET to 127.0.0.1: the status code and the body (``httpRequest(port:path:headers:timeout:)``
/// without request headers).
public func httpGet(port: Int, path: String, timeout: TimeInterval = 5) throws -> (status: Int, body: String) {
    let result = try httpRequest(port: port, path: path, timeout: timeout)
    return (result.status, result.body)
}
