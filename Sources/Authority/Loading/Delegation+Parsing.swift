import Foundation

extension Delegation {
    /// Reads one record, already validated against its schema when it comes from a file.
    static func parse(_ node: YAMLNode, file: String, report: inout ValidationReport) -> Delegation? {
        guard node.members != nil else {
            report.error(file, node.line, "a delegation must be an object")
            return nil
        }
        var ok = true
        func string(_ key: String, in n: YAMLNode = node) -> String? {
            guard let v = n[key] else {
                report.error(file, n.line, "missing \(key)")
                ok = false
                return nil
            }
            guard let s = v.string, !s.isEmpty else {
                report.error(file, v.line, "\(key): expected a non-empty string, got \(v.brief)")
                ok = false
                return nil
            }
            return s
        }
        func date(_ key: String, in n: YAMLNode = node, required: Bool = true) -> LocalDate? {
            guard let v = n[key] else {
                if required {
                    report.error(file, n.line, "missing \(key)")
                    ok = false
                }
                return nil
            }
            guard let s = v.string, let d = LocalDate(s) else {
                report.error(file, v.line, "\(key): expected a date YYYY-MM-DD, got \(v.brief)")
                ok = false
                return nil
            }
            return d
        }
        func instrument(_ key: String) -> Instrument? {
            guard let n = node[key] else { return nil }
            guard n.members != nil else {
                report.error(file, n.line, "\(key): expected an object with number, date, signer")
                ok = false
                return nil
            }
            guard let number = string("number", in: n), let d = date("date", in: n),
                let signer = string("signer", in: n)
            else { return nil }
            return Instrument(number: number, date: d, signer: signer)
        }

        let id = string("id")
        let grant = instrument("instrument")
        if node["instrument"] == nil {
            report.error(file, node.line, "missing instrument")
            ok = false
        }
        let modeText = string("mode")
        let mode = modeText.flatMap(Mode.init(rawValue:))
        if let modeText, mode == nil {
            report.error(
                file, node["mode"]?.line ?? node.line,
                "mode: expected one of delegation, devolution, signature-only; got \"\(modeText)\"")
            ok = false
        }
        let delegator = string("delegator")
        let delegatee = string("delegatee")
        var scope: Scope?
        if let scopeNode = node["scope"] {
            let procedures = scopeNode["procedures"]?.array?.compactMap(\.string) ?? []
            if procedures.isEmpty {
                report.error(file, scopeNode.line, "scope.procedures must list at least one procedure code")
                ok = false
            }
            let territory = scopeNode["territory"]?.array?.compactMap(\.string) ?? ["*"]
            var subjects: [Dossier.Applicant.Kind]?
            if let subjectNode = scopeNode["subjects"] {
                subjects = []
                for item in subjectNode.array ?? [] {
                    if let kind = item.string.flatMap(Dossier.Applicant.Kind.init(rawValue:)) {
                        subjects?.append(kind)
                    } else {
                        report.error(
                            file, item.line,
                            "scope.subjects: expected citizen, household, enterprise or organisation, got \(item.brief)"
                        )
                        ok = false
                    }
                }
            }
            scope = Scope(procedures: procedures, territory: territory, subjects: subjects)
        } else {
            report.error(file, node.line, "missing scope")
            ok = false
        }
        var conditions: Condition?
        if let c = node["conditions"] {
            conditions = Condition.parse(c, file: file, report: &report)
            if conditions == nil { ok = false }
        }
        let validFrom = date("validFrom")
        let validTo = date("validTo", required: false)
        if mode == .delegation && node["validTo"] == nil {
            report.error(file, node.line, "validTo is required for mode delegation (ủy quyền is time-limited)")
            ok = false
        }
        if let validFrom, let validTo, validTo < validFrom {
            report.error(
                file, node["validTo"]?.line ?? node.line, "validTo \(validTo) is before validFrom \(validFrom)")
        }
        var revokedAt: Date?
        if let r = node["revokedAt"] {
            if let s = r.string, let d = ISO8601Instant.parse(s) {
                revokedAt = d
            } else {
                report.error(file, r.line, "revokedAt: expected an ISO-8601 instant with offset, got \(r.brief)")
                ok = false
            }
        }
        let revoking = instrument("revokingInstrument")
        if node["revokedAt"] != nil && node["revokingInstrument"] == nil {
            report.error(file, node["revokedAt"]?.line ?? node.line, "revokedAt needs revokingInstrument")
        }
        if node["revokedAt"] == nil, let n = node["revokingInstrument"] {
            report.error(file, n.line, "revokingInstrument without revokedAt")
        }
        var supersedes: String?
        if node["supersedes"] != nil { supersedes = string("supersedes") }
        var delegate = Position.director
        if let delegateNode = node["delegate"] {
            let positions = Position.allCases.map(\.rawValue).joined(separator: ", ")
            if let text = delegateNode["position"]?.string, let position = Position(rawValue: text) {
                delegate = position
            } else {
                report.error(
                    file, delegateNode.line,
                    "delegate: expected { position: \(positions) }, got \(delegateNode["position"]?.brief ?? delegateNode.brief)")
                ok = false
            }
        }
        guard ok, let id, let grant, let mode, let delegator, let delegatee, let scope, let validFrom else {
            return nil
        }
        return Delegation(
            id: id, instrument: grant, mode: mode, delegator: DepartmentID(delegator), delegatee: DepartmentID(delegatee), scope: scope,
            conditions: conditions, validFrom: validFrom, validTo: validTo, revokedAt: revokedAt,
            revokingInstrument: revoking, supersedes: supersedes, canonicalJSON: node.canonicalJSON, file: file,
            line: node.line, delegate: delegate)
    }
}
