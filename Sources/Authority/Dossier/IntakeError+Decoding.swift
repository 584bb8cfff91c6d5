import Foundation

extension IntakeError {
    init(_ error: DecodingError) {
        func path(_ keys: [any CodingKey]) -> String {
            var s = ""
            for key in keys {
                if let index = key.intValue {
                    s += "[\(index)]"
                } else {
                    s += s.isEmpty ? key.stringValue : ".\(key.stringValue)"
                }
            }
            return s
        }
        func found(_ debug: String) -> String {
            // JSONDecoder says "Expected to decode X but found Y instead."; keep the "Y" part, never the value.
            guard let range = debug.range(of: "but found ") else { return "" }
            let rest = debug[range.upperBound...]
            let word = rest.split(separator: " ").first.map(String.init) ?? ""
            return word.isEmpty ? "" : "; got \(word)"
        }
        func typeName(_ type: Any.Type) -> String {
            switch type {
            case is String.Type: return "a string"
            case is [String].Type: return "a list of strings"
            case is Bool.Type: return "a boolean"
            case is Int64.Type, is Int.Type: return "an integer"
            case is Double.Type: return "a number"
            default:
                let name = "\(type)"
                if name.hasPrefix("Dictionary") || name.contains("Applicant") { return "an object" }
                if name.hasPrefix("Array") { return "a list" }
                return "a valid value"
            }
        }
        switch error {
        case .keyNotFound(let key, let context):
            self.init(field: path(context.codingPath + [key]), problem: "missing")
        case .valueNotFound(let type, let context):
            self.init(field: path(context.codingPath), problem: "expected \(typeName(type)); got null")
        case .typeMismatch(let type, let context):
            self.init(
                field: path(context.codingPath),
                problem: "expected \(typeName(type))\(found(context.debugDescription))")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                self.init(field: "", problem: "not valid JSON")
            } else {
                self.init(field: path(context.codingPath), problem: context.debugDescription)
            }
        @unknown default:
            self.init(field: "", problem: "not a valid dossier")
        }
    }
}
