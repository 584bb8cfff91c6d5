import Foundation

/// An exact replacement for `[String: Int]` lookups on the evaluation hot path: ASCII keys are found with a cheap
/// unseeded hash of their bytes instead of SipHash over the normalized string.
///
/// Two ASCII strings are equal (canonically equivalent) exactly when their bytes are; anything involving a
/// non-ASCII string falls back to the dictionary, so answers are always those of `[String: Int]`.
struct StringIndex: Sendable {
    private let dictionary: [String: Int]
    /// Open addressing over the ASCII keys: index into `keys`, or -1.
    private let table: [Int32]
    private let hashes: [UInt64]
    private let keys: [String]
    private let values: [Int]
    /// A non-ASCII key might equal an ASCII query (a canonical decomposition to ASCII), so misses are rechecked.
    private let hasNonASCIIKeys: Bool

    init(_ dictionary: [String: Int]) {
        self.dictionary = dictionary
        var keys: [String] = []
        var values: [Int] = []
        var hashes: [UInt64] = []
        var nonASCII = false
        for (key, value) in dictionary.sorted(by: { $0.key < $1.key }) {
            guard let hash = StringIndex.asciiHash(key) else {
                nonASCII = true
                continue
            }
            keys.append(key)
            values.append(value)
            hashes.append(hash)
        }
        var capacity = 4
        while capacity < 2 * keys.count { capacity *= 2 }
        var table = [Int32](repeating: -1, count: capacity)
        for (i, hash) in hashes.enumerated() {
            var b = Int(truncatingIfNeeded: hash) & (capacity - 1)
            while table[b] >= 0 { b = (b + 1) & (capacity - 1) }
            table[b] = Int32(i)
        }
        self.keys = keys
        self.values = values
        self.hashes = hashes
        self.table = table
        hasNonASCIIKeys = nonASCII
    }

    /// FNV-1a over the bytes, or nil when the string is not ASCII.
    @inline(__always)
    static func asciiHash(_ s: String) -> UInt64? {
        StringLayout.withUTF8(s) { bytes -> UInt64? in
            var hash = FNV1a.offsetBasis
            var high: UInt8 = 0
            for byte in bytes {
                high |= byte
                hash = FNV1a.combine(hash, byte)
            }
            return high < 0x80 ? hash : nil
        }
    }

    subscript(_ key: String) -> Int? {
        self[key, hash: StringIndex.asciiHash(key)]
    }

    /// The lookup with `hash` = `asciiHash(key)` computed by the caller, so that one key looked up in several
    /// indices is hashed once.
    subscript(_ key: String, hash hash: UInt64?) -> Int? {
        guard let hash else { return dictionary[key] }
        let mask = table.count - 1
        var b = Int(truncatingIfNeeded: hash) & mask
        while true {
            let i = Int(table[b])
            if i < 0 { break }
            if hashes[i] == hash && keys[i] == key { return values[i] }
            b = (b + 1) & mask
        }
        return hasNonASCIIKeys ? dictionary[key] : nil
    }
}
