import Foundation
import Yams

/// The topics of `deploy/topics.yaml`: partition counts and the largest message each takes. The one list of them:
/// the devbroker creates them from it, `motcua topics create` and the tests too, and the writers check their
/// messages against its `maxMessageBytes`.
public struct TopicSpecs: Sendable, Hashable {
    /// Partitions by topic name (unprefixed).
    public var partitions: [String: Int]
    /// `maxMessageBytes` by topic name (unprefixed), where given.
    public var maxMessageBytes: [String: Int]
    /// Where they were read.
    public var file: String

    private struct File: Decodable {
        struct Topic: Decodable {
            var name: String
            var partitions: Int
            var maxMessageBytes: Int?
        }
        var topics: [Topic]
    }

    /// A topic the system uses is not in the file.
    public struct Missing: Error, CustomStringConvertible {
        public var topic: String
        public var file: String
        public var description: String { "topic '\(topic)' is not listed in \(file): add it (name, partitions, maxMessageBytes)" }
    }

    /// The file cannot be read or does not describe topics.
    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    /// Reads a topic list (`topics: [{name, partitions, maxMessageBytes}]`).
    public static func load(from url: URL) throws -> TopicSpecs {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw Invalid(description: "cannot read the topic list \(url.path): pass the deploy directory that holds topics.yaml")
        }
        let file: File
        do {
            file = try YAMLDecoder().decode(File.self, from: text)
        } catch {
            throw Invalid(description: "\(url.path) is not a topic list (topics: [{name, partitions, maxMessageBytes}]): \(error)")
        }
        var specs = TopicSpecs(partitions: [:], maxMessageBytes: [:], file: url.path)
        for topic in file.topics {
            guard topic.partitions > 0 else {
                throw Invalid(description: "\(url.path): topic \(topic.name) has \(topic.partitions) partitions; give 1 or more")
            }
            specs.partitions[topic.name] = topic.partitions
            if let limit = topic.maxMessageBytes {
                guard limit >= 1_024 else {
                    throw Invalid(description: "\(url.path): topic \(topic.name) maxMessageBytes \(limit) is below 1024 bytes; give the topic's max.message.bytes")
                }
                specs.maxMessageBytes[topic.name] = limit
            }
        }
        return specs
    }

    /// `topics.yaml` of a deploy directory.
    public static func load(deploy directory: String) throws -> TopicSpecs {
        try load(from: URL(fileURLWithPath: directory).appendingPathComponent("topics.yaml"))
    }
}
