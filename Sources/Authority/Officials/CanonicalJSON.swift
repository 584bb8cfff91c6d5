import Foundation

/// JSON in the canonical form of RFC 8785 (JSON Canonicalization Scheme): object members sorted by their keys' UTF-16
/// code units, no white space, strings with only the escapes the RFC prescribes, numbers as ECMAScript prints them.
///
/// Signed commands are signed over this form of their fields, so that a signer and a verifier that write the same
/// values in another order or spacing agree byte for byte.
public enum CanonicalJSON {
    /// A JSON value as parsed (numbers as Double, as ECMAScript and RFC 8785 see them).
    public indirect enum Value: Sendable, Hashable {
        case null
        case bool(Bool)
        case number(Double)
        case string(String)
        case array([Value])
        case object([String: Value])
    }

    /// What is wrong with a text that is not JSON canonical form can be made of.
    public struct ParseError: Error, CustomStringConvertible, Equatable {
        public var offset: Int
        public var problem: String
        public var description: String { "not JSON at byte \(offset): \(problem)" }
    }

    /// Parses `bytes` (one JSON value; duplicate keys and non-finite numbers are refused).
    public static func parse(_ bytes: some Collection<UInt8>) throws(ParseError) -> Value {
        var parser = Parser(bytes: Array(bytes))
        parser.skipSpace()
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.index == parser.bytes.count else { throw parser.error("text after the value") }
        return value
    }

    /// The canonical text of `value`.
    public static func text(_ value: Value) -> String {
        var out = ""
        write(value, into: &out)
        return out
    }

    /// The canonical UTF-8 bytes of the JSON in `bytes`, without the top-level members named in `removing`: what
    /// ``text(_:)`` writes of what ``parse(_:)`` reads, written straight from the bytes
    /// (``write(_:removing:into:)``).
    public static func canonicalBytes(of bytes: some Collection<UInt8>, removing: Set<String> = []) throws(ParseError)
        -> [UInt8]
    {
        var out: [UInt8] = []
        _ = try write(bytes, removing: removing, into: &out)
        return out
    }

