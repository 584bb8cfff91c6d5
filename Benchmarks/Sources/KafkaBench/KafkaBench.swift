import BenchSupport
import CKafkaRaw
import Foundation
import Kafka
import Logging

/// The Kafka wrapper against raw librdkafka C calls: the same messages, the same settings, the same run.
///
/// Each round produces `--messages` messages (keys are dossier UUIDs, values `--value-bytes` bytes) to a topic of
/// its own per side (raw C: `bench.raw`, Swift wrapper: `bench.wrapper`), then reads exactly those messages back
/// from the high watermarks captured before producing, with a reader warmed up (assigned, idle, unassigned) before
/// producing, so that no partition waits for its leader during the measurement. Rounds alternate which side goes first; medians are
/// reported. The devbroker keeps only ~5 MiB per partition: the run checks that nothing it produced was dropped.
@main
struct KafkaBench {
    static func main() throws {
        let options = try Options.parse(Array(CommandLine.arguments.dropFirst()))
        guard let bootstrap = ProcessInfo.processInfo.environment["KAFKA_BOOTSTRAP"], !bootstrap.isEmpty else {
            fail("KAFKA_BOOTSTRAP is not set (run through ./tools/bench, or export the lines of .dev/env)")
        }
        var logger = Logger(label: "kafka-bench")
        logger.logLevel = .warning
        let client = KafkaClientOptions(bootstrapServers: bootstrap)
        let admin = try KafkaAdmin(options: client, logger: logger)
        let workload = Workload(count: options.messages, valueBytes: options.valueBytes)
        let sides = [
            Side(name: "raw", topic: options.rawTopic, partitions: try partitionCount(admin, options.rawTopic)),
            Side(name: "wrapper", topic: options.wrapperTopic, partitions: try partitionCount(admin, options.wrapperTopic)),
        ]
        let perPartition = Double(workload.count * (workload.valueBytes + workload.keyBytes + 12))
            / Double(min(sides[0].partitions, sides[1].partitions)) / 1_048_576
        print("""
            KafkaBench: \(workload.count) messages x \(workload.valueBytes)-byte values, \(workload.keyBytes)-byte keys \
            (UUIDs), \(options.rounds) rounds, broker \(bootstrap), librdkafka \(String(cString: raw_kafka_version()))
            topics: \(sides.map { "\($0.topic) (\($0.partitions) partitions)" }.joined(separator: ", ")); \
            ~\(String(format: "%.1f", perPartition)) MiB per partition per round (the mock keeps ~5 MiB)
            """)

        var produce: [String: [Double]] = [:]
        var consume: [String: [Double]] = [:]
        var firstMessage: [String: [Double]] = [:]
        var produceCPU: [String: [Double]] = [:]
        var consumeCPU: [String: [Double]] = [:]
        var consumeWithHeaders: [Double] = []
        var consumeWithHeadersCPU: [Double] = []
        var consumeWrapperNoHeaders: [Double] = []
        for round in 1...options.rounds {
            let order = round % 2 == 1 ? sides : sides.reversed()
            for side in order where options.sides.contains(side.name) {
                let start = try highWatermarks(admin, side)
                // The reader warms up before anything is produced, so that it knows the partition leaders (a partition
                // started before its leader is known waits ~1 s).
                let reader = side.name == "raw"
                    ? try RawReader(bootstrap: bootstrap, side: side, start: start, readHeaders: false) as any Reader
                    : try WrapperReader(client: client, side: side, start: start, logger: logger)
                defer { reader.close() }
                // For context only: raw C that also reads each message's headers and timestamp, as the wrapper must.
                let headersReader = side.name == "raw" && options.rawWithHeaders
                    ? try RawReader(bootstrap: bootstrap, side: side, start: start, readHeaders: true) : nil
                defer { headersReader?.close() }
                // The wrapper with `readHeaders = false`: the same work as the raw reader that reads payloads only.
                let noHeadersReader = side.name == "wrapper" && options.rawWithHeaders
                    ? try WrapperReader(client: client, side: side, start: start, logger: logger, readHeaders: false) : nil
                defer { noHeadersReader?.close() }
                let produced: Timing
                switch side.name {
                case "raw": produced = try rawProduce(bootstrap, side, workload)
                default: produced = try wrapperProduce(client, side, workload, logger)
                }
                try checkKept(admin, side, start: start, count: workload.count)
                let consumed = try reader.consume(workload)
                if let headersReader {
                    let timing = try headersReader.consume(workload)
                    consumeWithHeaders.append(Double(workload.count) / timing.seconds)
                    consumeWithHeadersCPU.append(timing.cpu / Double(workload.count) * 1e6)
                }
                if let noHeadersReader {
                    let timing = try noHeadersReader.consume(workload)
                    consumeWrapperNoHeaders.append(Double(workload.count) / timing.seconds)
                }
                let count = Double(workload.count)
                produce[side.name, default: []].append(count / produced.seconds)
                consume[side.name, default: []].append(count / consumed.seconds)
                firstMessage[side.name, default: []].append(consumed.first)
                produceCPU[side.name, default: []].append(produced.cpu / count * 1e6)
                consumeCPU[side.name, default: []].append(consumed.cpu / count * 1e6)
                print(String(
                    format: "round %d %-7@ produce %7.0f msgs/s (%.3f s, %.2f µs CPU/msg)  consume %7.0f msgs/s (%.3f s, %.2f µs CPU/msg, first after %.3f s)",
                    round, side.name as NSString, count / produced.seconds, produced.seconds, produced.cpu / count * 1e6,
                    count / consumed.seconds, consumed.seconds, consumed.cpu / count * 1e6, consumed.first))
                fflush(nil)
            }
        }

        guard options.sides.count == 2 else { return }  // profiling one side: no comparison
        let rawProduceMedian = median(produce["raw"]!), wrapperProduceMedian = median(produce["wrapper"]!)
        let rawConsumeMedian = median(consume["raw"]!), wrapperConsumeMedian = median(consume["wrapper"]!)
        print("")
        print("| Kafka (\(options.rounds) rounds, medians) | raw librdkafka C | Swift wrapper | wrapper / raw | target |")
        print("|---|---:|---:|---:|---|")
        print(String(format: "| produce (`produce` + `flush`) | %.0f msgs/s | %.0f msgs/s | %.2f | ≥ 0.8 |",
                     rawProduceMedian, wrapperProduceMedian, wrapperProduceMedian / rawProduceMedian))
        print(String(format: "| consume (`assign` + `pollBatch`) | %.0f msgs/s | %.0f msgs/s | %.2f | ≥ 0.8 |",
                     rawConsumeMedian, wrapperConsumeMedian, wrapperConsumeMedian / rawConsumeMedian))
        if !consumeWithHeaders.isEmpty {
            let rawHeaders = median(consumeWithHeaders)
            print(String(format: "| consume, raw C also reading headers and timestamp (context) | %.0f msgs/s | %.0f msgs/s | %.2f | |",
                         rawHeaders, wrapperConsumeMedian, wrapperConsumeMedian / rawHeaders))
        }
        if !consumeWrapperNoHeaders.isEmpty {
            let wrapperBare = median(consumeWrapperNoHeaders)
            print(String(format: "| consume, neither side reading headers (wrapper `readHeaders = false`) | %.0f msgs/s | %.0f msgs/s | %.2f | ≥ 0.8 |",
                         rawConsumeMedian, wrapperBare, wrapperBare / rawConsumeMedian))
            print(String(format: "RESULT kafka consume-no-headers raw=%.0f wrapper=%.0f ratio=%.3f", rawConsumeMedian,
                         wrapperBare, wrapperBare / rawConsumeMedian))
        }
        print(String(format: "| calling thread CPU per message, produce | %.2f µs | %.2f µs | | |",
                     median(produceCPU["raw"]!), median(produceCPU["wrapper"]!)))
        print(String(format: "| calling thread CPU per message, consume | %.2f µs | %.2f µs | | |",
                     median(consumeCPU["raw"]!), median(consumeCPU["wrapper"]!)))
        if !consumeWithHeadersCPU.isEmpty {
            print(String(format: "| calling thread CPU per message, consume, raw C also reading headers | %.2f µs | | | |",
                         median(consumeWithHeadersCPU)))
        }
        // Raw and wrapper of one round ran back to back: their ratio is less exposed to the machine's load drifting.
        let produceRatios = zip(produce["wrapper"]!, produce["raw"]!).map { $0 / $1 }
        let consumeRatios = zip(consume["wrapper"]!, consume["raw"]!).map { $0 / $1 }
        print(String(format: "(wrapper / raw within each round: produce median %.2f, range %.2f–%.2f; consume median %.2f, range %.2f–%.2f)",
                     median(produceRatios), produceRatios.min()!, produceRatios.max()!,
                     median(consumeRatios), consumeRatios.min()!, consumeRatios.max()!))
        print(String(format: "(consume time counts from the assign, on a warmed-up reader; median first message after %.3f s raw, %.3f s wrapper. "
                     + "The wrapper's delivery reports are served by its own polling thread, not counted above.)",
                     median(firstMessage["raw"]!), median(firstMessage["wrapper"]!)))
        print(String(format: "RESULT kafka produce raw=%.0f wrapper=%.0f ratio=%.3f per-round-ratio=%.3f", rawProduceMedian,
                     wrapperProduceMedian, wrapperProduceMedian / rawProduceMedian, median(produceRatios)))
        print(String(format: "RESULT kafka consume raw=%.0f wrapper=%.0f ratio=%.3f per-round-ratio=%.3f", rawConsumeMedian,
                     wrapperConsumeMedian, wrapperConsumeMedian / rawConsumeMedian, median(consumeRatios)))
    }

