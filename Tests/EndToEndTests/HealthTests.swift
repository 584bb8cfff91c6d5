import Foundation
import Postgres
import TestSupport
import Testing

/// `/health/ready` tells the truth about Kafka: the issue found `/health` ok with the broker down.
@Suite("Health: readiness follows Kafka")
struct HealthTests {
    @Test("/health/ready fails with the process's devbroker killed (and /health/live still answers)")
    func readyFailsWithKafkaDown() async throws {
        // A broker and a database of the test's own: killing the shared devbroker would break the other suites.
        let database = try TestDatabase("health")
        defer { database.drop() }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(TestEnvironment.unique("health"))
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let bootstrapFile = scratch.appendingPathComponent("bootstrap").path
        let portFile = scratch.appendingPathComponent("port").path
        let broker = try ServiceProcess(
            "devbroker", ["--topics", TestEnvironment.root.appendingPathComponent("deploy/topics.yaml").path,
                          "--bootstrap-file", bootstrapFile])
        defer { if broker.isRunning { broker.signal(SIGKILL) } }
        let started = await eventually(timeout: .seconds(60)) {
            !((try? String(contentsOfFile: bootstrapFile, encoding: .utf8)) ?? "").isEmpty
        }
        #expect(started, "\(broker.log)")
        let bootstrap = try String(contentsOfFile: bootstrapFile, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let worker = try ServiceProcess(
            "labour-worker",
            ["--rules", TestEnvironment.root.appendingPathComponent("deploy").path, "--log-level", "warning",
             "--metrics-port", "0", "--metrics-port-file", portFile],
            environment: database.environment.merging(
                ["KAFKA_BOOTSTRAP": bootstrap, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "MOTCUA_TOPIC_PREFIX": ""]) { $1 })
        defer { if worker.isRunning { worker.signal(SIGKILL) } }
        let listening = await eventually(timeout: .seconds(60)) {
            Int(((try? String(contentsOfFile: portFile, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)) != nil
        }
        #expect(listening, "\(worker.log)")
        let port = try #require(Int(try String(contentsOfFile: portFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))

        var last = (status: 0, body: "")
        let ready = await eventually(timeout: TestEnvironment.consumerDeadline) {
            last = try httpGet(port: port, path: "/health/ready")
            return last.status == 200
        }
        #expect(ready, "\(last) \(worker.log)")
        #expect(last.body.contains("\"kafka\":true"), "\(last)")

        broker.signal(SIGKILL)
        _ = await broker.waitForExit(timeout: .seconds(30))
        let notReady = await eventually(timeout: .seconds(60)) {
            last = try httpGet(port: port, path: "/health/ready")
            return last.status == 503
        }
        #expect(notReady, "\(last) \(worker.log)")
        #expect(last.body.contains("\"kafka\":false"), "\(last)")
        #expect(last.body.contains("\"database\":true"), "only Kafka is down: \(last)")
        #expect(try httpGet(port: port, path: "/health/live").status == 200)
    }
}
