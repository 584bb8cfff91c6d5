import Authority

/// What the JSON grammar allows but MotCua refuses in a message, found before decoding, so that the fast reader,
/// `JSONDecoder` and PostgreSQL's `jsonb` can never read one message differently:
/// - a key twice in one object (the fast reader would refuse it, `JSONDecoder` keep one value and `jsonb` the last);
/// - an escaped NUL (`\u0000`), which PostgreSQL cannot store in text or jsonb;
/// - a number beyond what a Double holds (`1e400`);
/// - nesting deeper than ``maximumDepth``.
/// Syntax errors are left to the decoder, whose messages name them.
public enum StrictJSON {
    public static let maximumDepth = 32

    /// The first such problem in `bytes`, with the JSON path where it is; nil when there is none.
    public static func problem(in bytes: [UInt8]) -> IntakeError? {
        bytes.withUnsafeBufferPointer { buffer in
            var scanner = Scanner(bytes: buffer)
            scanner.skipSpace()
            return scanner.value(path: "", depth: 0)
        }
    }

    struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        mutating func skipSpace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x0A, 0x0D, 0x09: index += 1
                default: return
                }
            }
        }

        /// Scans one value; returns a problem, or nil (also when the syntax is not JSON: the decoder says why).
        mutating func value(path: String, depth: Int) -> IntakeError? {
            guard index < bytes.count else { return nil }
            guard depth <= StrictJSON.maximumDepth else {
                return IntakeError(field: path, problem: "nested deeper than \(StrictJSON.maximumDepth) levels")
            }
            switch bytes[index] {
            case UInt8(ascii: "{"):
                index += 1
                var keys = Set<String>()
                skipSpace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return nil }
                while index < bytes.count {
                    skipSpace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
                    let (key, problem) = string(path: path)
                    if let problem { return problem }
                    guard let key else { return nil }
                    let keyPath = path.isEmpty ? key : "\(path).\(key)"
                    guard keys.insert(key).inserted else {
                        return IntakeError(
                            field: keyPath, problem: "the key appears twice in one object; send each key once")
                    }
                    skipSpace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
                    index += 1
                    skipSpace()
                    if let problem = value(path: keyPath, depth: depth + 1) { return problem }
                    skipSpace()
                    guard index < bytes.count else { return nil }
                    if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                    if bytes[index] == UInt8(ascii: "}") { index += 1; return nil }
                    return nil
                }
                return nil
            case UInt8(ascii: "["):
                index += 1
                skipSpace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return nil }
                var position = 0
                while index < bytes.count {
                    skipSpace()
                    if let problem = value(path: "\(path)[\(position)]", depth: depth + 1) { return problem }
                    position += 1
                    skipSpace()
                    guard index < bytes.count else { return nil }
                    if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                    if bytes[index] == UInt8(ascii: "]") { index += 1; return nil }
                    return nil
                }
                return nil
            case UInt8(ascii: "\""):
                return string(path: path, text: false).problem
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                let start = index
                while index < bytes.count,
                    (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index])
                        || [UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")]
                            .contains(bytes[index])
                {
                    index += 1
                }
                let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                if let number = Double(text), !number.isFinite {
                    return IntakeError(
                        field: path,
                        problem: "the number \(text.prefix(32)) is out of range (beyond ±1.8e308); send a smaller number")
                }
                return nil
            default:
                // true, false, null, or not JSON: the decoder decides.
                while index < bytes.count, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(bytes[index]) { index += 1 }
                return nil
            }
        }

        /// The four hexadecimal digits of a `\\u` escape starting at `start` (its backslash), if they are that.
        func hex4(after start: Int) -> UInt32? {
            guard start + 6 <= bytes.count else { return nil }
            return UInt32(String(decoding: UnsafeBufferPointer(rebasing: bytes[(start + 2)..<(start + 6)]), as: UTF8.self), radix: 16)
        }

        /// Scans a string at `index` (its opening quote); returns its text (when `text`: a key; a value's is never
        /// needed) and a problem (an escaped NUL). A string without escapes, nearly every one, is only scanned.
        mutating func string(path: String, text wanted: Bool = true) -> (text: String?, problem: IntakeError?) {
            index += 1
            let start = index
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    index += 1
                    guard wanted else { return (nil, nil) }
                    return (String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<(index - 1)]), as: UTF8.self), nil)
                }
                if byte == UInt8(ascii: "\\") { break }
                index += 1
            }
            guard index < bytes.count else { return (nil, nil) }
            // An escape: decoded from the start of the string.
            index = start
            var scalars = String.UnicodeScalarView()
            var raw: [UInt8] = []
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    index += 1
                    scalars.append(contentsOf: String(decoding: raw, as: UTF8.self).unicodeScalars)
                    return (String(scalars), nil)
                }
                if byte == UInt8(ascii: "\\") {
                    guard index + 1 < bytes.count else { return (nil, nil) }
                    let escape = bytes[index + 1]
                    if escape == UInt8(ascii: "u") {
                        guard let code = hex4(after: index) else { return (nil, nil) }
                        if code == 0 {
                            return (nil, IntakeError(
                                field: path, problem: "contains a NUL character (\\u0000), which cannot be stored; remove it"))
                        }
                        scalars.append(contentsOf: String(decoding: raw, as: UTF8.self).unicodeScalars)
                        raw.removeAll()
                        index += 6
                        // A surrogate pair (`\ud83d\ude00`) is one scalar.
                        if (0xD800...0xDBFF).contains(code), index + 1 < bytes.count,
                            bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u"),
                            let low = hex4(after: index),
                            (0xDC00...0xDFFF).contains(low)
                        {
                            index += 6
                            scalars.append(Unicode.Scalar(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)) ?? "\u{FFFD}")
                        } else {
                            scalars.append(Unicode.Scalar(code) ?? "\u{FFFD}")
                        }
                        continue
                    }
                    let plain: UInt8
                    switch escape {
                    case UInt8(ascii: "n"): plain = 0x0A
                    case UInt8(ascii: "t"): plain = 0x09
                    case UInt8(ascii: "r"): plain = 0x0D
                    case UInt8(ascii: "b"): plain = 0x08
                    case UInt8(ascii: "f"): plain = 0x0C
                    default: plain = escape
                    }
                    raw.append(plain)
                    index += 2
                    continue
                }
                raw.append(byte)
                index += 1
            }
            return (nil, nil)
        }
    }
}
