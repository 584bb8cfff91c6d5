import Foundation

/// A JSON Schema (draft 2020-12) of the subset used by `schemas/*.schema.json`, applied to YAML node trees.
///
/// Supported keywords: `type`, `required`, `properties`, `additionalProperties`, `patternProperties`,
/// `propertyNames`, `minProperties`, `maxProperties`, `dependentRequired`, `enum`, `const`, `pattern`,
/// `minLength`, `maxLength`, `format` (`date`, `date-time`), `items`, `minItems`, `maxItems`, `uniqueItems`,
/// `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`, `multipleOf`, `oneOf`, `anyOf`, `allOf`, `not`,
/// `if`/`then`/`else`, and `$ref` to `#` or `#/$defs/…`. Annotations are ignored; any other keyword is reported
/// so that a schema never silently validates less than it says.
final class JSONSchema {
    struct Failure {
        var line: Int
        var path: String
        var message: String
    }

    private final class Node {
        var types: [String]?
        var required: [String] = []
        var properties: [(String, Node)] = []
        var additionalProperties: Node?
        var additionalAllowed = true
        var patternProperties: [(NSRegularExpression, Node)] = []
        var propertyNames: Node?
        var minProperties: Int?
        var maxProperties: Int?
        var dependentRequired: [(String, [String])] = []
        var enumValues: [YAMLNode]?
        var constValue: YAMLNode?
        var pattern: (String, NSRegularExpression)?
        var minLength: Int?
        var maxLength: Int?
        var format: String?
        var items: Node?
        var minItems: Int?
        var maxItems: Int?
        var uniqueItems = false
        var minimum: Double?
        var maximum: Double?
        var exclusiveMinimum: Double?
        var exclusiveMaximum: Double?
        var multipleOf: Double?
        var oneOf: [Node]?
        var anyOf: [Node]?
        var allOf: [Node]?
        var not: Node?
        var ifNode: Node?
        var thenNode: Node?
        var elseNode: Node?
        var ref: String?
        var alwaysFalse = false

        func property(_ name: String) -> Node? {
            for (key, node) in properties where key == name { return node }
            return nil
        }
    }

    let file: String
    private var root = Node()
    private var definitions: [String: Node] = [:]
    /// Problems in the schema itself (unknown keywords, bad regexes, dangling references).
    private(set) var problems = ValidationReport()

    private static let annotations: Set<String> = [
        "$schema", "$id", "$comment", "title", "description", "examples", "default", "deprecated", "readOnly",
        "writeOnly", "$anchor", "contentMediaType", "contentEncoding",
    ]

    /// Compiles a schema document; problems in it are kept in ``problems``.
    init(file: String, document: YAMLNode) {
        self.file = file
        for defsKey in ["$defs", "definitions"] {
            for member in document[defsKey]?.members ?? [] {
                definitions["#/\(defsKey)/\(member.key)"] = Node()
            }
        }
        for defsKey in ["$defs", "definitions"] {
            for member in document[defsKey]?.members ?? [] {
                if let node = definitions["#/\(defsKey)/\(member.key)"] {
                    compile(member.value, into: node)
                }
            }
        }
        compile(document, into: root)
        definitions["#"] = root
    }

    private func compileNew(_ schema: YAMLNode) -> Node {
        let node = Node()
        compile(schema, into: node)
        return node
    }

