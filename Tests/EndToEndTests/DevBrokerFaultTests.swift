import Foundation
import Kafka
import TestSupport
import Testing

/// The devbroker's fault verbs (what `tools/chaos` drives), on a devbroker of three brokers of the test's own (never
/// the shared one: its faults would reach other tests): each bad parameter is refused with a 400 naming it, and
/// leaves the cluster as it was; the good ones act, and once undone a producer delivers again.
@Suite("devbroker fault verbs")
struct DevBrokerFaultTests {
    @Test("bad fault requests are refused with the parameter named; good ones act and are undone")
    func faultVerbs() async throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent(TestEnvironment.unique("devbroker"))
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let bootstrapFile = directory.appendingPathComponent("bootstrap").path
        let controlFile = directory.appendingPathComponent("control").path
        let broker = try ServiceProcess("devbroker", [
            "--brokers", "3", "--topics", TestEnvironment.root.appendingPathComponent("deploy/topics.yaml").path,
            "--bootstrap-file", bootstrapFile, "--control-file", controlFile,
        ])
        defer { broker.signal(SIGKILL) }
        let started = await eventually(timeout: .seconds(120)) {
            FileManager.default.fileExists(atPath: bootstrapFile) && FileManager.default.fileExists(atPath: controlFile)
        }
        try #require(started, "the devbroker did not start: \(broker.log)")
        let port = try #require(Int(try String(contentsOfFile: controlFile, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        let bootstrap = try String(contentsOfFile: bootstrapFile, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        func post(_ path: String, method: String = "POST") throws -> HTTPResult {
            try httpRequest(port: port, path: path, method: method, timeout: 30)
        }

        let refused: [(String, String)] = [
            ("/brokers/down?broker=0", "broker: a broker id from 1 to 3"),
            ("/brokers/down?broker=4", "broker: a broker id from 1 to 3"),
            ("/brokers/up?broker=one", "broker: a broker id from 1 to 3"),
            ("/brokers/rtt?broker=1&ms=-5", "ms: a whole number from 0 to 60000"),
            ("/brokers/rtt?broker=-2&ms=10", "broker: a broker id from 1 to 3 is required (or -1 for all)"),
            ("/partitions/leader?topic=bad%20name&partition=0&broker=1", "topic: a Kafka topic name"),
            ("/partitions/leader?topic=dossier.events&partition=99&broker=1", "partition: a whole number from 0 to 63"),
            ("/groups/coordinator?broker=1", "group: a consumer group id is required"),
            ("/requests/errors?request=bogus&error=_TRANSPORT&count=1", "request: one of produce, fetch"),
            ("/requests/errors?request=produce&error=NO_SUCH_ERROR&count=1",
             "error: 'NO_SUCH_ERROR' is not a librdkafka error name"),
            ("/requests/errors?request=produce&error=_TRANSPORT&count=0", "count: a whole number from 1 to 1000"),
            ("/requests/errors?request=produce&error=_TRANSPORT&count=1&broker=7", "broker: a broker id from 1 to 3"),
        ]
        for (path, reason) in refused {
            let result = try post(path)
            #expect(result.status == 400, "\(path): \(result.status) \(result.body)")
            #expect(result.body.contains(reason), "\(path): \(result.body)")
        }

        // Nothing of the refused requests took effect: a producer delivers at once.
        var configuration = KafkaProducerConfiguration(client: KafkaClientOptions(bootstrapServers: bootstrap))
        configuration.deliveryTimeout = .seconds(60)
        let producer = try KafkaProducer(configuration: configuration, logger: TestEnvironment.logger)
        defer { try? producer.close() }
        let message = KafkaOutgoingMessage(topic: "dossier.events", key: "k", value: Array("v".utf8))
        _ = try await producer.send(message)

        let accepted = [
            "/brokers/down?broker=2", "/brokers/up?broker=2",
            "/brokers/rtt?broker=-1&ms=50", "/brokers/rtt?broker=-1&ms=0",
            "/partitions/leader?topic=dossier.events&partition=0&broker=3",
            "/groups/coordinator?group=motcua.reception&broker=2",
            "/requests/errors?request=fetch&error=NOT_LEADER_FOR_PARTITION&count=2",
            "/requests/errors?request=produce&error=29&count=3",
            "/requests/errors?request=produce&error=0&count=1&broker=1&delay_ms=200",
        ]
        for path in accepted {
            let result = try post(path)
            #expect(result.status == 200, "\(path): \(result.status) \(result.body)")
        }
        #expect(try post("/requests/errors?request=produce", method: "DELETE").status == 200)
        #expect(try post("/requests/errors?request=fetch", method: "DELETE").status == 200)
        // The produce errors were cleared before any request used them: a new producer delivers.
        let fresh = try KafkaProducer(configuration: configuration, logger: TestEnvironment.logger)
        defer { try? fresh.close() }
        _ = try await fresh.send(message)
        #expect(broker.log.contains("fault injected"))
    }
}
