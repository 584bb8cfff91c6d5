/// Where the engine puts what cannot be processed: every input topic has a `.dlq` twin.
public enum DeadLetter {
    /// The dead-letter twin of `topic`.
    public static func topic(of topic: String) -> String { topic + ".dlq" }

    /// How much of an oversized message a dead letter keeps. Default: 1 KiB.
    public static let keptHead = 1_024
}
