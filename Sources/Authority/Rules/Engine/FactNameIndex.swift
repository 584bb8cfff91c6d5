/// A condition program's fact names → slots, for finding a dossier's fact names without hashing them with SipHash
/// (which dominated the evaluation profile).
///
/// Exact, as a dictionary compares its keys (canonical equivalence): a name stored as one of the program's names
/// is found by its representation; an ASCII name by a small open hash (length, first and last bytes) and its
/// bytes, since two ASCII strings are equal exactly when their bytes are; a non-ASCII name (on either side) is
/// compared as a String with every name, since canonically equivalent spellings have different bytes.
struct FactNameIndex: Sendable {
    /// Slot → name.
    let names: [String]
    /// Names → slot by their representation (hits only).
    let representations: RawStringTable
    /// The UTF-8 bytes of each name (`start`, `length`).
    private let bytes: [UInt8]
    private let start: [Int32]
    private let length: [Int32]
    /// Whether a name is not ASCII: then names are also compared as Strings.
    private let hasNonASCIINames: Bool
    /// Buckets of the small open hash over the names, and the next slot of the same bucket.
    static let bucketCount = 64
    private let buckets: [Int32]
    private let chain: [Int32]

    init(_ names: [String]) {
        self.names = names
        var bytes: [UInt8] = []
        var start: [Int32] = []
        var length: [Int32] = []
        var hasNonASCIINames = false
        for name in names {
            start.append(Int32(bytes.count))
            length.append(Int32(name.utf8.count))
            bytes.append(contentsOf: name.utf8)
            if !name.utf8.allSatisfy({ $0 < 0x80 }) { hasNonASCIINames = true }
        }
        self.bytes = bytes
        self.start = start
        self.length = length
        self.hasNonASCIINames = hasNonASCIINames
        representations = RawStringTable(names.enumerated().map { ($1, 0, Int32($0)) })
        var buckets = [Int32](repeating: -1, count: FactNameIndex.bucketCount)
        var chain = [Int32](repeating: -1, count: names.count)
        for (slot, name) in names.enumerated().reversed() {
            let b = StringLayout.withUTF8(name) { FactNameIndex.bucket($0) }
            chain[slot] = buckets[b]
            buckets[b] = Int32(slot)
        }
        self.buckets = buckets
        self.chain = chain
    }

    /// The bucket of a name's bytes: length, first and last bytes.
    @inline(__always)
    static func bucket(_ b: UnsafeBufferPointer<UInt8>) -> Int {
        guard let first = b.first, let last = b.last else { return 0 }
        return (b.count &* 7 &+ Int(first) &* 13 &+ Int(last) &* 31) & (bucketCount - 1)
    }

    /// The slot of fact `name`, or -1; first by its representation.
    @inline(__always)
    func slot(ofFactNamed name: String) -> Int32 {
        let known = representations.find(name)
        return known >= 0 ? known : slot(ofFact: name)
    }

    /// The slot of fact `name`, or -1.
    func slot(ofFact name: String) -> Int32 {
        withNameTable { FactNameIndex.find(name, $0) } ?? exactSlot(ofName: name)
    }

    /// The name table as buffers, read by `find` without touching the arrays' references per lookup.
    struct NameTable {
        var buckets: UnsafeBufferPointer<Int32>
        var chain: UnsafeBufferPointer<Int32>
        var start: UnsafeBufferPointer<Int32>
        var length: UnsafeBufferPointer<Int32>
        var bytes: UnsafeBufferPointer<UInt8>
        var hasNonASCIINames: Bool
    }

    func withNameTable<R>(_ body: (NameTable) -> R) -> R {
        buckets.withUnsafeBufferPointer { buckets in
            chain.withUnsafeBufferPointer { chain in
                start.withUnsafeBufferPointer { start in
                    length.withUnsafeBufferPointer { length in
                        bytes.withUnsafeBufferPointer { bytes in
                            body(
                                NameTable(
                                    buckets: buckets, chain: chain, start: start, length: length, bytes: bytes,
                                    hasNonASCIINames: hasNonASCIINames))
                        }
                    }
                }
            }
        }
    }

    /// The slot of an ASCII name by its bytes, -1 when there is none; nil when it must be compared as a String
    /// (a non-ASCII name on either side: canonical equivalence, as a dictionary compares its keys).
    @inline(__always)
    static func find(_ name: String, _ t: NameTable) -> Int32? {
        StringLayout.withUTF8(name) { b -> Int32? in
            var high: UInt8 = 0
            for byte in b { high |= byte }
            guard high < 0x80, !b.isEmpty else { return nil }
            var slot = t.buckets[bucket(b)]
            while slot >= 0 {
                let i = Int(slot)
                if Int(t.length[i]) == b.count {
                    let start = Int(t.start[i])
                    var j = 0
                    while j < b.count && t.bytes[start + j] == b[j] { j += 1 }
                    if j == b.count { return slot }
                }
                slot = t.chain[i]
            }
            return t.hasNonASCIINames ? nil : -1
        }
    }

    /// The slot of the fact named `name` compared as Strings, or -1.
    func exactSlot(ofName name: String) -> Int32 {
        for (i, candidate) in names.enumerated() where candidate == name { return Int32(i) }
        return -1
    }

    /// The slot of a dossier's fact name that the representation table missed, or -1: an ASCII name by the small
    /// hash and its bytes; a non-ASCII name (on either side) compared as a String with every name.
    @inline(never)
    func slot(missedName name: String) -> Int32 {
        if hasNonASCIINames { return exactSlot(ofName: name) }
        let found = StringLayout.withUTF8(name) { b -> Int32? in
            let n = b.count
            guard n > 0, let p = b.baseAddress.map(UnsafeRawPointer.init) else { return nil }
            // ASCII eight bytes at a time.
            var high: UInt64 = 0
            var i = 0
            while i + 8 <= n {
                high |= p.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                i += 8
            }
            while i < n {
                high |= UInt64(p.load(fromByteOffset: i, as: UInt8.self))
                i += 1
            }
            guard high & 0x8080_8080_8080_8080 == 0 else { return nil }
            let hash = FactNameIndex.bucket(b)
            return withNameTable { t -> Int32 in
                var slot = t.buckets[hash]
                while slot >= 0 {
                    let s = Int(slot)
                    if Int(t.length[s]) == n
                        && StringLayout.bytesMatch(UnsafeRawPointer(t.bytes.baseAddress! + Int(t.start[s])), p, n)
                    {
                        return slot
                    }
                    slot = t.chain[s]
                }
                return -1
            }
        }
        // Not ASCII, or empty: compared as Strings.
        return found ?? exactSlot(ofName: name)
    }
}
