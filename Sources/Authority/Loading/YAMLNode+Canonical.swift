import Crypto
import Foundation

extension YAMLNode {
    /// Canonical JSON: object keys sorted by their UTF-8 bytes, no insignificant whitespace, integral numbers
    /// written as integers, other numbers in Swift's shortest round-trip form, strings with the minimal JSON
    /// escapes. Two YAML texts that differ only in key order, layout, quoting or comments give the same text.
    var canonicalJSON: String {
        var out = ""
        writeCanonical(into: &out)
        return out
    }

    func writeCanonical(into out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d):
            // JSON has no NaN or infinity; such values are rejected by the schemas before they get here.
            out += d.isFinite ? YAMLNode.format(d) : "null"
        case .string(let s): YAMLNode.writeJSONString(s, into: &out)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                item.writeCanonical(into: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            let sorted = members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            for (i, member) in sorted.enumerated() {
                if i > 0 { out += "," }
                YAMLNode.writeJSONString(member.key, into: &out)
                out += ":"
                member.value.writeCanonical(into: &out)
            }
            out += "}"
        }
    }

    /// A JSON string: quotes, backslashes, `\n`, `\r` and `\t` escaped short, other control characters as `\u00XX` —
    /// `\b` and `\f` too, unless `shortBackspaceAndFormFeed` (RFC 8785's form, for signed commands). The rule and
    /// delegation texts keep the long form: their digests are the versions stored in PostgreSQL.
    static func writeJSONString(_ s: String, into out: inout String, shortBackspaceAndFormFeed: Bool = false) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\u{08}" where shortBackspaceAndFormFeed: out += "\\b"
            case "\u{0C}" where shortBackspaceAndFormFeed: out += "\\f"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}

/// Lowercase hexadecimal SHA-256 of the UTF-8 bytes of `text`.
func sha256Hex(_ text: String) -> String {
    let digest = SHA256.hash(data: Data(text.utf8))
    var hex = ""
    hex.reserveCapacity(64)
    for byte in digest {
        let s = String(byte, radix: 16)
        if s.count == 1 { hex += "0" }
        hex += s
    }
    return hex
}
