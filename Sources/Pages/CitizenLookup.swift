import Authority
import Foundation
import Kafka
import Messages
import Operations
import Postgres
import Store

/// What a citizen holding a dossier code may see of it: where it is, when it is due, how it was decided and a
/// short timeline. Nothing personal: the lookup reads only non-personal columns (never `dossiers.body`, which holds
/// the applicant's id and name) and never shows the dossier id.
public struct CitizenDossier: Codable, Sendable, Hashable {
    public struct Agency: Codable, Sendable, Hashable {
        /// Department id (`labour`), `reception` (the one-stop desk) or `applicant`.
        public var id: String
        public var name: String
    }

    public struct Procedure: Codable, Sendable, Hashable {
        public var code: String
        public var name: String
        /// False when its time limit was not verified against a published source (the page says so); absent in
        /// answers of earlier versions.
        public var verified: Bool?
    }

    public struct Decision: Codable, Sendable, Hashable {
        /// `approve` or `refuse`.
        public var outcome: String
        /// ISO-8601 with the Hanoi offset.
        public var decidedAt: String
    }

    public struct Event: Codable, Sendable, Hashable {
        /// The event type (`received`, `assigned`, `forwarded`, `decided`, …).
        public var type: String
        /// ISO-8601 with the Hanoi offset.
        public var at: String
        public var from: Agency?
        public var to: Agency?
        /// `before`, `on` or `after` the due date of the step concerned, when it has one.
        public var timing: String?
    }

    public var code: String
    public var status: String
    public var procedure: Procedure
    /// The agency holding the dossier now.
    public var department: Agency?
    /// ISO-8601 with the Hanoi offset.
    public var receivedAt: String
    /// The appointment date (local day, `YYYY-MM-DD`).
    public var dueDate: String?
    public var overdue: Bool
    public var decision: Decision?
    public var timeline: [Event]
}

/// `GET /dossiers/{code}`: finds a dossier by its code and renders it as JSON or HTML.
public enum CitizenLookup {
    /// Codes are `AGENCY-yymmdd-NNNNNN` (see ``Reception``): an agency code of capital letters, the local day of
    /// receipt and a number of at least six digits.
    public static let codeFormat = "AGENCY-yymmdd-NNNNNN (for example CT-261127-000042)"

