import ArgumentParser
import Authority
import Foundation
import Messages
import Operations
import Services

/// `motcua portal`: the sync with the National Public Service Portal.
struct PortalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "portal",
        abstract: "The National Public Service Portal sync: records on portal.sync, acknowledgements on portal.sync.ack.",
        subcommands: [Reconcile.self])

    struct Reconcile: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Dossiers whose status changed on a day and whose last acknowledged status differs from PostgreSQL's.",
            discussion: """
                Lists each such dossier with its status code now (PostgreSQL), the last record sent and the last \
                one the portal accepted: a record lost on the way, refused by the portal, or not acknowledged yet. \
                Exits 1 when it lists any. Codes in docs/formats.md (Portal sync). Needs DATABASE_URL.

                Example:
                  motcua portal reconcile --day 2026-11-27
                """)

        @Option(help: "The local day (YYYY-MM-DD) of the status changes to check.")
        var day: String

        @Flag(help: "Print JSON instead of text.")
        var json = false

        func validate() throws {
            if LocalDate(day) == nil { throw ValidationError("--day: expected YYYY-MM-DD, got '\(day)'") }
        }

        func run() async throws {
            let db = try CLI.database()
            let differences = try PortalSync.reconcile(day: LocalDate(day)!, in: db)
            if json {
                try CLI.printJSON(differences)
            } else if differences.isEmpty {
                print("portal in sync for the status changes of \(day)")
            } else {
                func text(_ code: Int?) -> String {
                    code.map { c in "\(c) \(PortalStatus(rawValue: c).map { "\($0)" } ?? "")" } ?? "—"
                }
                let rows = differences.map {
                    [TerminalText.escape($0.code ?? $0.dossierId), text($0.status), text($0.lastSent),
                     text($0.lastAcknowledged)]
                }
                print(CLI.table(["dossier", "status now", "last sent", "last acknowledged"], rows))
                print("\(differences.count) dossier(s) out of sync on \(day)")
            }
            if !differences.isEmpty { throw ExitCode(1) }
        }
    }
}
