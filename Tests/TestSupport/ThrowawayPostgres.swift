import Foundation

/// A PostgreSQL 15 cluster of a test's own, under a temporary directory, that the test may stop and start —
/// so that an outage test does not take the shared server away from the other tests.
public final class ThrowawayPostgres: @unchecked Sendable {
    public let directory: URL
    public let port: Int
    private let bin: String

    public var url: String { "postgresql://postgres@127.0.0.1:\(port)/motcua" }

    public init() throws {
        bin = ProcessInfo.processInfo.environment["MOTCUA_PGBIN"] ?? "/usr/lib/postgresql/15/bin"
        directory = URL(fileURLWithPath: "/tmp").appendingPathComponent(TestEnvironment.unique("motcua-pg"))
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        port = Int.random(in: 30_000...60_000)
        try Self.asPostgres(["chown", "-R", "postgres:postgres", directory.path], asRoot: true)
        try Self.asPostgres(["\(bin)/initdb", "-D", directory.appendingPathComponent("data").path, "--auth=trust",
                             "--username=postgres", "--encoding=UTF8", "--locale=C.UTF-8"])
        try start()
        try Self.asPostgres(["\(bin)/psql", "-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-qc", "CREATE DATABASE motcua"])
    }

    deinit {
        try? Self.asPostgres(["\(bin)/pg_ctl", "-D", directory.appendingPathComponent("data").path, "stop", "-m", "immediate"])
        try? FileManager.default.removeItem(at: directory)
    }

    /// Starts the server (again) on the same port.
    public func start() throws {
        try Self.asPostgres([
            "\(bin)/pg_ctl", "-D", directory.appendingPathComponent("data").path, "-l",
            directory.appendingPathComponent("server.log").path, "-w", "-t", "60", "start", "-o",
            "-p \(port) -k \(directory.path) -c listen_addresses=127.0.0.1",
        ])
    }

    /// Stops the server (fast shutdown: connections are cut).
    public func stop() throws {
        try Self.asPostgres(["\(bin)/pg_ctl", "-D", directory.appendingPathComponent("data").path, "stop", "-m", "fast", "-w"])
    }

    /// Runs a command (as the postgres user when this process is root) and waits for it with waitpid.
    ///
    /// Foundation's `Process.waitUntilExit` can hang here when the child leaves a daemon behind (pg_ctl start).
    static func asPostgres(_ command: [String], asRoot: Bool = false) throws {
        let argv = (getuid() == 0 && !asRoot) ? ["/usr/sbin/runuser", "-u", "postgres", "--"] + command : command
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let cArgs = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, argv[0], &actions, nil, cArgs, environ)
        guard spawned == 0 else { throw CommandFailed(command: argv.joined(separator: " "), status: spawned) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let exited = (status & 0x7f) == 0
        let code = (status >> 8) & 0xff
        guard exited && code == 0 else { throw CommandFailed(command: argv.joined(separator: " "), status: exited ? code : -1) }
    }

    public struct CommandFailed: Error, CustomStringConvertible {
        public var command: String
        public var status: Int32
        public var description: String { "'\(command)' exited with \(status) (PostgreSQL 15 must be installed: tools/setup)" }
    }
}
