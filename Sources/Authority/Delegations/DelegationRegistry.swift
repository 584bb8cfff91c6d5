import Foundation

/// The delegation records in force for the workers, indexed by delegatee and procedure.
///
/// One reference to an immutable object: copying a registry (into a closure, an argument) retains once instead of
/// every array and table it holds.
public struct DelegationRegistry: Sendable {
    /// Every record, in file order.
    public var records: [Delegation] { core.records }

    /// What the hot path reads of each record, as plain values (no copies of whole records).
    struct Hot: Sendable {
        var subjectMask: UInt8
        var wholeCity: Bool
        var territory: Set<String>
        var validFrom: Int32
        var validTo: Int32
        var revokedAt: Double
        var conditions: ConditionProgram?
        var delegatee: DepartmentID
    }

    final class Core: Sendable {
        let records: [Delegation]
        let hot: [Hot]
        /// The "applies" check of each record, shared by the evaluations relying on it.
        let applies: [Explanation.SharedCheck]
        let byId: [String: Int]
        /// Records by procedure code (one string hash per dossier); the delegatee is compared in the loop.
        let byProcedure: [String: [Int32]]
        /// `byProcedure` for the hot path: procedure code → index into `candidateLists`.
        let procedureLookup: StringIndex
        let candidateLists: [[Int32]]
        /// `candidateLists` flattened for the hot path: list `k` is `candidates[candidateStart[k]..<candidateStart[k + 1]]`.
        let candidateStart: [Int32]
        let candidates: [Int32]
        /// Each record's compiled conditions without a reference count: the records in `hot` keep them alive.
        let conditionRefs: [Unmanaged<ConditionProgram>?]
        /// Each record's delegatee (as in `hot`), compared per evaluation, and its UTF-8 bytes: record `i`'s are
        /// `delegateeBytes[delegateeStart[i]..<delegateeStart[i + 1]]`.
        let delegatees: [String]
        let delegateeBytes: [UInt8]
        let delegateeStart: [Int32]
        /// Index of each record superseded by another record.
        let superseded: Set<Int>

        init(records: [Delegation]) {
            self.records = records
            var byId: [String: Int] = [:]
            var index: [String: [Int32]] = [:]
            for (i, record) in records.enumerated() {
                if byId[record.id] == nil { byId[record.id] = i }
                for procedure in Set(record.scope.procedures) {
                    index[procedure, default: []].append(Int32(i))
                }
            }
            var superseded = Set<Int>()
            for record in records {
                if let old = record.supersedes, let i = byId[old] { superseded.insert(i) }
            }
            self.byId = byId
            hot = records.map { r in
                Hot(
                    subjectMask: r.subjectMask, wholeCity: r.scope.coversWholeCity, territory: Set(r.scope.territory),
                    validFrom: r.validFrom.dayNumber, validTo: r.validTo?.dayNumber ?? Int32.max,
                    revokedAt: r.revokedAt?.timeIntervalSince1970 ?? .infinity, conditions: r.compiledConditions,
                    delegatee: r.delegatee)
            }
            byProcedure = index
            let codes = index.keys.sorted()
            candidateLists = codes.map { index[$0]! }
            var start: [Int32] = [0]
            for list in candidateLists { start.append(start.last! + Int32(list.count)) }
            candidateStart = start
            candidates = candidateLists.flatMap { $0 }
            conditionRefs = hot.map { $0.conditions.map { Unmanaged.passUnretained($0) } }
            delegatees = records.map(\.delegatee.rawValue)
            var bytes: [UInt8] = []
            var starts: [Int32] = [0]
            for record in records {
                bytes.append(contentsOf: record.delegatee.rawValue.utf8)
                starts.append(Int32(bytes.count))
            }
            delegateeBytes = bytes
            delegateeStart = starts
            procedureLookup = StringIndex(Dictionary(uniqueKeysWithValues: codes.enumerated().map { ($1, $0) }))
            applies = records.map { .init(.init(id: $0.id, instrument: $0.instrument.number, status: "applies")) }
            self.superseded = superseded
        }
    }

    let core: Core

    /// Builds a registry; ids are expected to be unique (the loader reports duplicates), the first one wins.
    public init(records: [Delegation]) {
        core = Core(records: records)
    }

    /// The record with this id.
    public subscript(id id: String) -> Delegation? {
        core.byId[id].map { core.records[$0] }
    }

    /// The canonical JSON text of a record and its SHA-256, for workers to store once per version.
    public func snapshot(id: String) -> (canonicalJSON: String, version: String)? {
        self[id: id].map { ($0.canonicalJSON, $0.version) }
    }

    /// The records naming `delegatee` for `procedure`, in file order.
    public func records(delegatee: DepartmentID, procedure: String) -> [Delegation] {
        (core.byProcedure[procedure] ?? []).map { core.records[Int($0)] }.filter { $0.delegatee == delegatee }
    }

    /// String equality, comparing representations and bytes before `==`.
    @inline(__always)
    static func same(_ a: DepartmentID, _ b: DepartmentID) -> Bool { same(a.rawValue, b.rawValue) }

    static func same(_ a: String, _ b: String) -> Bool {
        RawStringTable.sameBytes(a, b) || a == b
    }

    enum Authorization {
        case granted(Int)
        case refused(EscalationReason, [Explanation.DelegationCheck])
    }