    // MARK: the Swift wrapper

    static func wrapperProduce(_ client: KafkaClientOptions, _ side: Side, _ workload: Workload, _ logger: Logger) throws -> Timing {
        let messages = workload.messages(topic: side.topic)  // built before the clock starts, like the C buffers
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(client: client), logger: logger)
        let clock = ContinuousClock()
        let cpu = raw_thread_cpu_seconds()
        let start = clock.now
        // Indexed access passes each message borrowed (a for-in loop would copy it), and the array is freed after
        // the clock stops — the raw side's buffers are not freed inside its timing either.
        try withExtendedLifetime(messages) {
            for index in messages.indices { try producer.produce(messages[index]) }
        }
        try producer.flush(timeout: .seconds(60))
        let elapsed = seconds(clock.now - start)
        let used = raw_thread_cpu_seconds() - cpu
        let failed = producer.failedDeliveries
        try producer.close()
        if failed > 0 { fail("wrapper produce: \(failed) deliveries failed") }
        return Timing(seconds: elapsed, cpu: used)
    }

    // MARK: raw librdkafka (C)

    static func rawProduce(_ bootstrap: String, _ side: Side, _ workload: Workload) throws -> Timing {
        // The Swift module's producer settings (KafkaProducerConfiguration defaults), spelled out.
        let properties = [
            "bootstrap.servers", bootstrap, "client.id", "motcua", "log_level", "4",
            "enable.idempotence", "true", "linger.ms", "5", "message.timeout.ms", "30000",
            "compression.codec", "none", "queue.buffering.max.messages", "1000000",
        ]
        var result = raw_kafka_result()
        var error = [CChar](repeating: 0, count: 512)
        let status = withCStringArray(properties) { props in
            workload.keys.withUnsafeBufferPointer { keys in
                workload.values.withUnsafeBufferPointer { values in
                    raw_kafka_produce(props, side.topic, keys.baseAddress, workload.keyBytes, values.baseAddress,
                                      workload.valueBytes, Int64(workload.count), 1000, &result, &error, error.count)
                }
            }
        }
        if status != 0 { fail("raw produce: \(string(error))") }
        if result.failed > 0 || result.messages != workload.count {
            fail("raw produce: \(result.messages) delivered, \(result.failed) failed")
        }
        return Timing(seconds: result.seconds, cpu: result.cpu_seconds)
    }

    // MARK: helpers

    static func partitionCount(_ admin: KafkaAdmin, _ topic: String) throws -> Int {
        guard let metadata = try admin.metadata(topic: topic).first, !metadata.partitions.isEmpty else {
            fail("topic '\(topic)' not found: start the devbroker with --topics Benchmarks/topics.yaml")
        }
        return metadata.partitions.count
    }

    static func highWatermarks(_ admin: KafkaAdmin, _ side: Side) throws -> [Int64] {
        try (0..<side.partitions).map { try admin.watermarks(TopicPartition(side.topic, Int32($0))).high }
    }

    /// Fails when the broker did not keep every message just produced (the mock's ~5 MiB per partition).
    static func checkKept(_ admin: KafkaAdmin, _ side: Side, start: [Int64], count: Int) throws {
        var added: Int64 = 0
        for partition in 0..<side.partitions {
            let (low, high) = try admin.watermarks(TopicPartition(side.topic, Int32(partition)))
            if low > start[partition] {
                fail("""
                    \(side.topic)[\(partition)]: the broker dropped messages of this round (low watermark \(low) > \
                    start \(start[partition])); use fewer --messages or more partitions
                    """)
            }
            added += high - start[partition]
        }
        if added != Int64(count) { fail("\(side.topic): \(added) messages added, expected \(count)") }
    }
}

