import Foundation

/// One headless Chromium driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`: the browser reads
/// commands on its fd 3 and writes answers and events on its fd 4, each a JSON object ended by a NUL byte), for
/// tests that need a browser which keeps state between pages — a session cookie its own sign-in set, which a
/// command line cannot hand it.
///
/// Synchronous and blocking by design: call it from a thread of its own (never the cooperative pool, which may be
/// serving the very pages the browser asks for). Chromium runs in a process group of its own, killed by
/// ``close()`` (call it with `defer`).
public final class ChromiumSession: @unchecked Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    private let pid: pid_t
    private let commands: Int32
    private let answers: Int32
    private let scratch: URL
    private var buffer: [UInt8] = []
    private var events: [[String: Any]] = []
    private var nextId = 0
    private var sessionId = ""
    private var closed = false
    public let timeout: TimeInterval

    /// Starts the browser and opens one page (a tab) to drive.
    public init(timeout: TimeInterval = 60) throws {
        self.timeout = timeout
        let path = try Chromium.executable()
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent(TestEnvironment.unique("chromium-cdp"))
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        var toBrowser: [Int32] = [0, 0]
        var fromBrowser: [Int32] = [0, 0]
        guard pipe(&toBrowser) == 0, pipe(&fromBrowser) == 0 else {
            throw Failure(description: "pipe() failed (errno \(errno))")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(
            &actions, 2, scratch.appendingPathComponent("stderr").path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, toBrowser[0], 3)
        posix_spawn_file_actions_adddup2(&actions, fromBrowser[1], 4)
        for fd in [toBrowser[1], fromBrowser[0]] { posix_spawn_file_actions_addclose(&actions, fd) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        let arguments = Chromium.baseArguments(profile: scratch.appendingPathComponent("profile").path)
            + ["--remote-debugging-pipe", "about:blank"]
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var environment = ProcessInfo.processInfo.environment
        environment["HOME"] = scratch.path
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        Foundation.close(toBrowser[0])
        Foundation.close(fromBrowser[1])
        guard spawned == 0 else {
            Foundation.close(toBrowser[1])
            Foundation.close(fromBrowser[0])
            throw Failure(description: "could not start \(path) (errno \(spawned))")
        }
        self.pid = pid
        commands = toBrowser[1]
        answers = fromBrowser[0]
        do {
            let target = try send("Target.createTarget", ["url": "about:blank"], session: false)
            guard let targetId = target["targetId"] as? String else { throw Failure(description: "no target: \(target)") }
            let attached = try send("Target.attachToTarget", ["targetId": targetId, "flatten": true], session: false)
            guard let session = attached["sessionId"] as? String else { throw Failure(description: "not attached: \(attached)") }
            sessionId = session
            _ = try send("Page.enable")
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    /// Ends the browser (its whole process group) and removes its profile.
    public func close() {
        guard !closed else { return }
        closed = true
        Foundation.close(commands)
        Foundation.close(answers)
        kill(-pid, SIGKILL)
        var ignored: Int32 = 0
        _ = waitpid(pid, &ignored, 0)
        try? FileManager.default.removeItem(at: scratch)
    }

    /// Sends a command (to the page's session unless `session` is false) and returns its `result`.
    @discardableResult
    public func send(_ method: String, _ params: [String: Any] = [:], session: Bool = true) throws -> [String: Any] {
        nextId += 1
        let id = nextId
        var message: [String: Any] = ["id": id, "method": method, "params": params]
        if session { message["sessionId"] = sessionId }
        var bytes = [UInt8](try JSONSerialization.data(withJSONObject: message))
        bytes.append(0)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(commands, $0.baseAddress, $0.count) }
            guard n > 0 else { throw Failure(description: "the browser stopped reading commands (errno \(errno))\(stderr)") }
            written += n
        }
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let object = try receive(until: deadline, waitingFor: method)
            if object["id"] as? Int == id {
                if let error = object["error"] { throw Failure(description: "\(method): \(error)") }
                return object["result"] as? [String: Any] ?? [:]
            }
            events.append(object)
        }
    }

    /// Waits for the page's event `method` (one that arrived already counts), and consumes it.
    public func waitFor(event method: String) throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let index = events.firstIndex(where: { $0["method"] as? String == method }) {
                return events.remove(at: index)["params"] as? [String: Any] ?? [:]
            }
            events.append(try receive(until: deadline, waitingFor: method))
        }
    }

    /// Opens `url` and waits for its load (after redirects).
    public func navigate(_ url: String) throws {
        events.removeAll { $0["method"] as? String == "Page.loadEventFired" }
        let result = try send("Page.navigate", ["url": url])
        if let error = result["errorText"] as? String { throw Failure(description: "navigating to \(url): \(error)") }
        _ = try waitFor(event: "Page.loadEventFired")
    }

    /// Evaluates `expression` in the page and returns its value (JSON-serialisable results only).
    public func evaluate(_ expression: String) throws -> Any? {
        let result = try send("Runtime.evaluate", ["expression": expression, "returnByValue": true])
        if let exception = result["exceptionDetails"] { throw Failure(description: "\(expression): \(exception)") }
        return (result["result"] as? [String: Any])?["value"]
    }

    /// Runs `expression` (which navigates, e.g. submits a form) and waits for the next page's load.
    public func evaluateAndWaitForLoad(_ expression: String) throws {
        events.removeAll { $0["method"] as? String == "Page.loadEventFired" }
        _ = try evaluate(expression)
        _ = try waitFor(event: "Page.loadEventFired")
    }

    /// The page's DOM as serialised now.
    public func dom() throws -> String {
        try evaluate("document.documentElement.outerHTML") as? String ?? ""
    }

    /// A screenshot of the page in a `width`×`height` viewport, written to `file` as PNG.
    @discardableResult
    public func screenshot(to file: URL, width: Int, height: Int) throws -> PNGInfo {
        try send(
            "Emulation.setDeviceMetricsOverride",
            ["width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600])
        let shot = try send("Page.captureScreenshot", ["format": "png"])
        guard let base64 = shot["data"] as? String, let data = Data(base64Encoded: base64) else {
            throw Failure(description: "Page.captureScreenshot gave no image")
        }
        try? FileManager.default.removeItem(at: file)
        try data.write(to: file)
        return try PNGInfo(file: file)
    }

    /// The browser's cookies (`Storage.getCookies`: every cookie it holds, HttpOnly ones included).
    public func cookies() throws -> [[String: Any]] {
        try send("Storage.getCookies", session: false)["cookies"] as? [[String: Any]] ?? []
    }

    private var stderr: String {
        ((try? String(contentsOf: scratch.appendingPathComponent("stderr"), encoding: .utf8)).map { "\n" + $0.suffix(2_000) }) ?? ""
    }

    /// The next message from the browser.
    private func receive(until deadline: Date, waitingFor what: String) throws -> [String: Any] {
        while true {
            if let end = buffer.firstIndex(of: 0) {
                let message = Array(buffer[..<end])
                buffer.removeSubrange(...end)
                guard let object = try JSONSerialization.jsonObject(with: Data(message)) as? [String: Any] else { continue }
                return object
            }
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { throw Failure(description: "no answer to \(what) within \(timeout) s\(stderr)") }
            var poller = pollfd(fd: answers, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(min(left, 1) * 1_000))
            if ready < 0 && errno != EINTR { throw Failure(description: "poll failed (errno \(errno))") }
            guard ready > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let n = chunk.withUnsafeMutableBytes { read(answers, $0.baseAddress, $0.count) }
            guard n > 0 else { throw Failure(description: "the browser closed its pipe while \(what) was awaited\(stderr)") }
            buffer.append(contentsOf: chunk[..<n])
        }
    }
}
