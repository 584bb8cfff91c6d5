/// The distinct strings each slot of a condition program is compared with (eq, ne, in, notIn), by slot: a
/// dossier's string is looked up once per evaluation and gets its id among them, and conditions test a bit of a
/// mask (`ConditionProgram.Precomputed`).
///
/// Lookups are exact (String equality, canonical equivalence): by representation when that decides, then by the
/// bytes of an ASCII string, then by comparing Strings.
struct InternedStrings: Sendable {
    /// Slots compared with more strings than this are not interned (their comparisons are tested in general).
    static let maximumPerSlot = 64

    /// Per slot, a range of `strings`: its first string and how many (0 when the slot has none or too many).
    private let first: [Int32]
    private let count: [Int32]
    private let strings: [String]
    /// The bytes of each ASCII string of `strings` (`length` -1 when not ASCII).
    private let bytes: [UInt8]
    private let start: [Int32]
    private let length: [Int32]
    /// Per slot: every string it is compared with is ASCII, so an ASCII string is found by hash and bytes.
    private let allASCII: [Bool]
    /// The strings of each all-ASCII slot by representation (key: the slot; value: the id), and per slot whether
    /// a small ASCII string's miss there is proof that it is none of them (see `RawStringTable.find`).
    private let representations: RawStringTable
    private let definitive: [Bool]
    /// Open addressing over the strings of those slots: index into `strings`, or -1.
    private let table: [Int32]
    private let hashes: [UInt64]
    private let slots: [Int32]

    /// `lists`: per slot, its distinct strings.
    init(_ lists: [[String]]) {
        let slotCount = lists.count
        var first: [Int32] = []
        var count: [Int32] = []
        var strings: [String] = []
        var bytes: [UInt8] = []
        var start: [Int32] = []
        var length: [Int32] = []
        for list in lists {
            first.append(Int32(strings.count))
            count.append(list.count <= InternedStrings.maximumPerSlot ? Int32(list.count) : 0)
            for string in list {
                strings.append(string)
                start.append(Int32(bytes.count))
                if string.utf8.allSatisfy({ $0 < 0x80 }) {
                    length.append(Int32(string.utf8.count))
                    bytes.append(contentsOf: string.utf8)
                } else {
                    length.append(-1)
                }
            }
        }
        // The ASCII strings of the slots whose strings are all ASCII, by hash (slot mixed in).
        var allASCII = [Bool](repeating: true, count: slotCount)
        for slot in 0..<slotCount where count[slot] > 0 {
            let from = Int(first[slot])
            for e in from..<(from + Int(count[slot])) where length[e] < 0 { allASCII[slot] = false }
        }
        var hashes = [UInt64](repeating: 0, count: strings.count)
        var slots = [Int32](repeating: -1, count: strings.count)
        var hashed: [Int] = []
        for slot in 0..<slotCount where count[slot] > 0 && allASCII[slot] {
            let from = Int(first[slot])
            for e in from..<(from + Int(count[slot])) {
                hashes[e] = InternedStrings.hash(strings[e].utf8, slot: slot)
                slots[e] = Int32(slot)
                hashed.append(e)
            }
        }
        var capacity = 4
        while capacity < 2 * hashed.count { capacity *= 2 }
        var table = [Int32](repeating: -1, count: capacity)
        for e in hashed {
            var b = Int(truncatingIfNeeded: hashes[e]) & (capacity - 1)
            while table[b] >= 0 { b = (b + 1) & (capacity - 1) }
            table[b] = Int32(e)
        }
        var representations: [(String, Int32, Int32)] = []
        var definitive = [Bool](repeating: false, count: slotCount)
        for slot in 0..<slotCount where count[slot] > 0 && allASCII[slot] {
            let from = Int(first[slot])
            let list = Array(strings[from..<(from + Int(count[slot]))])
            definitive[slot] = RawStringTable.allSmall(list)
            for (k, string) in list.enumerated() { representations.append((string, Int32(slot), Int32(k))) }
        }
        self.representations = RawStringTable(representations)
        self.first = first
        self.count = count
        self.strings = strings
        self.bytes = bytes
        self.start = start
        self.length = length
        self.allASCII = allASCII
        self.definitive = definitive
        self.table = table
        self.hashes = hashes
        self.slots = slots
    }

    /// FNV-1a over the bytes, seeded with the slot.
    @inline(__always)
    static func hash<C: Sequence>(_ bytes: C, slot: Int) -> UInt64 where C.Element == UInt8 {
        FNV1a.hash(bytes, seed: FNV1a.offsetBasis ^ (UInt64(truncatingIfNeeded: slot) &* 0x9E37_79B9_7F4A_7C15))
    }

    /// The id of `s` among the strings slot `slot` is compared with, or -1 (not among them, or none are).
    @inline(__always)
    func id(of s: String, slot: Int) -> Int64 {
        // The usual case inline: a small ASCII string against a slot where its representation decides.
        if definitive.withUnsafeBufferPointer({ $0[slot] }) && RawStringTable.isSmallASCII(s) {
            return Int64(representations.find(s, key: Int32(slot)))
        }
        return idSlowly(of: s, slot: slot)
    }

    @inline(never)
    private func idSlowly(of s: String, slot: Int) -> Int64 {
        let n = Int(count[slot])
        if n == 0 { return -1 }
        if definitive[slot] && RawStringTable.isSmallASCII(s) {
            return Int64(representations.find(s, key: Int32(slot)))
        }
        let from = Int(first[slot])
        if allASCII[slot] {
            // Two ASCII strings are equal exactly when their bytes are. A non-ASCII `s` may still equal an ASCII
            // literal (U+212A KELVIN SIGN is K): compared as Strings below.
            let found = StringLayout.withUTF8(s) { b -> Int64? in
                var high: UInt8 = 0
                for byte in b { high |= byte }
                guard high < 0x80 else { return nil }
                let hash = InternedStrings.hash(b, slot: slot)
                return table.withUnsafeBufferPointer { table -> Int64 in
                    let mask = table.count - 1
                    var i = Int(truncatingIfNeeded: hash) & mask
                    while true {
                        let e = Int(table[i])
                        if e < 0 { return -1 }
                        if hashes[e] == hash && slots[e] == Int32(slot) && Int(length[e]) == b.count {
                            let offset = Int(start[e])
                            let same = bytes.withUnsafeBufferPointer { bytes in
                                var j = 0
                                while j < b.count && bytes[offset + j] == b[j] { j += 1 }
                                return j == b.count
                            }
                            if same { return Int64(e - from) }
                        }
                        i = (i + 1) & mask
                    }
                }
            }
            if let found { return found }
        }
        for k in 0..<n where strings[from + k] == s { return Int64(k) }
        return -1
    }
}
