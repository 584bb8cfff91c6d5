import Foundation

/// A dossier's status as the National Public Service Portal (Cổng Dịch vụ công quốc gia) codes it.
public enum PortalStatus: Int, Codable, Sendable, Hashable, CaseIterable {
    case newlyFiled = 1
    case received = 2
    case notReceived = 3
    case processing = 4
    case supplementRequested = 5
    case financialObligation = 6
    case withdrawalRequested = 7
    case stopped = 8
    case decided = 9
    case resultReturned = 10

    /// The code a lifecycle event puts the dossier in; nil for events that leave it where it was (a signature
    /// refused, a withdrawal refused, an escalation to the delegator: still processing).
    public init?(_ event: DossierEvent.Kind) {
        switch event {
        case .received: self = .received
        case .intakeIncomplete, .intakeRefused: self = .notReceived
        case .assigned, .prepared, .forwarded, .supplemented: self = .processing
        case .supplementRequested: self = .supplementRequested
        case .decided: self = .decided
        case .withdrawn: self = .withdrawalRequested
        case .resultReturned: self = .resultReturned
        case .feeRequested: self = .financialObligation
        case .feePaid: self = .processing
        case .stopped: self = .stopped
        case .escalatedAuthority, .signatureRejected, .withdrawalRejected, .stepRejected, .supplementRejected,
            .commandRejected, .stageMoved, .paymentRejected, .rated, .complaintRecorded, .feedbackRejected, .drafted,
            .draftReturned, .draftSent, .apologyIssued, .apologyRejected:
            return nil
        }
    }

    /// The code of a `dossier_status.status` value (the type of the last event that set it; an escalation to the
    /// delegator or `in-review` is still processing); nil for a value that is not a status.
    public init?(status: String) {
        if status == "in-review" {
            self = .processing
            return
        }
        guard let kind = DossierEvent.Kind(rawValue: status) else { return nil }
        self = PortalStatus(kind) ?? .processing
    }
}

/// The portal's submission channel code: 1 one-stop desk, 2 online, 3 post.
public enum PortalChannel: Int, Codable, Sendable, Hashable {
    case desk = 1
    case online = 2
    case post = 3

    /// From the intake contract's `channel` (`counter`, `online`, `post`).
    public init?(intake: String) {
        switch intake {
        case "counter": self = .desk
        case "online": self = .online
        case "post": self = .post
        default: return nil
        }
    }
}

/// The national record of one status change, on `portal.sync` (key: dossier id) for the integration gateway to
/// forward to the portal. No personal data: neither the applicant nor the receipt secret. Fields in
/// `docs/formats.md` (Portal sync).
public struct PortalRecord: Codable, Sendable, Hashable {
    /// Stable: derived from the event that caused it, so a re-processed event yields the same record.
    public var recordId: UUID
    public var dossierId: String
    /// The dossier code (`AGENCY-yymmdd-NNNNNN`).
    public var code: String?
    /// The procedure code as published (the catalogue's `nationalCode`), else the catalogue's own code.
    public var procedure: String?
    /// The agency code of the department holding the dossier.
    public var agency: String?
    public var statusCode: PortalStatus
    public var channel: PortalChannel?
    /// When the status changed.
    public var statusAt: Date
    public var receivedAt: Date?
    /// The appointment date (local day, `YYYY-MM-DD`).
    public var appointmentDate: String?
    /// End of processing: the decision (codes 9 and 10), or the stop notice (code 8).
    public var finishedAt: Date?
    /// `approve` or `refuse`, when decided.
    public var outcome: String?
    /// When the result was handed to the applicant.
    public var returnedAt: Date?
    /// The fee in đồng: on the record of its request (code 6) and, once paid, on every later record.
    public var fee: Int?
    /// Where the fee was paid online: 1 the national portal, 2 the provincial gateway; absent when it was not paid
    /// online (at the desk, or not yet).
    public var paidOnline: Int?
    /// The electronic result file recorded with the decision (codes 9 and 10): its id and link.
    public var resultDocument: String?
    public var resultLink: String?
    /// As the submitting channel said at intake (absent when it did not): the dossier's documents were digitised at
    /// reception; the applicant's identity was verified with VNeID.
    public var digitised: Bool?
    public var vneidVerified: Bool?

    public init(
        recordId: UUID, dossierId: String, code: String?, procedure: String?, agency: String?,
        statusCode: PortalStatus, channel: PortalChannel?, statusAt: Date, receivedAt: Date?,
        appointmentDate: String?, finishedAt: Date?, outcome: String?, returnedAt: Date?, fee: Int? = nil,
        paidOnline: Int? = nil, resultDocument: String? = nil, resultLink: String? = nil, digitised: Bool? = nil,
        vneidVerified: Bool? = nil
    ) {
        self.digitised = digitised
        self.vneidVerified = vneidVerified
        self.recordId = recordId
        self.dossierId = dossierId
        self.code = code
        self.procedure = procedure
        self.agency = agency
        self.statusCode = statusCode
        self.channel = channel
        self.statusAt = statusAt
        self.receivedAt = receivedAt
        self.appointmentDate = appointmentDate
        self.finishedAt = finishedAt
        self.outcome = outcome
        self.returnedAt = returnedAt
        self.fee = fee
        self.paidOnline = paidOnline
        self.resultDocument = resultDocument
        self.resultLink = resultLink
    }
}

/// The gateway's acknowledgement of one ``PortalRecord``, on `portal.sync.ack` (key: dossier id).
public struct PortalAck: Codable, Sendable, Hashable {
    public var recordId: UUID
    public var dossierId: String
    public var statusCode: PortalStatus
    /// True when the portal accepted the record; false with `reason` when it refused it.
    public var accepted: Bool
    public var reason: String?
    public var at: Date

    public init(recordId: UUID, dossierId: String, statusCode: PortalStatus, accepted: Bool, reason: String?, at: Date) {
        self.recordId = recordId
        self.dossierId = dossierId
        self.statusCode = statusCode
        self.accepted = accepted
        self.reason = reason
        self.at = at
    }
}
