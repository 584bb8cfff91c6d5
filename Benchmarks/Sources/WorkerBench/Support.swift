import BenchSupport
import Foundation
import Kafka
import Postgres

/// Nearest-rank percentile of sorted values.
func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
    return sorted[min(sorted.count - 1, max(0, rank - 1))]
}

/// User + system CPU seconds of this process so far.
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
        + Double(usage.ru_stime.tv_usec) / 1e6
}

/// CPU seconds (user + system) of every process on the machine, from /proc/stat; with the process's own share it
/// tells how the two cores were spent (this process, PostgreSQL + devbroker + anything else running).
func machineCPUSeconds() -> Double {
    guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
        let line = text.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") })
    else { return .nan }
    let fields = line.split(separator: " ").dropFirst().compactMap { Double($0) }
    guard fields.count >= 8 else { return .nan }
    // user nice system idle iowait irq softirq steal: busy = all but idle and iowait.
    let busy = fields[0] + fields[1] + fields[2] + fields[5] + fields[6] + fields[7]
    return busy / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// CPU seconds used so far by a local PostgreSQL cluster: its postmaster and every child (backends, WAL writer,
/// checkpointer, …), read from /proc. `postmaster` is found from any backend pid (its parent).
struct PostgresCPU {
    let postmaster: Int32

    init?(connection: PostgresConnection) {
        guard let backend = try? connection.query("SELECT pg_backend_pid() AS pid")[0].decode(Int32.self, "pid"),
            let stat = PostgresCPU.stat(backend)
        else { return nil }
        postmaster = stat.ppid
    }

    /// Parent pid, own CPU seconds, and CPU seconds of its children that exited (reaped).
    static func stat(_ pid: Int32) -> (ppid: Int32, seconds: Double, reaped: Double)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        // Fields after "pid (comm)": state ppid … utime stime cutime cstime (14–17 counting from pid as 1).
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 15, let ppid = Int32(fields[1]), let user = Double(fields[11]),
            let system = Double(fields[12]), let childUser = Double(fields[13]), let childSystem = Double(fields[14])
        else { return nil }
        let tick = Double(sysconf(Int32(_SC_CLK_TCK)))
        return (ppid, (user + system) / tick, (childUser + childSystem) / tick)
    }

    /// CPU seconds of the postmaster, its children alive now, and its children that exited (the kernel adds those
    /// to the postmaster's cumulative child times when it reaps them). Clock ticks: 10 ms resolution.
    func seconds() -> Double {
        var total = PostgresCPU.stat(postmaster).map { $0.seconds + $0.reaped } ?? 0
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = Int32(entry), let stat = PostgresCPU.stat(pid), stat.ppid == postmaster else { continue }
            total += stat.seconds
        }
        return total
    }
}

/// Runs `body` on a thread of its own; `wait()` blocks until it returned.
final class BackgroundThread: Sendable {
    private let done = DispatchSemaphore(value: 0)

    init(_ name: String, _ body: @escaping @Sendable () -> Void) {
        let done = done
        let thread = Thread {
            body()
            done.signal()
        }
        thread.name = name
        thread.stackSize = 8 << 20
        thread.start()
    }

    func wait() { done.wait() }
}

/// The high watermark of every partition of `topic`.
func highWatermarks(_ admin: KafkaAdmin, topic: String) throws -> [Int32: Int64] {
    guard let metadata = try admin.metadata(topic: topic).first(where: { $0.name == topic }) else {
        fail("topic \(topic) does not exist on the broker (start the devbroker with deploy/topics.yaml)")
    }
    var marks: [Int32: Int64] = [:]
    for partition in metadata.partitions {
        marks[partition.id] = try admin.watermarks(TopicPartition(topic, partition.id)).high
    }
    return marks
}

/// Stores `offsets` as the PostgreSQL-held position of `group` on `topic`: an ``EffectivelyOnceConsumer`` of that
/// group starts exactly there (the messages of this run), whatever older data the topic holds.
func seedOffsets(_ connection: PostgresConnection, group: String, topic: String, _ offsets: [Int32: Int64]) throws {
    try connection.execute("DELETE FROM consumer_offsets WHERE consumer_group = $1", [group])
    for (partition, offset) in offsets.sorted(by: { $0.key < $1.key }) {
        try connection.execute(
            "INSERT INTO consumer_offsets (consumer_group, topic, partition, next_offset) VALUES ($1, $2, $3, $4)",
            [group, topic, partition, offset])
    }
}

func format(_ value: Double, _ digits: Int = 0) -> String { String(format: "%.\(digits)f", value) }

/// `12345.6` → `12,346`.
func grouped(_ value: Double) -> String {
    guard value.isFinite else { return "n/a" }
    let digits = String(Int64(value.rounded()))
    var out = ""
    for (i, c) in digits.reversed().enumerated() {
        if i > 0 && i % 3 == 0 && c != "-" { out.append(",") }
        out.append(c)
    }
    return String(out.reversed())
}
