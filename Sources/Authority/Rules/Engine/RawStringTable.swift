/// Strings found by the 16 bytes of their representation: a dossier's string that is the same small string as a
/// rule's (up to 15 UTF-8 bytes, stored inline) is found with two word comparisons, no hashing of its characters.
///
/// Two strings with the same representation are the same string, so a hit is always right. The same string can
/// have other representations (a heap buffer, another normalization), so a miss proves nothing unless
/// ``isSmallASCII(_:)`` holds for the string looked up and every string of its `key` is ASCII (see ``find(_:key:)``).
/// The representation is read by `StringLayout`; where it is not two words, the table stays empty and finds nothing.
struct RawStringTable: Sendable {
    struct Entry: Sendable {
        var representation: StringLayout.Representation
        var key: Int32
        var value: Int32

        static let empty = Entry(representation: .init(w0: 0, w1: 0), key: 0, value: -1)
    }

    /// Open addressing; `value` -1 marks an empty entry.
    private let entries: [Entry]
    /// The strings whose words are in `entries`, kept alive with the table: a string stored in a heap buffer has
    /// its address in its words, which must not be reused by another string while the table holds them.
    private let strings: [String]

    /// See `StringLayout.smallLayoutKnown`.
    static var smallLayoutKnown: Bool { StringLayout.smallLayoutKnown }

    /// Whether `s` is stored inline as ASCII (only meaningful when `smallLayoutKnown`).
    @inline(__always)
    static func isSmallASCII(_ s: String) -> Bool { StringLayout.isSmallASCII(s) }

    /// See `StringLayout.equal`.
    @inline(__always)
    static func equal(_ a: String, _ b: String) -> Bool { StringLayout.equal(a, b) }

    /// See `StringLayout.sameBytes`.
    @inline(__always)
    static func sameBytes(_ a: String, _ b: String) -> Bool { StringLayout.sameBytes(a, b) }

    /// Whether `a` and `b` are the same two words, hence the same string. `false` proves nothing.
    @inline(__always)
    static func sameRepresentation(_ a: String, _ b: String) -> Bool {
        StringLayout.enabled && StringLayout.representation(of: a) == StringLayout.representation(of: b)
    }

    /// `strings`: (string, key, value); the first value of a string under a key wins.
    init(_ strings: [(String, Int32, Int32)]) {
        guard StringLayout.enabled, !strings.isEmpty else {
            entries = [Entry.empty]
            self.strings = []
            return
        }
        var kept: [String] = []
        // At most a quarter full: most lookups on the hot path are misses (a dossier's value that no rule
        // names), and a miss ends at the first empty entry.
        var capacity = 8
        while capacity < 4 * strings.count { capacity *= 2 }
        var entries = [Entry](repeating: Entry.empty, count: capacity)
        for (string, key, value) in strings {
            // The usual form of a short string: built from its bytes, it is stored inline.
            let canonical = String(decoding: Array(string.utf8), as: UTF8.self)
            kept.append(canonical)
            let r = StringLayout.representation(of: canonical)
            var i = RawStringTable.hash(r, key) & (capacity - 1)
            var duplicate = false
            while entries[i].value >= 0 {
                if entries[i].representation == r && entries[i].key == key { duplicate = true }
                i = (i + 1) & (capacity - 1)
            }
            if !duplicate { entries[i] = Entry(representation: r, key: key, value: value) }
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
    static func hash(_ r: StringLayout.Representation, _ key: Int32) -> Int {
        // Short strings that differ in one byte (`mining2`, `mining7`) must not share a run of entries: every
        // byte of both words reaches the high half of the last product, whose top bits are taken.
        var h = (r.w0 &* 0x9E37_79B9_7F4A_7C15) ^ r.w1 ^ UInt64(UInt32(bitPattern: key))
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
        guard StringLayout.enabled else { return -1 }
        let r = StringLayout.representation(of: s)
        return entries.withUnsafeBufferPointer { e in
            let mask = e.count - 1
            var i = RawStringTable.hash(r, key) & mask
            while true {
                let entry = e[i]
                if entry.value < 0 { return -1 }
                if entry.representation == r && entry.key == key { return entry.value }
                i = (i + 1) & mask
            }
        }
    }
}
