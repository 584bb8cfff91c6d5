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
        let result = s.utf8.withContiguousStorageIfAvailable { bytes -> UInt64? in
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            var high: UInt8 = 0
            for byte in bytes {
                high |= byte
                hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
            }
            return high < 0x80 ? hash : nil
        }
        return result ?? nil
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

/// Strings found by the 16 bytes of their representation: a dossier's string that is the same small string as a
/// rule's (up to 15 UTF-8 bytes, stored inline) is found with two word comparisons, no hashing of its characters.
///
/// Two strings with the same representation are the same string, so a hit is always right. The same string can
/// have other representations (a heap buffer, another normalization), so a miss proves nothing unless
/// ``isSmallASCII(_:)`` holds for the string looked up and every string of its `key` is ASCII (see ``find(_:key:)``).
struct RawStringTable: Sendable {
    struct Entry: Sendable {
        var w0: UInt64
        var w1: UInt64
        var key: Int32
        var value: Int32
    }

    /// Open addressing; `value` -1 marks an empty entry.
    private let entries: [Entry]
    /// The strings whose words are in `entries`, kept alive with the table: a string stored in a heap buffer has
    /// its address in its words, which must not be reused by another string while the table holds them.
    private let strings: [String]

    /// Whether a string's representation is two words here; otherwise the table stays empty and finds nothing.
    @inline(__always)
    static var enabled: Bool { MemoryLayout<String>.size == 16 }

    /// Whether the small-string layout is the one ``isSmallASCII(_:)`` reads: an ASCII string of up to 15 bytes
    /// stored inline, its bytes in order from the first word's low byte, unused bytes zero, and the last byte
    /// 0xE0 + its length (flags: immortal, small, ASCII). Checked once on this platform's standard library;
    /// when it does not hold, misses are never taken as proof.
    static let smallLayoutKnown: Bool = {
        guard enabled else { return false }
        func bytes(_ s: String) -> String { String(decoding: Array(s.utf8), as: UTF8.self) }
        let probes = ["", "a", "abc", "textiles", "0123456789abcde"]
        for probe in probes {
            let (w0, w1) = words(bytes(probe))
            var expected0: UInt64 = 0
            var expected1: UInt64 = 0
            for (i, byte) in probe.utf8.enumerated() {
                if i < 8 {
                    expected0 |= UInt64(byte) << (8 * UInt64(i))
                } else {
                    expected1 |= UInt64(byte) << (8 * UInt64(i - 8))
                }
            }
            expected1 |= (0xE0 | UInt64(probe.utf8.count)) << 56
            if w0 != expected0 || w1 != expected1 { return false }
        }
        // Neither a non-ASCII small string nor a heap string looks like a small ASCII one.
        if words(bytes("é")).1 >> 60 == 0xE { return false }
        var heap = bytes("abc")
        heap.reserveCapacity(64)
        if words(heap).1 >> 60 == 0xE { return false }
        if words(bytes("0123456789abcdef")).1 >> 60 == 0xE { return false }
        return true
    }()

    /// Whether `s` is stored inline as ASCII (only meaningful when `smallLayoutKnown`).
    @inline(__always)
    static func isSmallASCII(_ s: String) -> Bool {
        words(s).1 >> 60 == 0xE
    }

    /// `strings`: (string, key, value); the first value of a string under a key wins.
    init(_ strings: [(String, Int32, Int32)]) {
        guard RawStringTable.enabled, !strings.isEmpty else {
            entries = [Entry(w0: 0, w1: 0, key: 0, value: -1)]
            self.strings = []
            return
        }
        var kept: [String] = []
        // At most a quarter full: most lookups on the hot path are misses (a dossier's value that no rule
        // names), and a miss ends at the first empty entry.
        var capacity = 8
        while capacity < 4 * strings.count { capacity *= 2 }
        var entries = [Entry](repeating: Entry(w0: 0, w1: 0, key: 0, value: -1), count: capacity)
        for (string, key, value) in strings {
            // The usual form of a short string: built from its bytes, it is stored inline.
            let canonical = String(decoding: Array(string.utf8), as: UTF8.self)
            kept.append(canonical)
            let (w0, w1) = RawStringTable.words(canonical)
            var i = RawStringTable.hash(w0, w1, key) & (capacity - 1)
            var duplicate = false
            while entries[i].value >= 0 {
                if entries[i].w0 == w0 && entries[i].w1 == w1 && entries[i].key == key { duplicate = true }
                i = (i + 1) & (capacity - 1)
            }
            if !duplicate { entries[i] = Entry(w0: w0, w1: w1, key: key, value: value) }
        }
        self.entries = entries
        self.strings = kept
    }

    /// Whether every ASCII string of up to 15 bytes among `strings` is stored inline when built from its bytes, so
    /// that a small ASCII string missing from the table equals none of them.
    static func allSmall(_ strings: [String]) -> Bool {
        guard smallLayoutKnown else { return false }
        for s in strings where s.utf8.count <= 15 && s.utf8.allSatisfy({ $0 < 0x80 }) {
            if !isSmallASCII(String(decoding: Array(s.utf8), as: UTF8.self)) { return false }
        }
        return true
    }

