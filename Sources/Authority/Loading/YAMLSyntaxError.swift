/// A YAML text that could not be parsed.
struct YAMLSyntaxError: Error {
    var line: Int
    var message: String
}
