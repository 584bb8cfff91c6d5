import Foundation
import Yams

/// A parsed YAML (or JSON) value with the line it starts on.
///
/// Scalars are resolved with the YAML 1.2 core schema (not Yams' YAML 1.1 defaults, where `no` and `on` are
/// booleans and dates become timestamps): quoted scalars are always strings, plain scalars are null, booleans,
/// integers or floats when they look like one, and strings otherwise. Dates stay strings.
struct YAMLNode: Sendable {
    indirect enum Value: Sendable {
        case null
        case bool(Bool)
        case int(Int64)
        case double(Double)
        case string(String)
        case array([YAMLNode])
        case object([Member])
    }

    struct Member: Sendable {
        var key: String
        var keyLine: Int
        var value: YAMLNode
    }

    var value: Value
    var line: Int

    init(_ value: Value, line: Int) {
        self.value = value
        self.line = line
    }

    subscript(key: String) -> YAMLNode? {
        guard case .object(let members) = value else { return nil }
        return members.first(where: { $0.key == key })?.value
    }

    var string: String? {
        if case .string(let s) = value { return s }
        return nil
    }

    var bool: Bool? {
        if case .bool(let b) = value { return b }
        return nil
    }

    var int: Int64? {
        if case .int(let i) = value { return i }
        return nil
    }

    var number: Double? {
        switch value {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }

    var array: [YAMLNode]? {
        if case .array(let a) = value { return a }
        return nil
    }

    var members: [Member]? {
        if case .object(let m) = value { return m }
        return nil
    }

    var typeName: String {
        switch value {
        case .null: return "null"
        case .bool: return "boolean"
        case .int: return "integer"
        case .double: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    /// A short rendering of the value for error messages.
    var brief: String {
        switch value {
        case .null: return "null"
        case .bool(let b): return String(b)
        case .int(let i): return String(i)
        case .double(let d): return YAMLNode.format(d)
        case .string(let s):
            let cut = s.count > 40 ? String(s.prefix(40)) + "…" : s
            return "\"\(cut)\""
        case .array(let a): return "a list of \(a.count)"
        case .object: return "an object"
        }
    }

    static func format(_ d: Double) -> String {
        if d.isFinite, d == d.rounded(), abs(d) < 9.0e15 { return String(Int64(d)) }
        return String(d)
    }
}

extension YAMLNode {
    /// Parses one YAML document; an empty document is `null` on line 1.
    static func parse(_ text: String) throws(YAMLSyntaxError) -> YAMLNode {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text, .basic)
        } catch let error as YamlError {
            throw YAMLNode.syntaxError(error)
        } catch {
            throw YAMLSyntaxError(line: 1, message: "\(error)")
        }
        guard let root else { return YAMLNode(.null, line: 1) }
        return try convert(root)
    }

    private static func syntaxError(_ error: YamlError) -> YAMLSyntaxError {
        switch error {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let text = context.map { "\(problem) \($0.text)" } ?? problem
            return YAMLSyntaxError(line: mark.line, message: "YAML syntax: \(text)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return YAMLSyntaxError(
                line: context.mark.line,
                message: "duplicate key \(duplicates.joined(separator: ", ")) in mapping")
        case .reader(let problem, _, _, _):
            return YAMLSyntaxError(line: 1, message: "YAML reader: \(problem)")
        default:
            return YAMLSyntaxError(line: 1, message: "YAML: \(error)")
        }
    }

    private static func convert(_ node: Node) throws(YAMLSyntaxError) -> YAMLNode {
        let line = node.mark?.line ?? 1
        switch node {
        case .scalar(let scalar):
            return YAMLNode(resolve(scalar), line: line)
        case .sequence(let sequence):
            var items: [YAMLNode] = []
            items.reserveCapacity(sequence.count)
            for item in sequence { items.append(try convert(item)) }
            return YAMLNode(.array(items), line: line)
        case .mapping(let mapping):
            var members: [Member] = []
            members.reserveCapacity(mapping.count)
            var seen = Set<String>()
            for (key, value) in mapping {
                let keyLine = key.mark?.line ?? line
                guard case .scalar(let keyScalar) = key else {
                    throw YAMLSyntaxError(line: keyLine, message: "mapping keys must be plain strings")
                }
                let name = keyScalar.string
                if !seen.insert(name).inserted {
                    throw YAMLSyntaxError(line: keyLine, message: "duplicate key \"\(name)\"")
                }
                members.append(Member(key: name, keyLine: keyLine, value: try convert(value)))
            }
            return YAMLNode(.object(members), line: line)
        case .alias:
            throw YAMLSyntaxError(line: line, message: "YAML aliases are not allowed in these files")
        }
    }

    private static func resolve(_ scalar: Node.Scalar) -> Value {
        let s = scalar.string
        guard scalar.style == .plain || scalar.style == .any else { return .string(s) }
        if scalar.tag.description == Tag.Name.str.rawValue { return .string(s) }
        switch s {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        default: break
        }
        if let i = parseInteger(s) { return .int(i) }
        if let d = parseFloat(s) { return .double(d) }
        return .string(s)
    }

    private static func parseInteger(_ s: String) -> Int64? {
        var utf8 = Substring(s).utf8[...]
        var negative = false
        if let first = utf8.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            negative = first == UInt8(ascii: "-")
            utf8 = utf8.dropFirst()
        }
        guard !utf8.isEmpty, utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
            if s.hasPrefix("0x"), let v = Int64(s.dropFirst(2), radix: 16) { return v }
            if s.hasPrefix("0o"), let v = Int64(s.dropFirst(2), radix: 8) { return v }
            return nil
        }
        guard let magnitude = Int64(String(Substring(utf8))) else { return nil }
        return negative ? -magnitude : magnitude
    }

    private static func parseFloat(_ s: String) -> Double? {
        switch s {
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .infinity
        case "-.inf", "-.Inf", "-.INF": return -.infinity
        case ".nan", ".NaN", ".NAN": return .nan
        default: break
        }
        // YAML 1.2 core: [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
        var sawDigit = false
        for (i, c) in s.utf8.enumerated() {
            switch c {
            case 48...57: sawDigit = true
            case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"): break
            case UInt8(ascii: "-"), UInt8(ascii: "+"):
                if i != 0 {
                    let previous = s.utf8[s.utf8.index(s.utf8.startIndex, offsetBy: i - 1)]
                    if previous != UInt8(ascii: "e") && previous != UInt8(ascii: "E") { return nil }
                }
            default: return nil
            }
        }
        guard sawDigit else { return nil }
        return Double(s)
    }
}
