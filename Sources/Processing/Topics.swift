/// Topic names. Department topics are `dossiers.<department>`; every input topic has a `.dlq` twin.
public enum Topics {
    public static let intake = "dossiers.intake"
    public static let events = "dossier.events"
    public static let escalations = "escalations"
    public static let departments = ["industry-trade", "environment", "labour", "culture", "industrial-zones"]

    public static func department(_ id: String) -> String { "dossiers.\(id)" }
    public static func deadLetter(of topic: String) -> String { "\(topic).dlq" }
}

/// CloudEvents types (`ce_type`) of MotCua's messages.
public enum MessageType {
    /// A dossier step for a department worker to evaluate.
    public static let step = "motcua.dossier.step"
    /// An official signs (approves or refuses) a prepared decision.
    public static let sign = "motcua.official.sign"
    /// An official asks the applicant for documents.
    public static let requestSupplement = "motcua.official.request-supplement"
    /// The applicant supplies what was asked.
    public static let supplement = "motcua.applicant.supplement"
    /// The applicant withdraws the dossier.
    public static let withdraw = "motcua.applicant.withdraw"
    /// A lifecycle event on `dossier.events`.
    public static let event = "motcua.dossier.event"
    /// An intake dossier (producers may omit it).
    public static let intake = "motcua.dossier.submitted"
}