    @inline(__always)
    static func words(_ s: String) -> (UInt64, UInt64) {
        unsafeBitCast(s, to: (UInt64, UInt64).self)
    }

    @inline(__always)
    static func hash(_ w0: UInt64, _ w1: UInt64, _ key: Int32) -> Int {
        // Short strings that differ in one byte (`mining2`, `mining7`) must not share a run of entries: every
        // byte of both words reaches the high half of the last product, whose top bits are taken.
        var h = (w0 &* 0x9E37_79B9_7F4A_7C15) ^ w1 ^ UInt64(UInt32(bitPattern: key))
        h = (h ^ (h >> 29)) &* 0xBF58_476D_1CE4_E5B9
        return Int(truncatingIfNeeded: h >> 40)
    }

    /// The value stored for a string with `s`'s representation under `key`, or -1.
    ///
    /// A miss proves that `s` equals none of the key's strings when `smallLayoutKnown`, `isSmallASCII(s)`, every
    /// string of the key is ASCII and `allSmall` held for them: `s` then has the one representation of its bytes,
    /// and an ASCII string equals another exactly when their bytes are equal.
    @inline(__always)
    func find(_ s: String, key: Int32 = 0) -> Int32 {
        guard RawStringTable.enabled else { return -1 }
        let (w0, w1) = RawStringTable.words(s)
        return entries.withUnsafeBufferPointer { e in
            let mask = e.count - 1
            var i = RawStringTable.hash(w0, w1, key) & mask
            while true {
                let entry = e[i]
                if entry.value < 0 { return -1 }
                if entry.w0 == w0 && entry.w1 == w1 && entry.key == key { return entry.value }
                i = (i + 1) & mask
            }
        }
    }

    /// String equality (`==`, canonical equivalence), cheaper for the strings the hot path compares: the same
    /// representation is the same string; two different small ASCII strings differ; equal bytes are the same
    /// string; different bytes differ when both strings are ASCII; anything else is left to `==`.
    @inline(__always)
    static func equal(_ a: String, _ b: String) -> Bool {
        guard enabled else { return a == b }
        let (a0, a1) = words(a)
        let (b0, b1) = words(b)
        if a0 == b0 && a1 == b1 { return true }
        if smallLayoutKnown && a1 >> 60 == 0xE && b1 >> 60 == 0xE { return false }
        return bytesEqual(a, b)
    }

    /// Whether `a` and `b` are the same two words, hence the same string. `false` proves nothing.
    @inline(__always)
    static func sameRepresentation(_ a: String, _ b: String) -> Bool {
        guard enabled else { return false }
        let (a0, a1) = words(a)
        let (b0, b1) = words(b)
        return a0 == b0 && a1 == b1
    }

    /// Whether `a` and `b` are the same representation or have the same UTF-8 bytes; then they are equal. `false`
    /// proves nothing (canonically equivalent spellings have different bytes): the caller then compares with `==`.
    @inline(__always)
    static func sameBytes(_ a: String, _ b: String) -> Bool {
        if enabled {
            let (a0, a1) = words(a)
            let (b0, b1) = words(b)
            if a0 == b0 && a1 == b1 { return true }
        }
        let n = a.utf8.count
        guard n == b.utf8.count else { return false }
        if n == 0 { return true }
        let same = a.utf8.withContiguousStorageIfAvailable { x in
            b.utf8.withContiguousStorageIfAvailable { y in
                RawStringTable.bytesMatch(UnsafeRawPointer(x.baseAddress!), UnsafeRawPointer(y.baseAddress!), n)
            }
        }
        return (same ?? nil) ?? false
    }

    /// Whether `n` bytes at `x` and `y` are equal: eight at a time (a call to `memcmp` costs more for the short
    /// strings compared here).
    @inline(__always)
    static func bytesMatch(_ x: UnsafeRawPointer, _ y: UnsafeRawPointer, _ n: Int) -> Bool {
        var i = 0
        while i + 8 <= n {
            if x.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                != y.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            {
                return false
            }
            i += 8
        }
        while i < n {
            if x.load(fromByteOffset: i, as: UInt8.self) != y.load(fromByteOffset: i, as: UInt8.self) { return false }
            i += 1
        }
        return true
    }

    private static func bytesEqual(_ a: String, _ b: String) -> Bool {
        let fast = a.utf8.withContiguousStorageIfAvailable { x -> Bool? in
            b.utf8.withContiguousStorageIfAvailable { y -> Bool? in
                if x.count == y.count && memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0 { return true }
                var high: UInt8 = 0
                for byte in x { high |= byte }
                for byte in y { high |= byte }
                return high < 0x80 ? false : nil
            } ?? nil
        }
        return (fast ?? nil) ?? (a == b)
    }
}