    private func compile(_ schema: YAMLNode, into node: Node) {
        if case .bool(let b) = schema.value {
            node.alwaysFalse = !b
            return
        }
        guard let members = schema.members else {
            problems.error(file, schema.line, "a schema must be an object or a boolean")
            return
        }
        for member in members {
            let v = member.value
            switch member.key {
            case "type":
                if let s = v.string { node.types = [s] } else { node.types = v.array?.compactMap(\.string) }
            case "required": node.required = v.array?.compactMap(\.string) ?? []
            case "properties":
                node.properties = (v.members ?? []).map { ($0.key, compileNew($0.value)) }
            case "additionalProperties":
                if case .bool(let b) = v.value {
                    node.additionalAllowed = b
                } else {
                    node.additionalProperties = compileNew(v)
                }
            case "patternProperties":
                for m in v.members ?? [] {
                    if let regex = regex(m.key, line: m.keyLine) {
                        node.patternProperties.append((regex, compileNew(m.value)))
                    }
                }
            case "propertyNames": node.propertyNames = compileNew(v)
            case "minProperties": node.minProperties = v.int.map { Int($0) }
            case "maxProperties": node.maxProperties = v.int.map { Int($0) }
            case "dependentRequired":
                node.dependentRequired = (v.members ?? []).map { ($0.key, $0.value.array?.compactMap(\.string) ?? []) }
            case "enum": node.enumValues = v.array
            case "const": node.constValue = v
            case "pattern":
                if let p = v.string, let regex = regex(p, line: v.line) { node.pattern = (p, regex) }
            case "minLength": node.minLength = v.int.map { Int($0) }
            case "maxLength": node.maxLength = v.int.map { Int($0) }
            case "format":
                node.format = v.string
                if let f = v.string, !["date", "date-time"].contains(f) {
                    problems.warning(file, v.line, "format \"\(f)\" is not checked by the Authority validator")
                }
            case "items": node.items = compileNew(v)
            case "minItems": node.minItems = v.int.map { Int($0) }
            case "maxItems": node.maxItems = v.int.map { Int($0) }
            case "uniqueItems": node.uniqueItems = v.bool ?? false
            case "minimum": node.minimum = v.number
            case "maximum": node.maximum = v.number
            case "exclusiveMinimum": node.exclusiveMinimum = v.number
            case "exclusiveMaximum": node.exclusiveMaximum = v.number
            case "multipleOf": node.multipleOf = v.number
            case "oneOf": node.oneOf = (v.array ?? []).map(compileNew)
            case "anyOf": node.anyOf = (v.array ?? []).map(compileNew)
            case "allOf": node.allOf = (v.array ?? []).map(compileNew)
            case "not": node.not = compileNew(v)
            case "if": node.ifNode = compileNew(v)
            case "then": node.thenNode = compileNew(v)
            case "else": node.elseNode = compileNew(v)
            case "$ref":
                node.ref = v.string
                if let r = v.string, definitions[r] == nil, r != "#" {
                    problems.error(file, v.line, "$ref \"\(r)\" does not name a definition of this schema")
                }
            case "$defs", "definitions": break
            default:
                if !JSONSchema.annotations.contains(member.key) {
                    problems.warning(file, member.keyLine, "keyword \"\(member.key)\" is not supported and is ignored")
                }
            }
        }
    }

    private func regex(_ pattern: String, line: Int) -> NSRegularExpression? {
        do {
            return try NSRegularExpression(pattern: pattern)
        } catch {
            problems.error(file, line, "invalid pattern \"\(pattern)\"")
            return nil
        }
    }

    /// Every failure of `instance` against this schema.
    func validate(_ instance: YAMLNode) -> [Failure] {
        var failures: [Failure] = []
        validate(instance, root, path: "", into: &failures)
        return failures
    }

