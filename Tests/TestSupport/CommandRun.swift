import Foundation

/// Runs a MotCua executable (from `MOTCUA_BIN`, in the current directory: the repository root) to completion with `posix_spawn`, capturing standard output and
/// standard error separately (Foundation's `Process` is not used: it has crashed here under parallel tests).
public struct CommandRun: Sendable, CustomStringConvertible {
    public var status: Int32
    public var stdout: String
    public var stderr: String

    public var description: String { "exit \(status)\n--- stdout\n\(stdout.suffix(4_000))\n--- stderr\n\(stderr.suffix(4_000))" }

    /// Runs `executable arguments…` with the test's environment plus `environment`; waits at most `timeout`.
    public static func run(
        _ executable: String, _ arguments: [String], environment extra: [String: String] = [:],
        stdin: String? = nil, timeout: Duration = .seconds(120)
    ) async throws -> CommandRun {
        let directory = FileManager.default.temporaryDirectory
        let base = TestEnvironment.unique(executable)
        let out = directory.appendingPathComponent(base + ".out")
        let err = directory.appendingPathComponent(base + ".err")
        let input = directory.appendingPathComponent(base + ".in")
        try Data((stdin ?? "").utf8).write(to: input)
        defer {
            for file in [out, err, input] { try? FileManager.default.removeItem(at: file) }
        }
        let pid = try ServiceProcess.spawn(
            executable, arguments, environment: extra, stdin: input.path, stdout: out.path, stderr: err.path)
        let deadline = ContinuousClock.now + timeout
        var raw: Int32 = 0
        while true {
            let reaped = waitpid(pid, &raw, WNOHANG)
            if reaped == pid { break }
            if ContinuousClock.now >= deadline {
                kill(pid, SIGKILL)
                _ = waitpid(pid, &raw, 0)
                break
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        let signalled = raw & 0x7f
        let status = signalled == 0 ? (raw >> 8) & 0xff : 128 + signalled
        return CommandRun(
            status: status, stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    /// `motcua …`.
    public static func motcua(
        _ arguments: String..., environment: [String: String] = [:], timeout: Duration = .seconds(120)
    ) async throws -> CommandRun {
        try await run("motcua", arguments, environment: environment, timeout: timeout)
    }
}
