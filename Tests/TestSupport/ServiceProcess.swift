import Foundation
import Synchronization

/// A MotCua executable started by a test, with its output in a log file; killed (SIGKILL) when released.
///
/// Spawned with `posix_spawn` and reaped with `waitpid`: Foundation's `Process` has crashed and hung here when
/// several tests start and reap processes at once.
public final class ServiceProcess: Sendable {
    public let name: String
    public let pid: pid_t
    public let logFile: URL
    private let exitStatus = Mutex<Int32?>(nil)

    /// Starts `executable` (from `MOTCUA_BIN`) with `arguments`, the test's service environment plus `environment`.
    public init(_ executable: String, _ arguments: [String], environment extra: [String: String] = [:]) throws {
        name = executable
        logFile = FileManager.default.temporaryDirectory.appendingPathComponent(TestEnvironment.unique(executable) + ".log")
        pid = try Self.spawn(
            executable, arguments, environment: extra, stdin: "/dev/null", stdout: logFile.path, stderr: nil)
    }

    /// The path of a MotCua executable: `MOTCUA_BIN` (or `.build/debug`) / `executable`.
    public static func path(of executable: String) throws -> String {
        let bin = ProcessInfo.processInfo.environment["MOTCUA_BIN"]
            ?? TestEnvironment.root.appendingPathComponent(".build/debug").path
        let path = URL(fileURLWithPath: bin).appendingPathComponent(executable).path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw TestEnvironment.Missing(variable: "MOTCUA_BIN (no executable \(path); build with swift build)")
        }
        return path
    }

    /// Starts a MotCua executable with the test's environment plus `extra`, its standard streams on the given
    /// files (`stderr` nil: with standard output). `posix_spawn`, not Foundation's `Process`, which has crashed here
    /// under parallel tests.
    public static func spawn(
        _ executable: String, _ arguments: [String], environment extra: [String: String], stdin: String,
        stdout: String, stderr: String?
    ) throws -> pid_t {
        let path = try path(of: executable)
        var environment = ProcessInfo.processInfo.environment
        environment.merge(extra) { _, new in new }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdin, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if let stderr {
            posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        } else {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, path, &actions, nil, argv, envp)
        guard result == 0 else { throw SpawnFailed(executable: executable, errno: result) }
        return pid
    }

    deinit {
        if isRunning {
            kill(pid, SIGKILL)
            _ = reap(block: true)
        }
    }

    public struct SpawnFailed: Error, CustomStringConvertible {
        public var executable: String
        public var errno: Int32
        public var description: String { "could not start \(executable) (errno \(errno))" }
    }

    /// Reaps the child if it has exited; returns its exit status.
    private func reap(block: Bool) -> Int32? {
        exitStatus.withLock { status in
            if let status { return status }
            var raw: Int32 = 0
            let result = waitpid(pid, &raw, block ? 0 : WNOHANG)
            guard result == pid else { return nil }
            let signalled = raw & 0x7f
            status = signalled == 0 ? (raw >> 8) & 0xff : 128 + signalled
            return status
        }
    }

    public var isRunning: Bool { reap(block: false) == nil }

    /// Sends a signal (SIGKILL for a crash, SIGTERM for a graceful stop).
    public func signal(_ number: Int32) {
        if isRunning { kill(pid, number) }
    }

    /// Waits for the process to exit; returns its status (128 + signal when killed), or nil on timeout.
    public func waitForExit(timeout: Duration = .seconds(30)) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let status = reap(block: false) { return status }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return reap(block: false)
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