    private func validate(_ instance: YAMLNode, _ schema: Node, path: String, into failures: inout [Failure]) {
        func fail(_ message: String, line: Int? = nil) {
            failures.append(Failure(line: line ?? instance.line, path: path, message: message))
        }
        if schema.alwaysFalse {
            fail("not allowed here")
            return
        }
        if let ref = schema.ref, let target = definitions[ref] {
            validate(instance, target, path: path, into: &failures)
        }
        if let types = schema.types, !types.contains(where: { JSONSchema.matches(instance, type: $0) }) {
            fail("expected \(types.joined(separator: " or ")), got \(instance.typeName) \(instance.brief)")
            return
        }
        if let constValue = schema.constValue, !JSONSchema.equal(instance, constValue) {
            fail("expected \(constValue.brief), got \(instance.brief)")
        }
        if let values = schema.enumValues, !values.contains(where: { JSONSchema.equal(instance, $0) }) {
            let list = values.map { v in v.string ?? v.brief }.joined(separator: ", ")
            fail("expected one of \(list); got \(instance.brief)")
        }
        switch instance.value {
        case .string(let s):
            let length = s.count
            if let min = schema.minLength, length < min { fail("must be at least \(min) characters long") }
            if let max = schema.maxLength, length > max { fail("must be at most \(max) characters long") }
            if let (source, regex) = schema.pattern {
                let range = NSRange(s.startIndex..., in: s)
                if regex.firstMatch(in: s, range: range) == nil {
                    fail("\(instance.brief) does not match the pattern \(source)")
                }
            }
            if let format = schema.format {
                switch format {
                case "date" where LocalDate(s) == nil:
                    fail("expected a date YYYY-MM-DD, got \(instance.brief)")
                case "date-time" where ISO8601Instant.parse(s) == nil:
                    fail(
                        "expected an ISO-8601 instant with offset (e.g. 2026-01-05T09:30:00+07:00), got \(instance.brief)"
                    )
                default: break
                }
            }
        case .int, .double:
            let x = instance.number ?? 0
            if let m = schema.minimum, x < m { fail("must be ≥ \(YAMLNode.format(m)), got \(instance.brief)") }
            if let m = schema.maximum, x > m { fail("must be ≤ \(YAMLNode.format(m)), got \(instance.brief)") }
            if let m = schema.exclusiveMinimum, x <= m {
                fail("must be > \(YAMLNode.format(m)), got \(instance.brief)")
            }
            if let m = schema.exclusiveMaximum, x >= m {
                fail("must be < \(YAMLNode.format(m)), got \(instance.brief)")
            }
            if let m = schema.multipleOf, m > 0, (x / m).rounded() != x / m {
                fail("must be a multiple of \(YAMLNode.format(m))")
            }
        case .array(let items):
            if let min = schema.minItems, items.count < min {
                fail(min == 1 ? "must not be empty" : "must have at least \(min) items")
            }
            if let max = schema.maxItems, items.count > max { fail("must have at most \(max) items") }
            if schema.uniqueItems {
                var seen = Set<String>()
                for item in items where !seen.insert(item.canonicalJSON).inserted {
                    failures.append(Failure(line: item.line, path: path, message: "duplicate item \(item.brief)"))
                }
            }
            if let itemSchema = schema.items {
                for (i, item) in items.enumerated() {
                    validate(item, itemSchema, path: "\(path)[\(i)]", into: &failures)
                }
            }
        case .object(let members):
            let keys = Set(members.map(\.key))
            for name in schema.required where !keys.contains(name) {
                fail("missing required property \"\(name)\"")
            }
            for (name, needed) in schema.dependentRequired where keys.contains(name) {
                for other in needed where !keys.contains(other) {
                    fail("\"\(other)\" is required when \"\(name)\" is present")
                }
            }
            if let min = schema.minProperties, members.count < min { fail("must have at least \(min) properties") }
            if let max = schema.maxProperties, members.count > max { fail("must have at most \(max) properties") }
            for member in members {
                let childPath = path.isEmpty ? member.key : "\(path).\(member.key)"
                if let names = schema.propertyNames {
                    validate(
                        YAMLNode(.string(member.key), line: member.keyLine), names, path: childPath, into: &failures)
                }
                var matched = false
                if let propertySchema = schema.property(member.key) {
                    matched = true
                    validate(member.value, propertySchema, path: childPath, into: &failures)
                }
                for (regex, propertySchema) in schema.patternProperties {
                    let range = NSRange(member.key.startIndex..., in: member.key)
                    if regex.firstMatch(in: member.key, range: range) != nil {
                        matched = true
                        validate(member.value, propertySchema, path: childPath, into: &failures)
                    }
                }
                if !matched {
                    if !schema.additionalAllowed {
                        failures.append(
                            Failure(line: member.keyLine, path: path, message: "unknown property \"\(member.key)\""))
                    } else if let additional = schema.additionalProperties {
                        validate(member.value, additional, path: childPath, into: &failures)
                    }
                }
            }
        default:
            break
        }
        if let all = schema.allOf {
            for sub in all { validate(instance, sub, path: path, into: &failures) }
        }
        if let any = schema.anyOf {
            validateAlternatives(instance, any, exactlyOne: false, path: path, into: &failures)
        }
        if let one = schema.oneOf {
            validateAlternatives(instance, one, exactlyOne: true, path: path, into: &failures)
        }
        if let not = schema.not {
            var sub: [Failure] = []
            validate(instance, not, path: path, into: &sub)
            if sub.isEmpty { fail("must not match the excluded form") }
        }
        if let condition = schema.ifNode {
            var sub: [Failure] = []
            validate(instance, condition, path: path, into: &sub)
            if sub.isEmpty {
                if let then = schema.thenNode { validate(instance, then, path: path, into: &failures) }
            } else if let otherwise = schema.elseNode {
                validate(instance, otherwise, path: path, into: &failures)
            }
        }
    }

    private func validateAlternatives(
        _ instance: YAMLNode, _ alternatives: [Node], exactlyOne: Bool, path: String, into failures: inout [Failure]
    ) {
        var best: [Failure]?
        var matches = 0
        for alternative in alternatives {
            var sub: [Failure] = []
            validate(instance, alternative, path: path, into: &sub)
            if sub.isEmpty {
                matches += 1
            } else if best == nil || sub.count < best!.count {
                best = sub
            }
        }
        if matches == 0, let best {
            // The alternative with the fewest failures is almost always the one the author meant; a place already
            // reported (e.g. by an enum beside the oneOf) is not reported twice.
            let reported = Set(failures.map { "\($0.line) \($0.path)" })
            let fresh = best.filter { !reported.contains("\($0.line) \($0.path)") }
            failures.append(contentsOf: fresh.isEmpty && reported.isEmpty ? best : fresh)
        } else if exactlyOne && matches > 1 {
            failures.append(Failure(line: instance.line, path: path, message: "matches more than one allowed form"))
        }
    }

    private static func matches(_ instance: YAMLNode, type: String) -> Bool {
        switch (type, instance.value) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object),
            ("integer", .int), ("number", .int), ("number", .double):
            return true
        case ("integer", .double(let d)):
            return d == d.rounded()
        default:
            return false
        }
    }

    static func equal(_ a: YAMLNode, _ b: YAMLNode) -> Bool {
        switch (a.value, b.value) {
        case (.int, .double), (.double, .int), (.int, .int), (.double, .double):
            return a.number == b.number
        default:
            return a.canonicalJSON == b.canonicalJSON
        }
    }
}
