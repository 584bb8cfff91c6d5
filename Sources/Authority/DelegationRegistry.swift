import Foundation

/// The delegation records in force for the workers, indexed by delegatee and procedure.
public struct DelegationRegistry: Sendable {
    /// Every record, in file order.
    public let records: [Delegation]

    private struct Key: Hashable {
        var delegatee: String
        var procedure: String
    }

    private let byId: [String: Int]
    private let byDelegateeAndProcedure: [Key: [Int32]]
    /// Index of each record superseded by another record.
    private let superseded: Set<Int>

    /// Builds a registry; ids are expected to be unique (the loader reports duplicates), the first one wins.
    public init(records: [Delegation]) {
        self.records = records
        var byId: [String: Int] = [:]
        var index: [Key: [Int32]] = [:]
        for (i, record) in records.enumerated() {
            if byId[record.id] == nil { byId[record.id] = i }
            for procedure in Set(record.scope.procedures) {
                index[Key(delegatee: record.delegatee, procedure: procedure), default: []].append(Int32(i))
            }
        }
        var superseded = Set<Int>()
        for record in records {
            if let old = record.supersedes, let i = byId[old] { superseded.insert(i) }
        }
        self.byId = byId
        byDelegateeAndProcedure = index
        self.superseded = superseded
    }

    /// The record with this id.
    public subscript(id id: String) -> Delegation? {
        byId[id].map { records[$0] }
    }

    /// The canonical JSON text of a record and its SHA-256, for workers to store once per version.
    public func snapshot(id: String) -> (canonicalJSON: String, version: String)? {
        self[id: id].map { ($0.canonicalJSON, $0.version) }
    }

    /// The records naming `delegatee` for `procedure`, in file order.
    public func records(delegatee: String, procedure: String) -> [Delegation] {
        (byDelegateeAndProcedure[Key(delegatee: delegatee, procedure: procedure)] ?? []).map { records[Int($0)] }
    }

    enum Authorization {
        case granted(Int)
        case refused(EscalationReason, [Explanation.DelegationCheck])
    }

    /// Finds the record that gives `delegatee` authority over `dossier` at `instant`.
    ///
    /// When several apply, a record superseding another wins. When none applies, the reason reported is the most
    /// specific one: outside the conditions of a record in force, then revoked, expired, not yet valid, and no
    /// delegation when no record covers the procedure, territory and applicant kind.
    func authorize(_ dossier: Dossier, delegatee: String, at instant: Date) -> Authorization {
        guard let candidates = byDelegateeAndProcedure[Key(delegatee: delegatee, procedure: dossier.procedure)] else {
            return .refused(.noDelegation, [])
        }
        var granted = -1
        var anyCovering = false
        for c in candidates {
            let i = Int(c)
            let record = records[i]
            guard record.covers(dossier) else { continue }
            anyCovering = true
            guard record.status(at: instant) == nil else { continue }
            if let program = record.compiledConditions, !program.evaluate(root: 0, dossier).isTrue { continue }
            if granted < 0 || superseded.contains(granted) { granted = i }
        }
        if granted >= 0 { return .granted(granted) }
        return refusal(candidates, dossier, instant, anyCovering: anyCovering)
    }

    /// The slow path: explain every candidate. Only taken for escalations.
    private func refusal(
        _ candidates: [Int32], _ dossier: Dossier, _ instant: Date, anyCovering: Bool
    ) -> Authorization {
        var checks: [Explanation.DelegationCheck] = []
        var reasons = Set<EscalationReason>()
        for c in candidates {
            let record = records[Int(c)]
            let check: Explanation.DelegationCheck
            if !record.covers(dossier) {
                let whom = record.subjectMask & Delegation.bit(dossier.applicant.kind) == 0
                    ? "applicant kind \(dossier.applicant.kind.rawValue) is not among its subjects"
                    : "commune \(dossier.commune) is outside its territory"
                check = .init(id: record.id, instrument: record.instrument.number, status: "no-delegation", detail: whom)
            } else if let status = record.status(at: instant) {
                reasons.insert(status)
                let detail: String
                switch status {
                case .revoked:
                    let by = record.revokingInstrument.map { " by \($0.number)" } ?? ""
                    detail = "revoked at \(ISO8601Instant.format(record.revokedAt ?? instant))\(by)"
                default:
                    detail = "valid from \(record.validFrom) to \(record.validTo.map(\.description) ?? "open-ended")"
                }
                check = .init(id: record.id, instrument: record.instrument.number, status: status.rawValue, detail: detail)
            } else {
                reasons.insert(.outsideConditions)
                var detail = "conditions do not hold"
                if let program = record.compiledConditions {
                    let verdict = program.evaluate(root: 0, dossier)
                    if verdict.node >= 0 {
                        detail = "\(program.sources[Int(verdict.node)]): \(verdict.why.text)"
                    }
                }
                check = .init(
                    id: record.id, instrument: record.instrument.number, status: EscalationReason.outsideConditions.rawValue,
                    detail: detail)
            }
            checks.append(check)
        }
        guard anyCovering else { return .refused(.noDelegation, checks) }
        for reason in [EscalationReason.outsideConditions, .revoked, .expired, .notYetValid] where reasons.contains(reason) {
            return .refused(reason, checks)
        }
        return .refused(.noDelegation, checks)
    }
}
