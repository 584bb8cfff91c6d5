import Foundation

/// A delegation record (ủy quyền): who may decide which procedures, where, for whom, under which conditions, when.
///
/// Each record has a canonical JSON snapshot and its SHA-256 ``version``; workers store the snapshot once per
/// version and decisions cite it, so replay rebuilds the record with ``init(snapshotJSON:)``.
public struct Delegation: Sendable, Hashable {
    /// The legal instrument (decision) that grants or revokes authority.
    public struct Instrument: Sendable, Hashable {
        public var number: String
        public var date: LocalDate
        public var signer: String

        public init(number: String, date: LocalDate, signer: String) {
            self.number = number
            self.date = date
            self.signer = signer
        }
    }

    /// The legal form of the transfer of authority.
    public enum Mode: String, Sendable, Hashable, CaseIterable {
        /// Ủy quyền: time-limited, the delegator stays accountable.
        case delegation
        /// Phân cấp: devolution, without an end date.
        case devolution
        /// Ký thay: the delegatee signs on the delegator's behalf.
        case signatureOnly = "signature-only"
    }

    /// What the record covers.
    public struct Scope: Sendable, Hashable {
        public var procedures: [String]
        /// Commune codes; `["*"]` for the whole city.
        public var territory: [String]
        /// Applicant kinds; nil for all.
        public var subjects: [Dossier.Applicant.Kind]?

        public init(procedures: [String], territory: [String], subjects: [Dossier.Applicant.Kind]?) {
            self.procedures = procedures
            self.territory = territory
            self.subjects = subjects
        }

        public var coversWholeCity: Bool { territory.contains("*") }
    }

    public var id: String
    /// Who in the delegatee department exercises the authority: the holder of this position signs the final
    /// decisions (or a deputy director with a work authorisation from the holder). Default: ``Position/director``
    /// (records written before delegations named it).
    public var delegate: Position
    public var instrument: Instrument
    public var mode: Mode
    public var delegator: DepartmentID
    public var delegatee: DepartmentID
    public var scope: Scope
    public var conditions: Condition?
    /// First local day of validity.
    public var validFrom: LocalDate
    /// Last local day of validity (inclusive); nil for open-ended devolution.
    public var validTo: LocalDate?
    public var revokedAt: Date?
    public var revokingInstrument: Instrument?
    /// The id of an earlier record this one replaces.
    public var supersedes: String?
    /// The canonical JSON of the record.
    public let canonicalJSON: String
    /// Lowercase hexadecimal SHA-256 of ``canonicalJSON``.
    public let version: String

    /// Where the record was read from (for reports).
    let file: String
    let line: Int
    let compiledConditions: ConditionProgram?
    let subjectMask: UInt8

    /// Rebuilds a record from its stored snapshot (``canonicalJSON``).
    public init(snapshotJSON: String) throws(ValidationReport) {
        var report = ValidationReport()
        let root: YAMLNode
        do {
            root = try YAMLNode.parse(snapshotJSON)
        } catch {
            report.error("<delegation snapshot>", error.line, error.message)
            throw report
        }
        guard let record = Delegation.parse(root, file: "<delegation snapshot>", report: &report),
            !report.hasErrors
        else { throw report }
        self = record
    }

    init(
        id: String, instrument: Instrument, mode: Mode, delegator: DepartmentID, delegatee: DepartmentID, scope: Scope,
        conditions: Condition?, validFrom: LocalDate, validTo: LocalDate?, revokedAt: Date?,
        revokingInstrument: Instrument?, supersedes: String?, canonicalJSON: String, file: String, line: Int,
        delegate: Position = .director
    ) {
        self.id = id
        self.delegate = delegate
        self.instrument = instrument
        self.mode = mode
        self.delegator = delegator
        self.delegatee = delegatee
        self.scope = scope
        self.conditions = conditions
        self.validFrom = validFrom
        self.validTo = validTo
        self.revokedAt = revokedAt
        self.revokingInstrument = revokingInstrument
        self.supersedes = supersedes
        self.canonicalJSON = canonicalJSON
        self.version = sha256Hex(canonicalJSON)
        self.file = file
        self.line = line
        compiledConditions = conditions.map { ConditionProgram(conditions: [$0]) }
        var mask: UInt8 = 0
        for (bit, kind) in Dossier.Applicant.Kind.allCases.enumerated()
        where scope.subjects?.contains(kind) ?? true {
            mask |= 1 << UInt8(bit)
        }
        subjectMask = mask
    }

    public static func == (lhs: Delegation, rhs: Delegation) -> Bool {
        lhs.id == rhs.id && lhs.version == rhs.version
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(id)
        hasher.combine(version)
    }

    /// nil when the record is in force at `instant` (from `validFrom` 00:00 to the end of `validTo`, local time,
    /// and not revoked); otherwise ``EscalationReason/revoked``, ``EscalationReason/expired`` or
    /// ``EscalationReason/notYetValid``.
    public func status(at instant: Date) -> EscalationReason? {
        if let revokedAt, instant >= revokedAt { return .revoked }
        let day = LocalDate(instant: instant).dayNumber
        if day < validFrom.dayNumber { return .notYetValid }
        if let validTo, day > validTo.dayNumber { return .expired }
        return nil
    }

    /// Whether the scope covers the dossier's procedure, commune and applicant kind.
    func covers(_ dossier: Dossier) -> Bool {
        guard subjectMask & Delegation.bit(dossier.applicant.kind) != 0 else { return false }
        return scope.coversWholeCity || scope.territory.contains(dossier.commune)
    }

    static func bit(_ kind: Dossier.Applicant.Kind) -> UInt8 {
        switch kind {
        case .citizen: return 1
        case .household: return 2
        case .enterprise: return 4
        case .organisation: return 8
        }
    }

}
