import Foundation

/// What every benchmark executable needs: reproducible random numbers and ids, medians, durations, and failing with
/// a message.

/// SplitMix64: a small, fast, reproducible generator (the benchmarks' data must be the same from run to run).
public struct SplitMix64 {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A version-4 UUID's bytes from two draws of `generator`.
public func uuidBytes(_ generator: inout SplitMix64) -> uuid_t {
    let a = generator.next(), b = generator.next()
    func byte(_ word: UInt64, _ i: Int) -> UInt8 { UInt8(truncatingIfNeeded: word >> (8 * i)) }
    return (byte(a, 0), byte(a, 1), byte(a, 2), byte(a, 3), byte(a, 4), byte(a, 5), byte(a, 6) & 0x0F | 0x40, byte(a, 7),
            byte(b, 0) & 0x3F | 0x80, byte(b, 1), byte(b, 2), byte(b, 3), byte(b, 4), byte(b, 5), byte(b, 6), byte(b, 7))
}

/// The median (the mean of the two middle values for an even count); NaN for none.
public func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/// A duration in seconds.
public func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

/// Prints `<program>: error: message` on standard error and exits 1.
public func fail(_ message: String) -> Never {
    let program = URL(fileURLWithPath: CommandLine.arguments.first ?? "benchmark").lastPathComponent
    FileHandle.standardError.write(Data("\(program): error: \(message)\n".utf8))
    exit(1)
}