    static func write(_ value: Value, into out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let flag): out += flag ? "true" : "false"
        case .number(let number): out += formatNumber(number)
        case .string(let string): writeString(string, into: &out)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                write(item, into: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            let keys = members.keys.sorted { Array($0.utf16).lexicographicallyPrecedes(Array($1.utf16)) }
            for (i, key) in keys.enumerated() {
                if i > 0 { out += "," }
                writeString(key, into: &out)
                out += ":"
                write(members[key]!, into: &out)
            }
            out += "}"
        }
    }

    /// A JSON string as RFC 8785 writes it: `\b` and `\f` in their short forms.
    static func writeString(_ string: String, into out: inout String) {
        YAMLNode.writeJSONString(string, into: &out, shortBackspaceAndFormFeed: true)
    }

    /// ECMAScript's Number.prototype.toString for finite doubles (RFC 8785 section 3.2.2.3).
    public static func formatNumber(_ number: Double) -> String {
        if number == 0 { return "0" }
        if number < 0 { return "-" + formatNumber(-number) }
        // Swift's description is the shortest round-tripping decimal, as ECMAScript's; only its layout differs.
        let (digits, pointExponent) = shortestDigits(number)
        let k = digits.count
        let n = pointExponent
        if k <= n && n <= 21 {
            return digits + String(repeating: "0", count: n - k)
        }
        if 0 < n && n <= 21 {
            return String(digits.prefix(n)) + "." + String(digits.dropFirst(n))
        }
        if -6 < n && n <= 0 {
            return "0." + String(repeating: "0", count: -n) + digits
        }
        let exponent = n - 1
        let sign = exponent < 0 ? "-" : "+"
        let mantissa = k == 1 ? digits : String(digits.prefix(1)) + "." + String(digits.dropFirst(1))
        return mantissa + "e" + sign + String(abs(exponent))
    }

    /// The significant digits (no leading or trailing zeros) and n such that number = 0.digits × 10^n.
    static func shortestDigits(_ number: Double) -> (String, Int) {
        let text = "\(number)"
        var mantissa = text
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = String(text[..<e])
            exponent = Int(text[text.index(after: e)...]) ?? 0
        }
        var integer = mantissa
        var fraction = ""
        if let dot = mantissa.firstIndex(of: ".") {
            integer = String(mantissa[..<dot])
            fraction = String(mantissa[mantissa.index(after: dot)...])
        }
        var all = integer + fraction
        var n = integer.count + exponent
        while all.first == "0" {
            all.removeFirst()
            n -= 1
        }
        while all.last == "0" { all.removeLast() }
        return (all, n)
    }

    struct Parser {
        let bytes: [UInt8]
        var index = 0

        func error(_ problem: String) -> ParseError { ParseError(offset: index, problem: problem) }

        mutating func skipSpace() {
            while index < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[index]) { index += 1 }
        }

        mutating func expect(_ literal: String, _ value: Value) throws(ParseError) -> Value {
            let utf8 = Array(literal.utf8)
            guard bytes.count - index >= utf8.count, Array(bytes[index..<index + utf8.count]) == utf8 else {
                throw error("unexpected character")
            }
            index += utf8.count
            return value
        }

        mutating func value(depth: Int) throws(ParseError) -> Value {
            guard depth < 64 else { throw error("nested too deep") }
            guard index < bytes.count else { throw error("unexpected end") }
            switch bytes[index] {
            case UInt8(ascii: "{"):
                index += 1
                var members: [String: Value] = [:]
                skipSpace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                    index += 1
                    return .object(members)
                }
                while true {
                    skipSpace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a key") }
                    let key = try string()
                    skipSpace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':'") }
                    index += 1
                    skipSpace()
                    let member = try value(depth: depth + 1)
                    guard members.updateValue(member, forKey: key) == nil else { throw error("key '\(key)' twice") }
                    skipSpace()
                    guard index < bytes.count else { throw error("unexpected end") }
                    if bytes[index] == UInt8(ascii: ",") {
                        index += 1
                        continue
                    }
                    guard bytes[index] == UInt8(ascii: "}") else { throw error("expected ',' or '}'") }
                    index += 1
                    return .object(members)
                }
            case UInt8(ascii: "["):
                index += 1
                var items: [Value] = []
                skipSpace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                    index += 1
                    return .array(items)
                }
                while true {
                    skipSpace()
                    items.append(try value(depth: depth + 1))
                    skipSpace()
                    guard index < bytes.count else { throw error("unexpected end") }
                    if bytes[index] == UInt8(ascii: ",") {
                        index += 1
                        continue
                    }
                    guard bytes[index] == UInt8(ascii: "]") else { throw error("expected ',' or ']'") }
                    index += 1
                    return .array(items)
                }
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): return try expect("true", .bool(true))
            case UInt8(ascii: "f"): return try expect("false", .bool(false))
            case UInt8(ascii: "n"): return try expect("null", .null)
            default: return .number(try number())
            }
        }

        mutating func number() throws(ParseError) -> Double {
            let start = index
            while index < bytes.count, "+-0123456789.eE".utf8.contains(bytes[index]) { index += 1 }
            let text = String(decoding: bytes[start..<index], as: UTF8.self)
            guard !text.isEmpty, let number = Double(text), number.isFinite else {
                index = start
                throw error("not a finite number")
            }
            return number
        }

        mutating func hex4() throws(ParseError) -> UInt32 {
            guard bytes.count - index >= 4,
                let value = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16)
            else { throw error("bad \\u escape") }
            index += 4
            return value
        }

        mutating func string() throws(ParseError) -> String {
            index += 1
            var scalars = String.UnicodeScalarView()
            var raw: [UInt8] = []
            func flush() throws(ParseError) {
                guard !raw.isEmpty else { return }
                guard let text = String(validating: raw, as: UTF8.self) else { throw error("not UTF-8") }
                scalars.append(contentsOf: text.unicodeScalars)
                raw.removeAll()
            }
            while index < bytes.count {
                let byte = bytes[index]
                switch byte {
                case UInt8(ascii: "\""):
                    index += 1
                    try flush()
                    return String(scalars)
                case UInt8(ascii: "\\"):
                    try flush()
                    index += 1
                    guard index < bytes.count else { throw error("unexpected end") }
                    let escape = bytes[index]
                    index += 1
                    switch escape {
                    case UInt8(ascii: "\""): scalars.append("\"")
                    case UInt8(ascii: "\\"): scalars.append("\\")
                    case UInt8(ascii: "/"): scalars.append("/")
                    case UInt8(ascii: "b"): scalars.append("\u{08}")
                    case UInt8(ascii: "f"): scalars.append("\u{0C}")
                    case UInt8(ascii: "n"): scalars.append("\n")
                    case UInt8(ascii: "r"): scalars.append("\r")
                    case UInt8(ascii: "t"): scalars.append("\t")
                    case UInt8(ascii: "u"):
                        var code = try hex4()
                        if (0xD800..<0xDC00).contains(code) {
                            guard bytes.count - index >= 6, bytes[index] == UInt8(ascii: "\\"),
                                bytes[index + 1] == UInt8(ascii: "u")
                            else { throw error("lone surrogate") }
                            index += 2
                            let low = try hex4()
                            guard (0xDC00..<0xE000).contains(low) else { throw error("lone surrogate") }
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        }
                        guard let scalar = Unicode.Scalar(code) else { throw error("lone surrogate") }
                        scalars.append(scalar)
                    default: throw error("bad escape")
                    }
                case 0..<0x20: throw error("control character in a string")
                default:
                    raw.append(byte)
                    index += 1
                }
            }
            throw error("unterminated string")
        }
    }
}
