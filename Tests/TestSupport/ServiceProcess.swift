import Foundation

/// A MotCua executable started by a test, with its output in a log file; killed (SIGKILL) when released.
public final class ServiceProcess: @unchecked Sendable {
    public let name: String
    public let process: Process
    public let logFile: URL

    /// Starts `executable` (from `MOTCUA_BIN`) with `arguments`, the test's service environment plus `environment`.
    public init(_ executable: String, _ arguments: [String], environment extra: [String: String] = [:]) throws {
        let bin = ProcessInfo.processInfo.environment["MOTCUA_BIN"]
            ?? TestEnvironment.root.appendingPathComponent(".build/debug").path
        let path = URL(fileURLWithPath: bin).appendingPathComponent(executable)
        guard FileManager.default.isExecutableFile(atPath: path.path) else {
            throw TestEnvironment.Missing(variable: "MOTCUA_BIN (no executable \(path.path); build with swift build)")
        }
        name = executable
        logFile = FileManager.default.temporaryDirectory.appendingPathComponent(TestEnvironment.unique(executable) + ".log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let handle = try FileHandle(forWritingTo: logFile)
        process = Process()
        process.executableURL = path
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment.merge(extra) { _, new in new }
        process.environment = environment
        process.currentDirectoryURL = TestEnvironment.root
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    public var isRunning: Bool { process.isRunning }

    /// Sends a signal (SIGKILL for a crash, SIGTERM for a graceful stop).
    public func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Waits for the process to exit; returns its status, or nil on timeout.
    public func waitForExit(timeout: Duration = .seconds(30)) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        return process.isRunning ? nil : process.terminationStatus
    }

    /// SIGKILL and wait.
    public func crash() async {
        signal(SIGKILL)
        _ = await waitForExit(timeout: .seconds(10))
    }

    /// The log so far (for failure messages).
    public var log: String {
        (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
    }
}
