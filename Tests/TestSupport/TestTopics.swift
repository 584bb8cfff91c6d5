import Authority
import Foundation
import Messages

/// Topics of a test's own: a unique prefix, with every topic of a MotCua system (or a single topic) created on the
/// devbroker through its control endpoint (`MOTCUA_DEVBROKER_CONTROL`). No test reads another test's messages, so
/// tests can run side by side on one broker.
public enum TestTopics {
    public struct ControlFailed: Error, CustomStringConvertible {
        public var description: String
    }

    /// The departments that run a worker, from the shipped rules (`deploy/`).
    public static let departments: [DepartmentID] = {
        (try? AuthorityBundle.load(from: TestEnvironment.root.appendingPathComponent("deploy")))?.ruleSets.keys.sorted()
            ?? []
    }()

    /// A fresh prefix (`t.<name>.<unique>.`) with all the topics of a system created under it.
    public static func system(_ name: String) throws -> Topics {
        let specs = try TopicSpecs.load(deploy: TestEnvironment.root.appendingPathComponent("deploy").path)
        let topics = Topics(prefix: "t.\(name).\(UUID().uuidString.prefix(8).lowercased()).").withLimits(of: specs)
        guard !departments.isEmpty else {
            throw ControlFailed(description: "the rules in deploy/ did not load: no departments to create topics for")
        }
        for topic in try topics.all(departments: departments, specs: specs) {
            try create(topic.name, partitions: topic.partitions)
        }
        return topics
    }

    /// A fresh topic name (`t.<name>.<unique>`) created with `partitions`.
    public static func single(_ name: String, partitions: Int) throws -> String {
        let topic = "t.\(name).\(UUID().uuidString.prefix(8).lowercased())"
        try create(topic, partitions: partitions)
        return topic
    }

    /// Creates `name` on the devbroker (an existing topic is left as it is).
    public static func create(_ name: String, partitions: Int) throws {
        let control = try TestEnvironment.require("MOTCUA_DEVBROKER_CONTROL")
        guard let port = control.split(separator: ":").last.flatMap({ Int($0) }) else {
            throw ControlFailed(description: "MOTCUA_DEVBROKER_CONTROL='\(control)' is not host:port; run tools/dev-up")
        }
        let result = try httpRequest(
            port: port, path: "/topics?name=\(name)&partitions=\(partitions)", method: "POST", timeout: 30)
        guard result.status == 201 else {
            throw ControlFailed(description: "devbroker refused topic \(name): \(result.status) \(result.body)")
        }
    }
}
