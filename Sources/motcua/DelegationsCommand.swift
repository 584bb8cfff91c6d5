import ArgumentParser
import Audit
import Authority
import EffectivelyOnce
import Foundation
import Messages
import Pages
import ServiceCommands
import Services
import Simulation
import Store

/// `motcua delegations …`: the delegation records in force — the files of `deploy/delegations/` plus the grants and
/// revocations recorded in PostgreSQL, which the workers overlay on the files.
struct DelegationsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delegations",
        abstract: "List, grant and revoke delegations of authority (with their legal instrument).",
        discussion: """
            Examples:
              motcua delegations list --department culture
              motcua delegations revoke uq-vh-2024-01 --instrument "No. 4512/QĐ-UBND"
            """,
        subcommands: [List.self, Grant.self, Revoke.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the delegations with their status now: valid, expired, revoked or not-yet-valid.",
            discussion: """
                Reads deploy/delegations/ and, when DATABASE_URL is set, the changes recorded with grant and revoke.

                Examples:
                  motcua delegations list
                  motcua delegations list --department culture --json
                """)

        @Option(help: "The deploy directory.")
        var rules: String = "deploy"

        @Option(help: "Only the delegations to this department.")
        var department: DepartmentID?

        @Flag(help: "Print JSON instead of text.")
        var json = false

        struct Item: Encodable {
            var id: String
            var delegatee: DepartmentID
            var mode: String
            var instrument: String
            var instrumentDate: String
            var validFrom: String
            var validTo: String?
            var revokedAt: Date?
            var revokingInstrument: String?
            var procedures: [String]
            var status: String
            var source: String
            var version: String
        }

        func run() async throws {
            let bundle = try CLI.bundle(rules)
            var changes: [DelegationChanges.Change] = []
            if CLI.environment["DATABASE_URL"] != nil || CLI.environment["PGHOST"] != nil {
                changes = try DelegationChanges.load(from: try CLI.database())
            } else if !json {
                printError("note: DATABASE_URL is not set: showing the files only, without recorded grants and revocations")
            }
            let records = try DelegationChanges.overlay(bundle.delegations.records, changes)
            let now = try CLI.clock().now()
            var items: [Item] = []
            for record in records where department == nil || record.delegatee == department {
                let last = changes.last { $0.delegationId == record.id }
                let source = last.map { "\($0.kind) #\($0.seq) (\($0.instrument))" } ?? "file"
                items.append(Item(
                    id: record.id, delegatee: record.delegatee, mode: record.mode.rawValue,
                    instrument: record.instrument.number, instrumentDate: record.instrument.date.description,
                    validFrom: record.validFrom.description, validTo: record.validTo?.description,
                    revokedAt: record.revokedAt, revokingInstrument: record.revokingInstrument?.number,
                    procedures: record.scope.procedures, status: record.status(at: now)?.rawValue ?? "valid",
                    source: source, version: String(record.version.prefix(12))))
            }
            if json { return try CLI.printJSON(items) }
            print(CLI.table(
                ["id", "delegatee", "mode", "instrument", "valid", "status", "procedures", "source"],
                items.map {
                    [$0.id, $0.delegatee.rawValue, $0.mode, $0.instrument, "\($0.validFrom) – \($0.validTo ?? "open-ended")",
                     $0.status + ($0.revokedAt.map { " since \(CLI.local($0))" } ?? ""), String($0.procedures.count),
                     $0.source]
                }))
            print("status at \(CLI.local(now)) (Asia/Ho_Chi_Minh)")
        }
    }

    struct Grant: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record a new delegation from a YAML record, checked like deploy/delegations/ files.",
            discussion: """
                FILE holds one record (or `delegations: [record]`) in the format of deploy/delegations/*.yaml, with \
                its instrument. It is checked against schemas/delegations.schema.json and against the catalogue; the \
                workers apply it from their next batch. To change a record, grant one with a new id and \
                `supersedes: <old id>`. Needs DATABASE_URL.

                Example:
                  motcua delegations grant uq-ld-2026-05.yaml
                """)

        @Argument(help: "The YAML file of the record.")
        var file: String

        @Option(help: "The deploy directory.")
        var rules: String = "deploy"

        func run() async throws {
            guard let text = FileManager.default.contents(atPath: file).map({ String(decoding: $0, as: UTF8.self) })
            else { throw CLIError("cannot read '\(file)': check the path") }
            let files = try DelegationFiles(deploy: rules)
            let record = try files.validate(text, displayName: file)
            let db = try CLI.database()
            let clock = try CLI.clock()
            let result = try DelegationChanges.record(
                kind: "grant", instrument: record.instrument.number, on: db, now: { clock.now() }
            ) { tx, _ in
                let changes = try DelegationChanges.load(from: tx)
                if changes.contains(where: { $0.delegationId == record.id }) {
                    throw CLIError(
                        "delegation \(record.id) is already on record (granted earlier); to change it, grant a record "
                            + "with a new id and `supersedes: \(record.id)`")
                }
                let validFrom = record.validFrom.startInstant
                return (record, validFrom)
            }
            print("granted \(record.id) to \(record.delegatee) by \(record.instrument.number), valid "
                  + "\(record.validFrom) – \(record.validTo?.description ?? "open-ended"), "
                  + "\(record.scope.procedures.count) procedure(s); change #\(result.seq), version "
                  + String(record.version.prefix(12)))
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a delegation: dossiers decided from that instant on escalate to the delegator (reason revoked).",
            discussion: """
                The revocation cites its instrument. Workers see it before they decide anything after its instant: \
                recording it waits for the batches in flight. Revoking twice, or an id not on record, is an error. \
                Needs DATABASE_URL.

                A revocation dated before now (--at in the past) makes decisions already recorded invalid: without \
                --confirm it is a dry run that records nothing, shows how many recorded decisions it would make \
                invalid, and exits 1. A recorded revocation is never edited: a wrong one is corrected by a later \
                record, `motcua delegations grant` of a record with a new id and `supersedes: <id>`.

                Examples:
                  motcua delegations revoke uq-ld-2024-01 --instrument "No. 4512/QĐ-UBND"
                  motcua delegations revoke uq-vh-2024-02 --instrument "No. 4513/QĐ-UBND" --at 2026-12-01T00:00:00+07:00
                  motcua delegations revoke uq-vh-2024-02 --instrument "No. 4513/QĐ-UBND" --at 2026-12-01T00:00:00+07:00 --confirm
                """)

        @Argument(help: "The delegation id.")
        var id: String

        @Option(help: "The revoking instrument's number, e.g. \"No. 4512/QĐ-UBND\".")
        var instrument: String

        @Option(help: "The instrument's date (YYYY-MM-DD; default: the local day of the revocation).")
        var instrumentDate: String?

        @Option(help: "Who signed the instrument.")
        var signer: String = "Chủ tịch UBND Thành phố"

        @Option(help: "From when (ISO-8601 instant with offset; default: now).")
        var at: String?

        @Option(help: "The deploy directory.")
        var rules: String = "deploy"

        @Flag(help: "Record a revocation dated before now (without it, such a revocation is only a dry run).")
        var confirm = false

        func validate() throws {
            guard !instrument.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw ValidationError("--instrument must give the revoking instrument's number")
            }
            if let at, ISO8601Instant.parse(at) == nil {
                throw ValidationError("--at: expected an ISO-8601 instant with offset, e.g. 2026-12-01T00:00:00+07:00; got '\(at)'")
            }
            if let instrumentDate, LocalDate(instrumentDate) == nil {
                throw ValidationError("--instrument-date: expected YYYY-MM-DD, got '\(instrumentDate)'")
            }
        }

        func run() async throws {
            let bundle = try CLI.bundle(rules)
            let db = try CLI.database()
            let clock = try CLI.clock()
            let explicit = at.flatMap { ISO8601Instant.parse($0) }
            if let explicit, explicit < clock.now(), !confirm {
                let records = try DelegationChanges.overlay(bundle.delegations.records, try DelegationChanges.load(from: db))
                guard let record = records.first(where: { $0.id == id }) else {
                    throw CLIError(
                        "no delegation '\(id)' on record: check the id with `motcua delegations list` "
                            + "(known: \(records.map(\.id).joined(separator: ", ")))")
                }
                if let revokedAt = record.revokedAt {
                    throw CLIError("delegation \(id) is already revoked since \(CLI.local(revokedAt)); a revocation cannot be repeated or moved")
                }
                let invalid = try DecisionRead.count(relyingOn: id, decidedSince: explicit, in: db)
                print("dry run, nothing recorded: revoking \(id) from \(CLI.local(explicit)) (Asia/Ho_Chi_Minh), before now, "
                      + "would make \(invalid) recorded decision(s) relying on it invalid (decided since then). "
                      + "Run it again with --confirm to record it. A recorded revocation is never edited: a wrong one "
                      + "is corrected by granting a record with a new id and `supersedes: \(id)`.")
                throw ExitCode(1)
            }
            let result = try DelegationChanges.record(
                kind: "revoke", instrument: instrument, on: db, now: { clock.now() }
            ) { tx, now in
                let changes = try DelegationChanges.load(from: tx)
                let records = try DelegationChanges.overlay(bundle.delegations.records, changes)
                guard let record = records.first(where: { $0.id == id }) else {
                    throw CLIError(
                        "no delegation '\(id)' on record: check the id with `motcua delegations list` "
                            + "(known: \(records.map(\.id).joined(separator: ", ")))")
                }
                if let revokedAt = record.revokedAt {
                    throw CLIError(
                        "delegation \(id) is already revoked since \(CLI.local(revokedAt))"
                            + (record.revokingInstrument.map { " by \($0.number)" } ?? "")
                            + "; a revocation cannot be repeated or moved")
                }
                let instant = explicit ?? now
                let day = instrumentDate.flatMap { LocalDate($0) }
                    ?? LocalDate(instant: instant)
                let revoked = try DelegationChanges.revoked(
                    record, at: instant, by: Delegation.Instrument(number: instrument, date: day, signer: signer))
                return (revoked, instant)
            }
            print("revoked \(id) from \(CLI.local(result.effectiveAt)) (Asia/Ho_Chi_Minh) by \(instrument); "
                  + "change #\(result.seq). Dossiers of \(result.record.delegatee) decided from then on escalate to "
                  + "the delegator with reason 'revoked'.")
            let now = clock.now()
            if result.effectiveAt < now {
                let already = try DecisionRead.count(relyingOn: id, decidedSince: result.effectiveAt, in: db)
                if already > 0 {
                    printError(
                        "warning: \(already) decision(s) relying on \(id) were made after \(CLI.local(result.effectiveAt)) "
                            + "and before this revocation was recorded; review them (motcua audit replay reports them)")
                }
            }
        }
    }
}

