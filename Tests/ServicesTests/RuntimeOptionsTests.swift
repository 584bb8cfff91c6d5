import Audit
import EffectivelyOnce
import Messages
import Pages
import ServiceCommands
import Services
import Simulation
import Store
import Testing

@Suite("Runtime options")
struct RuntimeOptionsTests {
    @Test("/health and /metrics listen on 127.0.0.1 unless told an address; a name or a bad address is refused")
    func metricsHost() throws {
        #expect(try RuntimeOptions.parse([]).metricsHost == "127.0.0.1")
        #expect(try RuntimeOptions.parse(["--metrics-host", "0.0.0.0"]).metricsHost == "0.0.0.0")
        #expect(try RuntimeOptions.parse(["--metrics-host", "::"]).metricsHost == "::")
        for bad in ["localhost", "300.1.1.1", "", "0.0.0.0:9464"] {
            do {
                _ = try RuntimeOptions.parse(["--metrics-host", bad])
                Issue.record("--metrics-host '\(bad)' was accepted")
            } catch {
                #expect(RuntimeOptions.message(for: error).contains("is not an IP address"), "\(bad): \(error)")
            }
        }
    }

    @Test("--topic-prefix names every topic and default group of the system; a prefix Kafka cannot name is refused")
    func topicPrefix() throws {
        let topics = try RuntimeOptions.parse(["--topic-prefix", "staging."]).configuration.topics
        #expect(topics.intake == "staging.dossiers.intake")
        #expect(topics.department("labour") == "staging.dossiers.labour")
        #expect(topics.group("motcua.labour") == "staging.motcua.labour")
        #expect(try RuntimeOptions.parse([]).configuration.topics.events == "dossier.events")
        for bad in ["bad prefix!", "tầng.", "a/b", String(repeating: "x", count: 101)] {
            do {
                _ = try RuntimeOptions.parse(["--topic-prefix", bad])
                Issue.record("--topic-prefix '\(bad)' was accepted")
            } catch {
                #expect(RuntimeOptions.message(for: error).contains("is not usable in topic names"), "\(bad): \(error)")
            }
        }
    }
}