    /// Finds the record that gives `delegatee` authority over `dossier` at `instant`.
    ///
    /// When several apply, a record superseding another wins. When none applies, the reason follows
    /// deploy/FORMATS.md ("Delegation validity"): no record for the procedure → no delegation; a record in force
    /// whose scope (territory, applicant kinds) or conditions do not match → outside conditions; otherwise revoked
    /// if a record was revoked, else expired if a period has ended, else not yet valid.
    ///
    /// `shared`: facts the rules already loaded, read by the records' conditions instead of looking them up again.
    func authorize(
        _ d: UnsafePointer<Dossier>, delegatee: DepartmentID, at instant: Date, sharing shared: ConditionProgram.SharedFacts?
    ) -> Authorization {
        core.authorize(
            d, procedure: d.pointee.procedure, delegatee: delegatee, at: instant, sharing: shared,
            hash: StringIndex.asciiHash(d.pointee.procedure))
    }
}

extension DelegationRegistry.Core {
    typealias Authorization = DelegationRegistry.Authorization

    /// `DelegationRegistry.authorize` with `procedure` = the dossier's procedure code and `hash` =
    /// `StringIndex.asciiHash(procedure)`.
    func authorize(
        _ d: UnsafePointer<Dossier>, procedure: String, delegatee: DepartmentID, at instant: Date,
        sharing shared: ConditionProgram.SharedFacts?, hash: UInt64?
    ) -> Authorization {
        guard let list = procedureLookup[procedure, hash: hash] else { return .refused(.noDelegation, []) }
        // The records for the procedure naming `delegatee`, in file order, walked in place (no array of them).
        let (first, end) = candidateStart.withUnsafeBufferPointer { (Int($0[list]), Int($0[list + 1])) }
        let seconds = instant.timeIntervalSince1970
        let kind = Delegation.bit(d.pointee.applicant.kind)
        // The delegatee's bytes are read once: a record's delegatee with the same bytes is the same string;
        // any other is compared as a String (canonical equivalence). The walk's state lives inside the closure: as
        // variables of this function captured by a local function, every access to them was checked for
        // exclusivity at run time (~16% of a rule evaluation's instructions).
        let (named, granted) = StringLayout.withUTF8(delegatee.rawValue) { department -> (Bool, Int) in
            var named = false
            var granted = -1
            var day: Int32? = nil
            hot.withUnsafeBufferPointer { hot in
                candidates.withUnsafeBufferPointer { candidates in
                    conditionRefs.withUnsafeBufferPointer { conditions in
                        delegatees.withUnsafeBufferPointer { delegatees in
                            delegateeBytes.withUnsafeBufferPointer { bytes in
                                delegateeStart.withUnsafeBufferPointer { start in
                                    for k in first..<end {
                                        let i = Int(candidates[k])
                                        let from = Int(start[i])
                                        let n = Int(start[i + 1]) - from
                                        let sameBytes =
                                            n == department.count
                                            && (n == 0
                                                || StringLayout.bytesMatch(
                                                    UnsafeRawPointer(bytes.baseAddress! + from),
                                                    UnsafeRawPointer(department.baseAddress!), n))
                                        guard sameBytes || delegatees[i] == delegatee.rawValue else { continue }
                                        named = true
                                        guard hot[i].subjectMask & kind != 0,
                                            hot[i].wholeCity || hot[i].territory.contains(d.pointee.commune),
                                            seconds < hot[i].revokedAt
                                        else { continue }
                                        let today = day ?? LocalDate(instant: instant).dayNumber
                                        day = today
                                        guard today >= hot[i].validFrom, today <= hot[i].validTo else { continue }
                                        if let program = conditions[i] {
                                            let holds = program._withUnsafeGuaranteedRef { program in
                                                if let shared { return program.holds(d, sharing: shared) }
                                                return program.evaluate(root: 0, d).isTrue
                                            }
                                            if !holds { continue }
                                        }
                                        if granted < 0 || superseded.contains(granted) { granted = i }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            return (named, granted)
        }
        if granted >= 0 { return .granted(granted) }
        guard named else { return .refused(.noDelegation, []) }
        let all = candidateLists[list]
        return refusal(all.filter { DelegationRegistry.same(hot[Int($0)].delegatee, delegatee) }, d.pointee, instant)
    }

    /// The slow path: explain every candidate. Only taken for escalations.
    private func refusal(_ candidates: [Int32], _ dossier: Dossier, _ instant: Date) -> Authorization {
        var checks: [Explanation.DelegationCheck] = []
        var reasons = Set<EscalationReason>()
        for c in candidates {
            let record = records[Int(c)]
            let status: EscalationReason
            let detail: String
            if let timing = record.status(at: instant) {
                status = timing
                switch timing {
                case .revoked:
                    let by = record.revokingInstrument.map { " by \($0.number)" } ?? ""
                    detail = "revoked at \(ISO8601Instant.format(record.revokedAt ?? instant))\(by)"
                default:
                    detail = "valid from \(record.validFrom) to \(record.validTo.map(\.description) ?? "open-ended")"
                }
            } else if !record.covers(dossier) {
                status = .outsideConditions
                detail =
                    record.subjectMask & Delegation.bit(dossier.applicant.kind) == 0
                    ? "applicant kind \(dossier.applicant.kind.rawValue) is not among its subjects"
                    : "commune \(dossier.commune) is outside its territory"
            } else {
                status = .outsideConditions
                var text = "conditions do not hold"
                if let program = record.compiledConditions {
                    let verdict = program.evaluate(root: 0, dossier)
                    if verdict.node >= 0 { text = "\(program.sources[Int(verdict.node)]): \(verdict.why.text)" }
                }
                detail = text
            }
            reasons.insert(status)
            checks.append(
                .init(id: record.id, instrument: record.instrument.number, status: status.rawValue, detail: detail))
        }
        for reason in [EscalationReason.outsideConditions, .revoked, .expired, .notYetValid]
        where reasons.contains(reason) {
            return .refused(reason, checks)
        }
        return .refused(.noDelegation, checks)
    }
}