/// The files of the deploy directory and the JSON Schemas, to check a new delegation record as the files are.
struct DelegationFiles {
    var deploy: String
    var files: [String: String] = [:]
    var schemas: [String: String]?

    init(deploy: String) throws {
        self.deploy = deploy
        let root = URL(fileURLWithPath: deploy, isDirectory: true)
        guard FileManager.default.fileExists(atPath: root.path) else {
            throw CLIError("\(deploy): no such directory; pass --rules with the deploy directory")
        }
        for sub in ["catalog", "catalog/procedures", "delegations", "calendar", "rules", "workflows"] {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(sub).path)) ?? []
            for name in names.sorted() where name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
                files["\(sub)/\(name)"] = try String(
                    contentsOf: root.appendingPathComponent(sub).appendingPathComponent(name), encoding: .utf8)
            }
        }
        let schemaDirectory = root.appendingPathComponent("..").appendingPathComponent("schemas")
        if FileManager.default.fileExists(atPath: schemaDirectory.path) {
            var texts: [String: String] = [:]
            for kind in [
                "catalog-departments", "catalog-documents", "catalog-procedures", "catalog-communes", "delegations",
                "calendar", "rules", "workflows",
            ] {
                if let text = try? String(
                    contentsOf: schemaDirectory.appendingPathComponent("\(kind).schema.json"), encoding: .utf8)
                {
                    texts[kind] = text
                }
            }
            schemas = texts
        }
    }

    /// Checks `text` (one record, or `delegations: [record]`) with every other file; returns the record.
    func validate(_ text: String, displayName: String) throws -> Delegation {
        let wrapped: String
        let offset: Int
        let firstContent = text.split(separator: "\n").first {
            let t = $0.trimmingCharacters(in: .whitespaces)
            return !t.isEmpty && !t.hasPrefix("#")
        }
        if firstContent?.hasPrefix("delegations:") == true {
            wrapped = text
            offset = 0
        } else {
            // One record: make it the only item of a list, one line down.
            var lines = ["delegations:"]
            var first = true
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                let t = line.trimmingCharacters(in: .whitespaces)
                if first && !t.isEmpty && !t.hasPrefix("#") {
                    lines.append("  - " + line)
                    first = false
                } else {
                    lines.append("    " + line)
                }
            }
            wrapped = lines.joined(separator: "\n")
            offset = 1
        }
        let key = "delegations/zz-granted.yaml"
        var all = files
        all[key] = wrapped
        let prefix = deploy
        do {
            let bundle = try AuthorityBundle.load(files: all, schemas: schemas, displayPrefix: prefix)
            let fileIds = Set(try AuthorityBundle.load(files: files, schemas: schemas, displayPrefix: prefix)
                .delegations.records.map(\.id))
            let new = bundle.delegations.records.filter { !fileIds.contains($0.id) }
            guard new.count == 1 else {
                throw CLIError("\(displayName): expected exactly one delegation record, found \(new.count)")
            }
            return new[0]
        } catch let report as ValidationReport {
            let mine = "\(prefix)/\(key)"
            let problems = report.errors.map { problem -> String in
                problem.file == mine
                    ? "\(displayName):\(max(1, problem.line - offset)): \(problem.message)" : problem.description
            }
            throw CLIError(
                "the delegation record does not validate; nothing was recorded. Fix:\n"
                    + problems.joined(separator: "\n"))
        }
    }
}
