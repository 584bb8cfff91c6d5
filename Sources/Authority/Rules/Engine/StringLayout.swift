import Foundation

/// The only code of the module that reads a String's storage or representation.
///
/// Two kinds of access, each with a fallback that needs neither:
/// - the UTF-8 bytes in place (``withUTF8(_:_:)``): when a string is not stored as contiguous UTF-8 (a bridged
///   string, for instance), its bytes are copied into an array first, so callers always get the same bytes;
/// - the two words of the representation (``representation(of:)``, ``isSmallASCII(_:)``): used only where equal
///   words prove equal strings. When a String is not two words on this platform, or its small-string layout is not
///   the one checked at start-up (``smallLayoutKnown``), callers are told (``enabled``) and compare Strings instead.
enum StringLayout {
    /// The two words of a String's representation. Equal words are the same string; different words prove
    /// nothing (the same string can be stored differently).
    struct Representation: Sendable, Equatable {
        var w0: UInt64
        var w1: UInt64
    }

    /// Calls `body` with the UTF-8 bytes of `s`: in place when the string is contiguous UTF-8, else from a copy.
    @inline(__always)
    static func withUTF8<R>(_ s: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if let result = s.utf8.withContiguousStorageIfAvailable(body) { return result }
        // `body` is only ever called inline: handed to a function that is not inlined, a closure that captures
        // variables of the caller made them subject to dynamic exclusivity checks on the hot path.
        return copiedUTF8(s).withUnsafeBufferPointer(body)
    }

    /// The fallback of `withUTF8`: not contiguous UTF-8, so the bytes are copied.
    @inline(never)
    private static func copiedUTF8(_ s: String) -> [UInt8] {
        Array(s.utf8)
    }

    /// Whether a string's representation is two words here; otherwise `representation(of:)` is never read.
    @inline(__always)
    static var enabled: Bool { MemoryLayout<String>.size == 16 }

    /// The representation of `s` (only meaningful when `enabled`).
    @inline(__always)
    static func representation(of s: String) -> Representation {
        guard enabled else { return Representation(w0: 0, w1: 0) }
        let (w0, w1) = unsafeBitCast(s, to: (UInt64, UInt64).self)
        return Representation(w0: w0, w1: w1)
    }

    /// Whether the small-string layout is the one ``isSmallASCII(_:)`` reads: an ASCII string of up to 15 bytes
    /// stored inline, its bytes in order from the first word's low byte, unused bytes zero, and the last byte
    /// 0xE0 + its length (flags: immortal, small, ASCII). Checked once on this platform's standard library;
    /// when it does not hold, misses are never taken as proof.
    static let smallLayoutKnown: Bool = {
        guard enabled else { return false }
        func bytes(_ s: String) -> String { String(decoding: Array(s.utf8), as: UTF8.self) }
        let probes = ["", "a", "abc", "textiles", "0123456789abcde"]
        for probe in probes {
            let r = representation(of: bytes(probe))
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
            if r.w0 != expected0 || r.w1 != expected1 { return false }
        }
        // Neither a non-ASCII small string nor a heap string looks like a small ASCII one.
        if representation(of: bytes("é")).w1 >> 60 == 0xE { return false }
        var heap = bytes("abc")
        heap.reserveCapacity(64)
        if representation(of: heap).w1 >> 60 == 0xE { return false }
        if representation(of: bytes("0123456789abcdef")).w1 >> 60 == 0xE { return false }
        return true
    }()

    /// Whether `s` is stored inline as ASCII (only meaningful when `smallLayoutKnown`).
    @inline(__always)
    static func isSmallASCII(_ s: String) -> Bool {
        isSmallASCII(representation(of: s))
    }

    @inline(__always)
    static func isSmallASCII(_ r: Representation) -> Bool {
        r.w1 >> 60 == 0xE
    }

    /// Whether `a` and `b` are the same representation or have the same UTF-8 bytes; then they are equal. `false`
    /// proves nothing (canonically equivalent spellings have different bytes): the caller then compares with `==`.
    @inline(__always)
    static func sameBytes(_ a: String, _ b: String) -> Bool {
        if enabled && representation(of: a) == representation(of: b) { return true }
        let n = a.utf8.count
        guard n == b.utf8.count else { return false }
        if n == 0 { return true }
        return withUTF8(a) { x in
            withUTF8(b) { y in
                bytesMatch(UnsafeRawPointer(x.baseAddress!), UnsafeRawPointer(y.baseAddress!), n)
            }
        }
    }

    /// String equality (`==`, canonical equivalence), cheaper for the strings the hot path compares: the same
    /// representation is the same string; two different small ASCII strings differ; equal bytes are the same
    /// string; different bytes differ when both strings are ASCII; anything else is left to `==`.
    @inline(__always)
    static func equal(_ a: String, _ b: String) -> Bool {
        guard enabled else { return a == b }
        let ra = representation(of: a)
        let rb = representation(of: b)
        if ra == rb { return true }
        if smallLayoutKnown && isSmallASCII(ra) && isSmallASCII(rb) { return false }
        return bytesEqual(a, b)
    }

    private static func bytesEqual(_ a: String, _ b: String) -> Bool {
        let decided = withUTF8(a) { x -> Bool? in
            withUTF8(b) { y -> Bool? in
                if x.count == y.count && (x.count == 0 || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0) {
                    return true
                }
                var high: UInt8 = 0
                for byte in x { high |= byte }
                for byte in y { high |= byte }
                return high < 0x80 ? false : nil
            }
        }
        return decided ?? (a == b)
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
}
