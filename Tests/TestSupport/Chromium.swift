import Foundation

/// Headless Chromium (Debian's `chromium` package) for tests that look at pages the way a browser shows them:
/// the DOM after parsing and scripts, and screenshots at a phone's size. Any URL works (`http://…`, `file://…`).
///
/// Spawned with `posix_spawn` in a process group of its own (Chromium starts helper processes), killed as a group
/// on timeout, and reaped with `waitpid`: Foundation's `Process` crashes and hangs here. A missing Chromium is a
/// failure that says how to install it, never a skip.
public enum Chromium {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// What a run printed and how it ended.
    public struct Run: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// The browser: `CHROMIUM` if set, else `chromium` (or `chromium-browser`) on `PATH`.
    public static func executable() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["CHROMIUM"], !path.isEmpty {
            guard FileManager.default.isExecutableFile(atPath: path) else {
                throw Failure(description: "CHROMIUM=\(path) is not an executable")
            }
            return path
        }
        let directories = (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") + ["/usr/bin"]
        for name in ["chromium", "chromium-browser"] {
            for directory in directories {
                let path = "\(directory)/\(name)"
                if FileManager.default.isExecutableFile(atPath: path) { return path }
            }
        }
        throw Failure(description: "chromium is not installed: run ./tools/setup (it installs Debian's chromium "
            + "package) or apt-get install chromium; set CHROMIUM to use another build")
    }

    /// The flags every run gets: headless, no sandbox (tests run as root), no GPU, a throwaway profile.
    static func baseArguments(profile: String) -> [String] {
        ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
         "--disable-component-update", "--hide-scrollbars", "--user-data-dir=\(profile)"]
    }

    /// The DOM of `url` after load, serialized (`--dump-dom`).
    public static func dumpDOM(_ url: String, timeout: Duration = .seconds(60)) async throws -> String {
        let run = try await run(["--dump-dom", url], timeout: timeout)
        guard run.status == 0, !run.stdout.isEmpty else {
            throw Failure(description: "chromium --dump-dom \(url) exited \(run.status)\n\(run.stderr.suffix(2_000))")
        }
        return run.stdout
    }

    /// A screenshot of `url` in a `width`×`height` window (a phone: 390×844), written to `file` as PNG.
    @discardableResult
    public static func screenshot(
        _ url: String, to file: URL, width: Int = 390, height: Int = 844, timeout: Duration = .seconds(60)
    ) async throws -> PNGInfo {
        try? FileManager.default.removeItem(at: file)
        let run = try await run(["--screenshot=\(file.path)", "--window-size=\(width),\(height)", url], timeout: timeout)
        guard run.status == 0, FileManager.default.fileExists(atPath: file.path) else {
            throw Failure(description: "chromium --screenshot \(url) exited \(run.status) without writing \(file.path)\n"
                + "\(run.stderr.suffix(2_000))")
        }
        return try PNGInfo(file: file)
    }

    /// Runs Chromium with the base flags and `arguments`; kills its process group after `timeout`.
    public static func run(_ arguments: [String], timeout: Duration = .seconds(60)) async throws -> Run {
        let path = try executable()
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(TestEnvironment.unique("chromium"))
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let out = scratch.appendingPathComponent("stdout").path
        let err = scratch.appendingPathComponent("stderr").path
        let profile = scratch.appendingPathComponent("profile").path

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        let argv = ([path] + baseArguments(profile: profile) + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var environment = ProcessInfo.processInfo.environment
        environment["HOME"] = scratch.path  // crashpad and fontconfig caches go there, not into the real home
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        guard spawned == 0 else { throw Failure(description: "could not start \(path) (errno \(spawned))") }

        let deadline = ContinuousClock.now + timeout
        var status: Int32?
        while status == nil {
            var raw: Int32 = 0
            let result = waitpid(pid, &raw, WNOHANG)
            if result == pid {
                let signalled = raw & 0x7f
                status = signalled == 0 ? (raw >> 8) & 0xff : 128 + signalled
            } else if result < 0 && errno != EINTR {
                status = -1
            } else if ContinuousClock.now >= deadline {
                kill(-pid, SIGKILL)
                var ignored: Int32 = 0
                _ = waitpid(pid, &ignored, 0)
                kill(-pid, SIGKILL)
                throw Failure(description: "chromium \(arguments.joined(separator: " ")) did not finish within \(timeout)\n"
                    + "\((try? String(contentsOfFile: err, encoding: .utf8))?.suffix(2_000) ?? "")")
            } else {
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
        // Helpers left behind by the browser (its group is its own, so this reaches nothing else).
        kill(-pid, SIGKILL)
        return Run(
            status: status ?? -1,
            stdout: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
    }
}

/// The header of a PNG file, checked: signature, IHDR, dimensions.
public struct PNGInfo: Sendable, Hashable {
    public var width: Int
    public var height: Int
    public var byteCount: Int

    public init(file: URL) throws {
        let data = try Data(contentsOf: file)
        let bytes = [UInt8](data.prefix(33))
        let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        guard bytes.count >= 33, Array(bytes[0..<8]) == signature else {
            throw Chromium.Failure(description: "\(file.path) is not a PNG (bad signature)")
        }
        guard Array(bytes[12..<16]) == Array("IHDR".utf8) else {
            throw Chromium.Failure(description: "\(file.path) is not a PNG (no IHDR chunk first)")
        }
        func be32(_ offset: Int) -> Int {
            Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
        }
        width = be32(16)
        height = be32(20)
        byteCount = data.count
        // The last chunk is IEND: length 0, type, CRC.
        guard Array(data.suffix(8).prefix(4)) == Array("IEND".utf8) else {
            throw Chromium.Failure(description: "\(file.path) is truncated (no IEND chunk at the end)")
        }
    }
}
