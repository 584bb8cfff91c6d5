/// Why an intake message is not a valid dossier: the field and what is wrong with it.
///
/// The reason travels with the message to the dead-letter topic, so it names the field by its JSON path and never
/// quotes applicant data beyond the offending value of an enumerated field.
public struct IntakeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The JSON path of the field (`applicant.kind`, `documents[2]`), or empty for the message as a whole.
    public var field: String
    /// What is wrong with it.
    public var problem: String

    public init(field: String, problem: String) {
        self.field = field
        self.problem = problem
    }

    public var description: String {
        field.isEmpty ? problem : "\(field): \(problem)"
    }
}
