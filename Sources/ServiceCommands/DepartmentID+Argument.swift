import ArgumentParser
import Authority

/// `--department labour`: a department id on the command line. Whether the department exists is checked against the
/// rules in `validate()` by the command that takes it, which knows the deploy directory.
extension DepartmentID: ExpressibleByArgument {
    public init?(argument: String) {
        guard DepartmentID.isWellFormed(argument) else { return nil }
        self.init(rawValue: argument)
    }
}
