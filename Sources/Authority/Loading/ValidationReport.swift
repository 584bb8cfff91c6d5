/// Every problem found while loading `deploy/`, each as `file:line: what is wrong`.
///
/// Loading collects all problems instead of stopping at the first, so one run of `motcua rules check` lists
/// everything to fix. Warnings do not make loading fail; they are kept in ``warnings`` and printed by the CLI.
public struct ValidationReport: Error, Sendable, CustomStringConvertible {
    /// One problem at a place in a file.
    public struct Problem: Sendable, Hashable, CustomStringConvertible {
        /// How serious a problem is.
        public enum Severity: String, Sendable, Hashable {
            case error
            case warning
        }

        /// The file as given to the loader (relative when the directory was relative).
        public var file: String
        /// 1-based line of the offending YAML node.
        public var line: Int
        /// What is wrong, and where useful what to do.
        public var message: String
        public var severity: Severity

        public init(file: String, line: Int, message: String, severity: Severity = .error) {
            self.file = file
            self.line = line
            self.message = message
            self.severity = severity
        }

        public var description: String {
            severity == .error ? "\(file):\(line): \(message)" : "\(file):\(line): warning: \(message)"
        }
    }

    /// Every problem, errors and warnings, in file order.
    public private(set) var problems: [Problem] = []

    public init(problems: [Problem] = []) {
        self.problems = problems
    }

    /// The problems that make loading fail.
    public var errors: [Problem] { problems.filter { $0.severity == .error } }
    /// Problems worth a look that do not make loading fail.
    public var warnings: [Problem] { problems.filter { $0.severity == .warning } }
    public var hasErrors: Bool { problems.contains { $0.severity == .error } }

    public var description: String {
        problems.map(\.description).joined(separator: "\n")
    }

    mutating func error(_ file: String, _ line: Int, _ message: String) {
        problems.append(Problem(file: file, line: line, message: message))
    }

    mutating func warning(_ file: String, _ line: Int, _ message: String) {
        problems.append(Problem(file: file, line: line, message: message, severity: .warning))
    }

    mutating func append(contentsOf other: ValidationReport) {
        problems.append(contentsOf: other.problems)
    }

    /// Orders problems by file, then line, keeping the discovery order on ties.
    mutating func sort() {
        problems = problems.enumerated().sorted { a, b in
            if a.element.file != b.element.file { return a.element.file < b.element.file }
            if a.element.line != b.element.line { return a.element.line < b.element.line }
            return a.offset < b.offset
        }.map(\.element)
    }
}