/// A consumer of one side, warmed up before the round's messages are produced.
protocol Reader {
    /// Assigns the partitions at the round's start offsets and reads its messages; the time counts from the assign.
    func consume(_ workload: Workload) throws -> Timing
    func close()
}

let warmUp: Duration = .milliseconds(1500)
let settle: Duration = .milliseconds(700)  // > fetch.wait.max.ms (500 ms)

func milliseconds(_ duration: Duration) -> Int32 {
    Int32(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
}

/// The Swift wrapper: `assign`, then `pollBatch` (batches of up to 1,000, 100 ms timeout).
final class WrapperReader: Reader {
    let consumer: KafkaConsumer
    var offsets: [TopicPartition: KafkaOffset] = [:]

    init(client: KafkaClientOptions, side: Side, start: [Int64], logger: Logger, readHeaders: Bool = true) throws {
        var configuration = KafkaConsumerConfiguration(client: client, groupID: nil)
        configuration.readHeaders = readHeaders
        consumer = try KafkaConsumer(configuration: configuration, logger: logger)
        var offsets: [TopicPartition: KafkaOffset] = [:]
        for (partition, offset) in start.enumerated() { offsets[TopicPartition(side.topic, Int32(partition))] = KafkaOffset(offset) }
        self.offsets = offsets
        // Warm-up: assigned, the client learns the partition leaders; unassigned again, its last long-poll fetch
        // (fetch.wait.max.ms) ends before the round.
        try consumer.assign(offsets)
        try idle(warmUp)
        try consumer.assign([:])
        try idle(settle)
    }

    private func idle(_ duration: Duration) throws {
        let until = ContinuousClock.now + duration
        while ContinuousClock.now < until {
            let unexpected = try consumer.pollBatch(maxMessages: 1000, timeout: .milliseconds(50))
            if !unexpected.isEmpty { fail("wrapper reader: \(unexpected.count) messages before the round produced any") }
        }
    }

    func consume(_ workload: Workload) throws -> Timing {
        let clock = ContinuousClock()
        let cpu = raw_thread_cpu_seconds()
        let began = clock.now
        let deadline = began + .seconds(60)
        var first: ContinuousClock.Instant? = nil
        var received = 0
        var checksum: UInt64 = 0
        try consumer.assign(offsets)
        while received < workload.count {
            let batch = try consumer.pollBatch(maxMessages: 1000, timeout: .milliseconds(100))
            if batch.isEmpty {
                if clock.now > deadline { fail("wrapper consume: timeout, \(received) of \(workload.count) messages") }
                continue
            }
            if first == nil { first = clock.now }
            for index in batch.indices {  // read in place, as the raw side reads its messages
                let value = batch[index].value
                checksum &+= UInt64(value.count) &+ UInt64(value.first ?? 0) &+ UInt64(batch[index].key?.count ?? 0)
            }
            received += batch.count
        }
        let elapsed = seconds(clock.now - began)
        let used = raw_thread_cpu_seconds() - cpu
        if received != workload.count || checksum != workload.checksum {
            fail("wrapper consume: \(received) messages, checksum \(checksum) (expected \(workload.count), \(workload.checksum))")
        }
        return Timing(seconds: elapsed, cpu: used, first: seconds(first! - began))
    }

    func close() { consumer.close() }
}

/// Raw librdkafka: `rd_kafka_assign`, then `rd_kafka_consumer_poll` per message.
final class RawReader: Reader {
    let handle: UnsafeMutableRawPointer
    let side: Side
    let readHeaders: Bool
    var start: [Int64] = []

    init(bootstrap: String, side: Side, start: [Int64], readHeaders: Bool) throws {
        self.readHeaders = readHeaders
        // The Swift module's consumer settings (KafkaConsumerConfiguration defaults, group-less reader), spelled out.
        let properties = [
            "bootstrap.servers", bootstrap, "client.id", "motcua", "log_level", "4",
            "group.id", "motcua.reader.\(UInt64.random(in: 0...UInt64.max))", "auto.offset.reset", "earliest",
            "enable.auto.commit", "false", "enable.auto.offset.store", "false",
            "partition.assignment.strategy", "range,roundrobin", "session.timeout.ms", "10000",
            "enable.partition.eof", "false",
        ]
        var error = [CChar](repeating: 0, count: 512)
        guard let handle = withCStringArray(properties, { raw_kafka_consumer_new($0, &error, error.count) }) else {
            fail("raw consumer: \(string(error))")
        }
        self.handle = handle
        self.side = side
        let assigned = start.withUnsafeBufferPointer {
            raw_kafka_consumer_assign(handle, side.topic, Int32(side.partitions), $0.baseAddress, &error, error.count)
        }
        if assigned != 0 { fail("raw consumer: \(string(error))") }
        // The same warm-up as the wrapper's.
        var unexpected = raw_kafka_consumer_idle(handle, milliseconds(warmUp))
        if raw_kafka_consumer_assign(handle, side.topic, 0, nil, &error, error.count) != 0 { fail("raw consumer: \(string(error))") }
        unexpected += raw_kafka_consumer_idle(handle, milliseconds(settle))
        if unexpected != 0 { fail("raw reader: \(unexpected) messages before the round produced any") }
        self.start = start
    }

    func consume(_ workload: Workload) throws -> Timing {
        var result = raw_kafka_result()
        var error = [CChar](repeating: 0, count: 512)
        // The assignment is inside the timing, as on the wrapper side.
        let cpu = raw_thread_cpu_seconds()
        let began = ContinuousClock.now
        let assigned = start.withUnsafeBufferPointer {
            raw_kafka_consumer_assign(handle, side.topic, Int32(side.partitions), $0.baseAddress, &error, error.count)
        }
        if assigned != 0 { fail("raw consumer: \(string(error))") }
        let status = raw_kafka_consume(handle, Int64(workload.count), 60_000, readHeaders ? 1 : 0, &result, &error, error.count)
        if status != 0 { fail("raw consume: \(string(error))") }
        if result.messages != workload.count || result.checksum != workload.checksum {
            fail("raw consume: \(result.messages) messages, checksum \(result.checksum) (expected \(workload.count), \(workload.checksum))")
        }
        let elapsed = seconds(ContinuousClock.now - began)
        return Timing(seconds: elapsed, cpu: raw_thread_cpu_seconds() - cpu, first: elapsed - result.seconds + result.first_seconds)
    }

    func close() { raw_kafka_consumer_destroy(handle) }
}

struct Timing {
    var seconds: Double
    var cpu: Double  // CPU time of the calling thread
    var first: Double = 0  // consume: until the first message
}

struct Side {
    let name: String
    let topic: String
    let partitions: Int
}

/// The messages of every round: keys are UUIDs (as dossier ids), values JSON-like text padded to size.
struct Workload {
    let count: Int
    let keyBytes = 36
    let valueBytes: Int
    let keys: [UInt8]  // count * keyBytes, back to back
    let values: [UInt8]  // count * valueBytes, back to back
    let checksum: UInt64  // what a consumer computes over all messages

    init(count: Int, valueBytes: Int) {
        self.count = count
        self.valueBytes = valueBytes
        var generator = SplitMix64(seed: 0x6D6F_7463_7561)
        var keys: [UInt8] = []
        keys.reserveCapacity(count * 36)
        var values: [UInt8] = []
        values.reserveCapacity(count * valueBytes)
        var checksum: UInt64 = 0
        for index in 0..<count {
            let uuid = UUID(uuid: uuidBytes(&generator)).uuidString.lowercased()
            keys.append(contentsOf: uuid.utf8)
            var value = Array(#"{"id":"\#(uuid)","procedure":"1.004227","seq":\#(index),"channel":"online","pad":""#.utf8)
            while value.count < valueBytes - 2 { value.append(UInt8(ascii: "a") + UInt8(value.count % 26)) }
            value.append(contentsOf: #""}"#.utf8)
            value = Array(value.prefix(valueBytes))
            values.append(contentsOf: value)
            checksum &+= UInt64(valueBytes) &+ UInt64(value[0]) &+ 36
        }
        self.keys = keys
        self.values = values
        self.checksum = checksum
    }

    func messages(topic: String) -> [KafkaOutgoingMessage] {
        (0..<count).map { index in
            KafkaOutgoingMessage(
                topic: topic,
                key: Array(keys[index * keyBytes..<(index + 1) * keyBytes]),
                value: Array(values[index * valueBytes..<(index + 1) * valueBytes]))
        }
    }
}


struct Options {
    var messages = 100_000
    var valueBytes = 256
    var rounds = 9
    var rawTopic = "bench.raw"
    var wrapperTopic = "bench.wrapper"
    var sides: Set<String> = ["raw", "wrapper"]
    var rawWithHeaders = true

    static func parse(_ arguments: [String]) throws -> Options {
        var options = Options()
        var iterator = arguments.makeIterator()
        while let argument = iterator.next() {
            func value() -> String {
                guard let next = iterator.next() else { fail("\(argument) needs a value") }
                return next
            }
            switch argument {
            case "--messages": options.messages = positive(value(), argument)
            case "--value-bytes": options.valueBytes = max(64, positive(value(), argument))
            case "--rounds": options.rounds = positive(value(), argument)
            case "--raw-topic": options.rawTopic = value()
            case "--wrapper-topic": options.wrapperTopic = value()
            case "--no-headers-baseline": options.rawWithHeaders = false
            case "--only":  // one side alone, for profiling
                let side = value()
                guard side == "raw" || side == "wrapper" else { fail("--only takes raw or wrapper") }
                options.sides = [side]
            case "-h", "--help":
                print("usage: KafkaBench [--messages 100000] [--value-bytes 256] [--rounds 9] [--raw-topic bench.raw] [--wrapper-topic bench.wrapper] [--only raw|wrapper] [--no-headers-baseline]")
                exit(0)
            default: fail("unknown argument \(argument)")
            }
        }
        return options
    }
}

func positive(_ text: String, _ name: String) -> Int {
    guard let value = Int(text), value > 0 else { fail("\(name) needs a positive integer, got '\(text)'") }
    return value
}


func string(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// A NULL-terminated C array of C strings, valid inside `body`.
func withCStringArray<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let duplicated = strings.map { strdup($0) }
    defer { duplicated.forEach { free($0) } }
    let pointers: [UnsafePointer<CChar>?] = duplicated.map { UnsafePointer($0) } + [nil]
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}

