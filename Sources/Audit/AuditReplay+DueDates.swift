import Authority
import Foundation
import Postgres
import Store

extension AuditReplay {
    /// Re-derives the due date of every received dossier in `scope` (nil: every one) with the catalogue version the
    /// dossier recorded at its receipt (`dossiers.catalogue_version`, migration 021) and the working-day calendar,
    /// and reports each that differs from the due date reception stored, or whose version is not stored. Dossiers
    /// received before migration 021 recorded no version and are not counted.
    ///
    /// A time limit corrected in `deploy/catalog` after a dossier's receipt does not change its re-derived due
    /// date: the dossier keeps the terms in force when it was received.
    public static func rederiveDueDates(
        of scope: Set<String>?, calendar: WorkingCalendar, on connection: PostgresConnection
    ) throws -> (rederived: Int, findings: [AuditFinding]) {
        let texts = try CatalogueVersionStore.all(on: connection)
        var versions: [String: CatalogueVersion?] = [:]
        var rederived = 0
        var findings: [AuditFinding] = []
        for receipt in try CatalogueVersionStore.receipts(on: connection) {
            if let scope, !scope.contains(receipt.dossierId) { continue }
            guard let recorded = receipt.catalogueVersion else { continue }
            func finding(_ rederived: String?, _ detail: String) -> AuditFinding {
                var finding = AuditFinding(
                    kind: .dueDateDiffers, dossierId: receipt.dossierId, step: nil, department: receipt.department,
                    field: "due_date", stored: receipt.dueDate, rederived: rederived, detail: detail)
                finding.code = receipt.code
                return finding
            }
            if versions[recorded] == nil {
                versions[recorded] = texts[recorded].flatMap { try? CatalogueVersion(canonicalText: $0) }
            }
            guard let version = versions[recorded] ?? nil, version.version == recorded else {
                findings.append(finding(
                    nil, "its catalogue version \(recorded.prefix(12)) is not in catalogue_versions (or does not rebuild to itself)"))
                continue
            }
            rederived += 1
            let due: LocalDate?
            do {
                due = try version.dueDate(of: receipt.procedure, receivedAt: receipt.receivedAt, calendar: calendar)
            } catch {
                findings.append(finding(nil, "the calendar cannot re-derive it: \(error)"))
                continue
            }
            guard let due else {
                findings.append(finding(nil, "procedure \(receipt.procedure) is not in its catalogue version \(recorded.prefix(12))"))
                continue
            }
            if due.description != receipt.dueDate {
                findings.append(finding(
                    due.description,
                    "catalogue version \(recorded.prefix(12)) gives \(version.terms(of: receipt.procedure)!.timeLimit) from the receipt"))
            }
        }
        return (rederived, findings)
    }

    /// ``rederiveDueDates(of:calendar:on:)`` with this replay's calendar.
    func rederiveDueDates(
        of scope: Set<String>, _ connection: PostgresConnection
    ) throws -> (rederived: Int, findings: [AuditFinding]) {
        try Self.rederiveDueDates(of: scope, calendar: bundle.calendar, on: connection)
    }
}
