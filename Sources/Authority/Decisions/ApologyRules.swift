import Foundation

/// Why an apology slip was refused for what it says (its signer is the registry's business).
public struct ApologyError: Error, CustomStringConvertible, Sendable, Equatable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        public var description: String { name }
        /// No open or paused deadline for this dossier step (or not one of the department that sent the slip).
        public static let noOpenDeadline = Code(name: "no-open-deadline")
        /// The due date has come: a slip must be issued before it.
        public static let tooLate = Code(name: "too-late")
        /// This step already has its one apology slip.
        public static let alreadyIssued = Code(name: "already-issued")
        /// The new date is not after the current due date.
        public static let notLater = Code(name: "not-later")
    }

    public var code: Code
    /// The due date in force when the slip was refused.
    public var dueDate: LocalDate?

    public init(code: Code, dueDate: LocalDate? = nil) {
        self.code = code
        self.dueDate = dueDate
    }

    /// The code first (as a `command-rejected` reason leads with its code), then what to do.
    public var description: String {
        let text =
            switch code {
            case .noOpenDeadline: "no open deadline of this department for this dossier step: check the dossier and step"
            case .tooLate:
                "an apology slip must be issued before the due date (\(dueDate?.description ?? "?")); escalate instead"
            case .alreadyIssued: "this dossier step already has its apology slip; only one is allowed"
            default: "the new date must be after the current due date (\(dueDate?.description ?? "?"))"
            }
        return "\(code): \(text)"
    }
}

/// The one place of the apology rules (form 04, Decree 61/2018 art. 20): at most one slip per dossier step (step -1:
/// the whole procedure, the appointment), issued while its deadline is open or paused and before its due date, with
/// a new date after the current one. The department's worker applies them at its batch instant, to a signed slip
/// (`motcua apology`) and to an approved apology draft alike.
public enum ApologyRules {
    /// Why a slip with `newDate` cannot be issued at `now` for a deadline in `status` (`open`, `paused`, `closed`;
    /// nil: none) due on `dueDate`, of `deadlineDepartment`, by `department`; nil when it can.
    public static func refusal(
        status: String?, dueDate: LocalDate?, deadlineDepartment: String?, department: String,
        alreadyIssued: Bool, newDate: LocalDate, at now: Date
    ) -> ApologyError? {
        guard let status, status != "closed", let dueDate, deadlineDepartment == department else {
            return ApologyError(code: .noOpenDeadline, dueDate: dueDate)
        }
        if alreadyIssued { return ApologyError(code: .alreadyIssued, dueDate: dueDate) }
        guard DeadlinePolicy.localDay(now) < dueDate else { return ApologyError(code: .tooLate, dueDate: dueDate) }
        guard newDate > dueDate else { return ApologyError(code: .notLater, dueDate: dueDate) }
        return nil
    }
}
