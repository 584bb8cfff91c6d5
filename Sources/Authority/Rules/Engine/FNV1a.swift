/// FNV-1a, 64 bits: the one definition of the hash behind the rule engine's string tables and the simulators'
/// reproducible draws. Not for security.
public enum FNV1a {
    public static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    public static let prime: UInt64 = 0x100_0000_01b3

    /// The hash after one more byte.
    @inlinable @inline(__always)
    public static func combine(_ hash: UInt64, _ byte: UInt8) -> UInt64 { (hash ^ UInt64(byte)) &* prime }

    /// The hash of `bytes`, starting from `seed` (default: the offset basis).
    @inlinable @inline(__always)
    public static func hash<C: Sequence>(_ bytes: C, seed: UInt64 = offsetBasis) -> UInt64 where C.Element == UInt8 {
        var hash = seed
        for byte in bytes { hash = combine(hash, byte) }
        return hash
    }
}
