/// The canonical form written straight from the JSON's bytes: the one function a signer (``CommandSignature/sign``,
/// `motcua review`) and the verifiers (``OfficialRegistry/verifySignature(command:type:topic:)`` in the workers and
/// the audit replay) make the signed bytes with.
///
/// One pass over the input, appending UTF-8 to one buffer: no tree of values, no Swift strings (but for the rare key
/// outside ASCII, see below), no Foundation. Strings are copied as they are where RFC 8785 keeps them (runs of
/// characters, validated UTF-8) and only escapes are decoded and written again; integers of up to 15 digits are
/// copied (ECMAScript prints them as written), other numbers go through ``CanonicalJSON/formatNumber(_:)``. An
/// object's members are written in the order read, each remembered with its decoded key; when the object ends, they
/// are put in the order of their keys' UTF-16 code units unless they are in it already (the common case: encoders that
/// sort keys).
///
/// It accepts exactly what ``CanonicalJSON/parse(_:)`` accepts and writes exactly what
/// ``CanonicalJSON/text(_:)`` writes of it (pinned by `CanonicalJSONTests`, and compared on generated documents):
/// duplicate keys are refused as a Swift dictionary refuses them, that is by canonical equivalence when a key is not
/// ASCII ("é" and "e\u{301}" are the same key), nesting deeper than 64 too, numbers as Swift's `Double(_:)` reads
/// them.
extension CanonicalJSON {
    /// What ``write(_:removing:into:)`` found besides the canonical bytes.
    struct Written {
        /// Whether the value is an object.
        var isObject = false
        /// Where the values of the top-level members left out lie in the input (their keys as decoded).
        var removed: [(key: String, value: Range<Int>)] = []
    }

    /// Appends the canonical UTF-8 bytes of the JSON value in `input` to `out`, without the top-level members whose
    /// keys are in `removing`.
    static func write(_ input: UnsafeBufferPointer<UInt8>, removing: Set<String>, into out: inout [UInt8])
        throws(ParseError) -> Written
    {
        var writer = Writer(input: input, removing: removing, out: out)
        out = []  // one owner of the buffer while writing: appends do not copy it
        defer { out = writer.out }
        writer.skipSpace()
        writer.out.reserveCapacity(writer.out.count + input.count)
        try writer.value(depth: 0)
        writer.skipSpace()
        guard writer.index == input.count else { throw writer.error("text after the value") }
        return writer.written
    }