    /// Whether `text` has the form of a dossier code.
    public static func isWellFormed(_ text: some StringProtocol) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return false }
        let agency = parts[0].utf8, day = parts[1].utf8, number = parts[2].utf8
        let isUpper = { (byte: UInt8) in byte >= 0x41 && byte <= 0x5A }
        let isDigit = { (byte: UInt8) in byte >= 0x30 && byte <= 0x39 }
        guard (1...16).contains(agency.count), agency.allSatisfy({ isUpper($0) || isDigit($0) }),
              let first = agency.first, isUpper(first) else { return false }
        guard day.count == 6, day.allSatisfy(isDigit) else { return false }
        let month = Int(String(parts[1].dropFirst(2).prefix(2))) ?? 0
        let dayOfMonth = Int(String(parts[1].suffix(2))) ?? 0
        guard (1...12).contains(month), (1...31).contains(dayOfMonth) else { return false }
        return (6...9).contains(number.count) && number.allSatisfy(isDigit)
    }

    /// The agency behind an id of the timeline or of the status.
    static func agency(_ id: String?, catalogue: Catalogue) -> CitizenDossier.Agency? {
        guard let id, !id.isEmpty else { return nil }
        switch id {
        case "reception": return .init(id: id, name: "One-stop desk (reception)")
        case "applicant": return .init(id: id, name: "Applicant")
        default: return .init(id: id, name: catalogue.department(DepartmentID(id))?.name ?? id)
        }
    }

    /// Most timeline entries shown.
    public static let timelineLimit = 50

    /// The dossier with this code whose receipt secret is `secret`, or nil (a wrong code, a wrong or missing secret,
    /// a dossier submitted without one: the caller cannot tell which). `code` is bound as a parameter.
    public static func find(
        code: String, secret: String?, in database: PostgresConnection, catalogue: Catalogue
    ) throws -> CitizenDossier? {
        guard let secret, let expected = try DossierStatusRead.receiptSecretSha256(code: code, in: database),
            ReceiptSecret.matches(secret, sha256: expected)
        else { return nil }
        return try find(code: code, in: database, catalogue: catalogue)
    }

    /// The dossier with this code, or nil (operators' reads; the public lookup also needs the receipt secret).
    static func find(code: String, in database: PostgresConnection, catalogue: Catalogue) throws -> CitizenDossier? {
        // Only non-personal columns of `dossiers`: never `body`.
        guard let found = try DossierStatusRead.find(.code(code), in: database), let reception = found.reception
        else { return nil }
        var decision: CitizenDossier.Decision?
        if let outcome = found.projection?.outcome, let decidedAt = found.projection?.decidedAt {
            decision = .init(outcome: outcome.rawValue, decidedAt: HTML.localISO(decidedAt))
        }
        let timeline = try TimelineRead.entries(of: found.id, limit: timelineLimit, in: database).map { event in
            CitizenDossier.Event(
                type: event.type, at: HTML.localISO(event.at), from: agency(event.from, catalogue: catalogue),
                to: agency(event.to, catalogue: catalogue), timing: event.timing)
        }
        let procedure = reception.procedure
        return CitizenDossier(
            code: reception.code, status: found.status ?? reception.status,
            procedure: .init(
                code: procedure, name: catalogue.procedure(procedure)?.name ?? procedure,
                verified: catalogue.procedure(procedure)?.verified ?? false),
            department: agency(found.department?.rawValue, catalogue: catalogue),
            receivedAt: HTML.localISO(found.receivedAt ?? reception.receivedAt), dueDate: found.dueDate,
            overdue: found.overdue, decision: decision, timeline: timeline)
    }

    public static func json(_ dossier: CitizenDossier) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(dossier))
    }

    /// `{"error": …}` for 400 and 404.
    public static func errorJSON(_ message: String, code: String? = nil) -> [UInt8] {
        var object = ["error": message]
        if let code { object["expectedFormat"] = code }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array((try? encoder.encode(object)) ?? Data(#"{"error":"error"}"#.utf8))
    }

    static func outcomeText(_ outcome: String) -> String {
        switch outcome {
        case "approve": return "approved"
        case "refuse": return "refused"
        default: return outcome
        }
    }

    /// "2026-11-27T09:30:00+07:00" → "2026-11-27 09:30".
    static func shortTime(_ iso: String) -> String {
        String(iso.prefix(16)).replacingOccurrences(of: "T", with: " ")
    }

    /// The citizen's page.
    public static func html(_ dossier: CitizenDossier) -> String {
        func e(_ text: String) -> String { HTML.escape(text) }
        var body = "<h1>Dossier <code id=\"code\">\(e(dossier.code))</code></h1>\n<dl>\n"
        body += "<dt>Status</dt><dd id=\"status\">\(e(dossier.status))</dd>\n"
        body += "<dt>Procedure</dt><dd id=\"procedure\">\(e(dossier.procedure.name)) (\(e(dossier.procedure.code)))"
            + (dossier.procedure.verified != false
                ? "" : " <small class=\"unverified\">(time limit unverified against its source)</small>") + "</dd>\n"
        body += "<dt>Held by</dt><dd id=\"department\">\(e(dossier.department?.name ?? "—"))</dd>\n"
        body += "<dt>Received</dt><dd id=\"received\">\(e(shortTime(dossier.receivedAt)))</dd>\n"
        body += "<dt>Appointment</dt><dd id=\"due\">\(e(dossier.dueDate ?? "—"))</dd>\n"
        body += "<dt>Overdue</dt><dd id=\"overdue\" class=\"\(dossier.overdue ? "late" : "ok")\">"
            + (dossier.overdue ? "yes" : "no") + "</dd>\n"
        if let decision = dossier.decision {
            body += "<dt>Decision</dt><dd id=\"decision\">\(e(outcomeText(decision.outcome))) on "
                + "\(e(shortTime(decision.decidedAt)))</dd>\n"
        } else {
            body += "<dt>Decision</dt><dd id=\"decision\">not yet decided</dd>\n"
        }
        body += "</dl>\n<h2>Timeline</h2>\n<ol class=\"timeline\" id=\"timeline\">\n"
        for event in dossier.timeline {
            var line = "<time>\(e(shortTime(event.at)))</time> <b>\(e(event.type))</b>"
            if let from = event.from, let to = event.to, from != to {
                line += " — \(e(from.name)) → \(e(to.name))"
            } else if let agency = event.to ?? event.from {
                line += " — \(e(agency.name))"
            }
            if event.timing == "after" { line += " <span class=\"late\">(after the due date)</span>" }
            body += "<li>\(line)</li>\n"
        }
        body += "</ol>\n<p class=\"meta\">Times are Hanoi time (UTC+7).</p>"
        return HTML.page(title: "Dossier \(dossier.code)", body: body)
    }

    /// A page for 400 and 404.
    public static func errorHTML(title: String, message: String) -> String {
        HTML.page(title: title, body: "<h1>\(HTML.escape(title))</h1>\n<p id=\"error\">\(HTML.escape(message))</p>")
    }
}