    /// Appends the canonical bytes of `bytes` to `out` (see ``write(_:removing:into:)``).
    static func write(_ bytes: some Collection<UInt8>, removing: Set<String>, into out: inout [UInt8])
        throws(ParseError) -> Written
    {
        let result: Result<Written, ParseError>? = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(ParseError) in try write(buffer, removing: removing, into: &out) }
        }
        if let result { return try result.get() }
        let copy = Array(bytes)
        return try copy.withUnsafeBufferPointer { buffer throws(ParseError) in
            try write(buffer, removing: removing, into: &out)
        }
    }

    private struct Writer {
        let input: UnsafeBufferPointer<UInt8>
        let removing: Set<String>
        var out: [UInt8]
        var index = 0
        var written = Written()
        /// The decoded (unescaped) UTF-8 of the keys of the objects being written, innermost last.
        var keys: [UInt8] = []
        /// The members of the objects being written, innermost last.
        var members: [Member] = []
        /// Where an object's members are copied while they are put in order.
        var scratch: [UInt8] = []

        struct Member {
            /// The decoded key in `keys`.
            var keyStart: Int
            var keyEnd: Int
            /// `"key":value` in `out`.
            var start: Int
            var end: Int
            var removed: Bool
        }

        init(input: UnsafeBufferPointer<UInt8>, removing: Set<String>, out: [UInt8]) {
            self.input = input
            self.removing = removing
            self.out = out
        }

        func error(_ problem: String) -> ParseError { ParseError(offset: index, problem: problem) }

        mutating func skipSpace() {
            while index < input.count {
                switch input[index] {
                case 0x20, 0x0A, 0x0D, 0x09: index += 1
                default: return
                }
            }
        }

        mutating func value(depth: Int) throws(ParseError) {
            guard depth < 64 else { throw error("nested too deep") }
            guard index < input.count else { throw error("unexpected end") }
            switch input[index] {
            case UInt8(ascii: "{"): try object(depth: depth)
            case UInt8(ascii: "["): try array(depth: depth)
            case UInt8(ascii: "\""): _ = try string(key: false)
            case UInt8(ascii: "t"): try literal("true")
            case UInt8(ascii: "f"): try literal("false")
            case UInt8(ascii: "n"): try literal("null")
            default: try number()
            }
        }

        mutating func literal(_ text: StaticString) throws(ParseError) {
            let count = text.utf8CodeUnitCount
            guard input.count - index >= count else { throw error("unexpected character") }
            let literal = UnsafeBufferPointer(start: text.utf8Start, count: count)
            for offset in 0..<count where input[index + offset] != literal[offset] {
                throw error("unexpected character")
            }
            out.append(contentsOf: literal)
            index += count
        }

        mutating func array(depth: Int) throws(ParseError) {
            index += 1
            out.append(UInt8(ascii: "["))
            skipSpace()
            if index < input.count, input[index] == UInt8(ascii: "]") {
                index += 1
                out.append(UInt8(ascii: "]"))
                return
            }
            while true {
                skipSpace()
                try value(depth: depth + 1)
                skipSpace()
                guard index < input.count else { throw error("unexpected end") }
                if input[index] == UInt8(ascii: ",") {
                    index += 1
                    out.append(UInt8(ascii: ","))
                    continue
                }
                guard input[index] == UInt8(ascii: "]") else { throw error("expected ',' or ']'") }
                index += 1
                out.append(UInt8(ascii: "]"))
                return
            }
        }

        mutating func object(depth: Int) throws(ParseError) {
            index += 1
            let open = out.count
            out.append(UInt8(ascii: "{"))
            skipSpace()
            if index < input.count, input[index] == UInt8(ascii: "}") {
                index += 1
                out.append(UInt8(ascii: "}"))
                if depth == 0 { written.isObject = true }
                return
            }
            let firstMember = members.count
            let keysStart = keys.count
            var allASCII = true
            var anyRemoved = false
            while true {
                skipSpace()
                guard index < input.count, input[index] == UInt8(ascii: "\"") else { throw error("expected a key") }
                if members.count > firstMember { out.append(UInt8(ascii: ",")) }
                let start = out.count
                let keyStart = keys.count
                let ascii = try string(key: true)
                let keyEnd = keys.count
                allASCII = allASCII && ascii
                skipSpace()
                guard index < input.count, input[index] == UInt8(ascii: ":") else { throw error("expected ':'") }
                index += 1
                out.append(UInt8(ascii: ":"))
                skipSpace()
                let valueStart = index
                try value(depth: depth + 1)
                var removed = false
                if depth == 0, !removing.isEmpty, isRemoved(keyStart..<keyEnd, ascii: ascii) {
                    removed = true
                    anyRemoved = true
                    written.removed.append((String(decoding: keys[keyStart..<keyEnd], as: UTF8.self), valueStart..<index))
                }
                members.append(Member(keyStart: keyStart, keyEnd: keyEnd, start: start, end: out.count, removed: removed))
                skipSpace()
                guard index < input.count else { throw error("unexpected end") }
                if input[index] == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                guard input[index] == UInt8(ascii: "}") else { throw error("expected ',' or '}'") }
                index += 1
                break
            }
            try order(open: open, firstMember: firstMember, allASCII: allASCII, anyRemoved: anyRemoved)
            out.append(UInt8(ascii: "}"))
            members.removeSubrange(firstMember...)
            keys.removeSubrange(keysStart...)
            if depth == 0 { written.isObject = true }
        }

        /// Puts the members of the object opened at `open` in the order of their keys (the `}` not written yet),
        /// refusing duplicate keys, and leaves out the removed ones.
        mutating func order(open: Int, firstMember: Int, allASCII: Bool, anyRemoved: Bool) throws(ParseError) {
            let count = members.count - firstMember
            var sorted = true
            for i in firstMember + 1..<members.count where !precedes(members[i - 1], members[i]) {
                sorted = false
                break
            }
            if !sorted {
                let keys = self.keys
                if count <= 16 {
                    // Insertion sort: objects are small, and nearly in order when not in order.
                    for i in firstMember + 1..<members.count {
                        let member = members[i]
                        var j = i
                        while j > firstMember, Self.precedes(member, members[j - 1], keys: keys) {
                            members[j] = members[j - 1]
                            j -= 1
                        }
                        members[j] = member
                    }
                } else {
                    members[firstMember...].sort { Self.precedes($0, $1, keys: keys) }
                }
                // Equal keys are next to each other now.
                for i in firstMember + 1..<members.count where !precedes(members[i - 1], members[i]) {
                    throw duplicate(members[i])
                }
            }
            if !allASCII {
                // Swift strings are equal by canonical equivalence: so were the keys of the dictionary parse() fills.
                var seen = Set<String>()
                for member in members[firstMember...] {
                    guard seen.insert(key(member)).inserted else { throw duplicate(member) }
                }
            }
            guard !sorted || anyRemoved else { return }
            scratch.removeAll(keepingCapacity: true)
            scratch.append(contentsOf: out[(open + 1)...])
            out.removeSubrange((open + 1)...)
            let base = open + 1
            var first = true
            for member in members[firstMember...] where !member.removed {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                out.append(contentsOf: scratch[(member.start - base)..<(member.end - base)])
            }
        }

        /// Whether the key decoded at `range` of `keys` is one of `removing` (as Swift strings are equal, by
        /// canonical equivalence): an ASCII key by its bytes, which is the same for names made of the ASCII
        /// characters that no other character decomposes to (all but K, ` and ;: `signature` is one), another as a
        /// string.
        func isRemoved(_ range: Range<Int>, ascii: Bool) -> Bool {
            guard ascii else { return removing.contains(String(decoding: keys[range], as: UTF8.self)) }
            return removing.contains { name in name.utf8.elementsEqual(keys[range]) }
        }

        func key(_ member: Member) -> String {
            String(decoding: keys[member.keyStart..<member.keyEnd], as: UTF8.self)
        }

        func duplicate(_ member: Member) -> ParseError { error("key '\(key(member))' twice") }

        func precedes(_ a: Member, _ b: Member) -> Bool { Self.precedes(a, b, keys: keys) }

        /// Whether `a`'s key comes before `b`'s in UTF-16 code units (RFC 8785 section 3.2.3), from their UTF-8: the
        /// same as the bytes' order but where a character above U+FFFF (UTF-8 lead byte F0–F4; UTF-16 surrogates
        /// D800–DBFF) meets one of U+E000–U+FFFF (lead byte EE or EF), which UTF-16 puts after it.
        static func precedes(_ a: Member, _ b: Member, keys: [UInt8]) -> Bool {
            let aCount = a.keyEnd - a.keyStart
            let bCount = b.keyEnd - b.keyStart
            let common = min(aCount, bCount)
            var i = 0
            while i < common {
                let x = keys[a.keyStart + i]
                let y = keys[b.keyStart + i]
                if x != y {
                    if x >= 0xF0, y == 0xEE || y == 0xEF { return true }
                    if y >= 0xF0, x == 0xEE || x == 0xEF { return false }
                    return x < y
                }
                i += 1
            }
            return aCount < bCount
        }

        /// Writes the string at `index` (its opening quote) in canonical form; its decoded UTF-8 goes to `keys` too
        /// when it is a key. Returns whether it is ASCII.
        mutating func string(key: Bool) throws(ParseError) -> Bool {
            index += 1
            out.append(UInt8(ascii: "\""))
            var ascii = true
            while true {
                // A run of bytes written as they are.
                let run = index
                while index < input.count {
                    let byte = input[index]
                    if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 { break }
                    if byte < 0x80 {
                        index += 1
                    } else {
                        ascii = false
                        index += try utf8Sequence(at: index)
                    }
                }
                if index > run {
                    let bytes = UnsafeBufferPointer(rebasing: input[run..<index])
                    out.append(contentsOf: bytes)
                    if key { keys.append(contentsOf: bytes) }
                }
                guard index < input.count else { throw error("unterminated string") }
                let byte = input[index]
                if byte == UInt8(ascii: "\"") {
                    index += 1
                    out.append(UInt8(ascii: "\""))
                    return ascii
                }
                guard byte == UInt8(ascii: "\\") else { throw error("control character in a string") }
                index += 1
                guard index < input.count else { throw error("unexpected end") }
                let escape = input[index]
                index += 1
                let scalar: UInt32
                switch escape {
                case UInt8(ascii: "\""): scalar = 0x22
                case UInt8(ascii: "\\"): scalar = 0x5C
                case UInt8(ascii: "/"): scalar = 0x2F
                case UInt8(ascii: "b"): scalar = 0x08
                case UInt8(ascii: "f"): scalar = 0x0C
                case UInt8(ascii: "n"): scalar = 0x0A
                case UInt8(ascii: "r"): scalar = 0x0D
                case UInt8(ascii: "t"): scalar = 0x09
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if (0xD800..<0xDC00).contains(code) {
                        guard input.count - index >= 6, input[index] == UInt8(ascii: "\\"),
                            input[index + 1] == UInt8(ascii: "u")
                        else { throw error("lone surrogate") }
                        index += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw error("lone surrogate") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard Unicode.Scalar(code) != nil else { throw error("lone surrogate") }
                    scalar = code
                default: throw error("bad escape")
                }
                if scalar >= 0x80 { ascii = false }
                writeEscaped(scalar)
                if key { appendUTF8(scalar, to: &keys) }
            }
        }

        /// The length of the well-formed UTF-8 sequence at `at` (Unicode table 3-7: no overlong forms, surrogates or
        /// code points above U+10FFFF), as Swift's `String(validating:as:)` accepts.
        func utf8Sequence(at: Int) throws(ParseError) -> Int {
            let lead = input[at]
            let length: Int
            var low: UInt8 = 0x80
            var high: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; high = 0x9F
            case 0xF0: length = 4; low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; high = 0x8F
            default: throw ParseError(offset: at, problem: "not UTF-8")
            }
            guard input.count - at >= length else { throw ParseError(offset: at, problem: "not UTF-8") }
            let second = input[at + 1]
            guard second >= low, second <= high else { throw ParseError(offset: at, problem: "not UTF-8") }
            for offset in 2..<length where input[at + offset] & 0xC0 != 0x80 {
                throw ParseError(offset: at, problem: "not UTF-8")
            }
            return length
        }

        /// Four hexadecimal digits of a `\u` escape (read as ``CanonicalJSON/parse(_:)`` reads them).
        mutating func hex4() throws(ParseError) -> UInt32 {
            guard input.count - index >= 4 else { throw error("bad \\u escape") }
            var value: UInt32 = 0
            for offset in 0..<4 {
                let byte = input[index + offset]
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default:
                    // Not four plain digits: whatever the parser's UInt32(_:radix:) makes of them ("+fff" included).
                    guard let value = UInt32(String(decoding: input[index..<index + 4], as: UTF8.self), radix: 16)
                    else { throw error("bad \\u escape") }
                    index += 4
                    return value
                }
                value = value << 4 | UInt32(digit)
            }
            index += 4
            return value
        }

        /// A decoded character of a string as RFC 8785 writes it: `"` and `\` escaped, the controls below U+0020 in
        /// their short forms or as `\u00xx` (lowercase), everything else as UTF-8.
        mutating func writeEscaped(_ scalar: UInt32) {
            switch scalar {
            case 0x22: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case 0x5C: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x08: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [
                    UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                    hex[Int(scalar >> 4)], hex[Int(scalar & 0xF)],
                ])
            default: appendUTF8(scalar, to: &out)
            }
        }

        func appendUTF8(_ scalar: UInt32, to buffer: inout [UInt8]) {
            switch scalar {
            case 0..<0x80: buffer.append(UInt8(scalar))
            case 0x80..<0x800:
                buffer.append(UInt8(0xC0 | scalar >> 6))
                buffer.append(UInt8(0x80 | scalar & 0x3F))
            case 0x800..<0x10000:
                buffer.append(UInt8(0xE0 | scalar >> 12))
                buffer.append(UInt8(0x80 | scalar >> 6 & 0x3F))
                buffer.append(UInt8(0x80 | scalar & 0x3F))
            default:
                buffer.append(UInt8(0xF0 | scalar >> 18))
                buffer.append(UInt8(0x80 | scalar >> 12 & 0x3F))
                buffer.append(UInt8(0x80 | scalar >> 6 & 0x3F))
                buffer.append(UInt8(0x80 | scalar & 0x3F))
            }
        }

        /// A number: an integer of at most 15 digits without leading zeros is written as read (ECMAScript prints it
        /// so; "-0" as "0"); any other goes through `Double(_:)` and ``CanonicalJSON/formatNumber(_:)`` as in
        /// ``CanonicalJSON/parse(_:)`` and ``CanonicalJSON/text(_:)``, over the same characters.
        mutating func number() throws(ParseError) {
            let start = index
            var plain = true  // -?(0|[1-9][0-9]*) so far
            var digits = 0
            scan: while index < input.count {
                let byte = input[index]
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"):
                    if digits == 0, byte == UInt8(ascii: "0"), index + 1 < input.count,
                        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(input[index + 1])
                    {
                        plain = false
                    }
                    digits += 1
                case UInt8(ascii: "-") where index == start: break
                case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"):
                    plain = false
                default:
                    break scan
                }
                index += 1
            }
            if plain, digits > 0, digits <= 15 {
                let negativeZero = digits == 1 && index - start == 2 && input[start + 1] == UInt8(ascii: "0")
                out.append(contentsOf: UnsafeBufferPointer(rebasing: input[(negativeZero ? start + 1 : start)..<index]))
                return
            }
            let text = String(decoding: input[start..<index], as: UTF8.self)
            guard !text.isEmpty, let number = Double(text), number.isFinite else {
                index = start
                throw error("not a finite number")
            }
            out.append(contentsOf: formatNumber(number).utf8)
        }
    }
}
