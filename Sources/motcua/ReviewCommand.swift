import ArgumentParser
import Audit
import Authority
import EffectivelyOnce
import Foundation
import Kafka
import Messages
import Pages
import ServiceCommands
import Services
import Simulation
import Store

/// `motcua review …`: officials list the decisions awaiting their signature, sign or refuse them, or ask for
/// documents. Every action is a command on the department topic; the department worker applies it.
struct ReviewCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "review",
        abstract: "Officials' review: list decisions awaiting signature, sign, refuse, request a supplement.",
        discussion: """
            Examples:
              motcua review list --department labour
              motcua review sign LD-261127-000007 --official ld-0003 --department labour --wait
            """,
        subcommands: [
            List.self, Sign.self, Refuse.self, Supplement.self, Propose.self, Approve.self, Return.self, Transfer.self,
            Recall.self, Draft.self, ApproveDraft.self, ReturnDraft.self, Assign.self,
        ])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the decisions of a department that await an official's signature (latest round).",
            discussion: """
                Needs DATABASE_URL.

                Examples:
                  motcua review list --department labour
                  motcua review list --department culture --json
                  motcua review list --official ld-specialist       (the stages I hold, overdue and due soon first)
                  motcua review list --department labour --division employment
                  motcua review list --department labour --drafts   (drafts waiting for a leader's approval)
                """)

        @Option(help: "The department (industry-trade, environment, labour, culture, industrial-zones).")
        var department: DepartmentID?

        @Option(help: "An official's queue: the open stages they hold (deploy/workflows/), soonest due first.")
        var official: String?

        @Option(help: "With --department: a division's queue of open stages, soonest due first.")
        var division: String?

        @Option(help: "The deploy directory (the working-day calendar for due-soon).")
        var rules: String = "deploy"

        @Option(parsing: .unconditional, help: "At most this many, oldest first.")
        var limit: Int = 200

        @Flag(help: "Print JSON instead of text.")
        var json = false

        @Flag(help: "With --department: the drafts waiting for a leader's approval (review draft …) instead.")
        var drafts = false

        func validate() throws {
            if let department { try checkDepartment(department) }
            if drafts && (department == nil || official != nil || division != nil) {
                throw ValidationError("--drafts lists a department's drafts: name --department D alone")
            }
            guard official != nil || department != nil else {
                throw ValidationError("name --department D (its signatures and divisions) or --official ID (a queue)")
            }
            if division != nil && department == nil {
                throw ValidationError("--division needs --department: divisions are a department's")
            }
            guard limit > 0 else {
                throw ValidationError("--limit must be a positive number of decisions, got \(limit): e.g. --limit 50")
            }
        }

        struct Item: Encodable {
            var dossierId: String
            var code: String?
            var step: Int
            var round: Int
            var procedure: String
            var prepared: String
            var ruleId: String?
            var delegationId: String?
            var decidedAt: Date
            var dueDate: String?
            var overdue: Bool
        }

        func run() async throws {
            if drafts, let department { return try ReviewCommand.printWaitingDrafts(department: department, json: json) }
            guard let department, official == nil, division == nil else {
                return try ReviewCommand.printStageQueue(
                    official: official, department: department, division: division, limit: limit, json: json,
                    rules: rules)
            }
            let db = try CLI.database()
            let items = try awaiting(department: department, limit: limit, in: db)
            if json { return try CLI.printJSON(items) }
            if items.isEmpty {
                print("no decisions of \(department) await a signature")
                return
            }
            print(CLI.table(
                ["code", "step", "procedure", "prepared", "rule", "delegation", "prepared at", "due", "overdue"],
                items.map {
                    [$0.code ?? $0.dossierId, String($0.step), $0.procedure, $0.prepared, $0.ruleId ?? "—",
                     $0.delegationId ?? "—", CLI.local($0.decidedAt), $0.dueDate ?? "—", $0.overdue ? "YES" : "no"]
                }))
            print("\(items.count) awaiting; sign with: motcua review sign <code> --official <id> --department \(department)")
        }

        func awaiting(department: DepartmentID, limit: Int, in db: CLI.Connection) throws -> [Item] {
            try ReviewQueue.awaiting(departments: [department], limit: limit, in: db).map {
                Item(
                    dossierId: $0.dossierId, code: $0.code, step: $0.step, round: $0.round, procedure: $0.procedure,
                    prepared: $0.prepared.rawValue, ruleId: $0.ruleId, delegationId: $0.delegationId,
                    decidedAt: $0.decidedAt, dueDate: $0.dueDate, overdue: $0.overdue)
            }
        }
    }

    struct Sign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign the prepared decision of a dossier (approve, or refuse when it was prepared as a refusal).",
            discussion: """
                Sends a signature command to dossiers.<department>, keyed by the dossier id; the department worker \
                checks the official's authority and records the signature. The command id is derived from the \
                dossier, step, round, official and decision: sending it twice signs once. Needs DATABASE_URL and \
                KAFKA_BOOTSTRAP.

                An approval may carry its electronic result file (the signed licence or decision as a document), \
                recorded with the signature and counted by the scorecard: --result-document ID --result-link \
                https://… and either --result-file FILE (its SHA-256 is computed here) or --result-sha256 HEX.

                Examples:
                  motcua review sign CT-261127-000012 --official ct-0042 --department industry-trade
                  motcua review sign CT-261127-000012 --official ct-0042 --department industry-trade --wait
                  motcua review sign CT-261127-000012 --official ct-0042 --department industry-trade \
                      --result-document GP-2026-000731 --result-file gp-2026-000731.pdf \
                      --result-link https://docs.example.gov.vn/GP-2026-000731
                """)

        @OptionGroup var options: ActionOptions

        @Option(help: "A note recorded with the signature.")
        var reason: String?

        @OptionGroup var result: ResultOptions

        func run() async throws {
            try await options.sign(.approve, reason: reason, result: try result.reference())
        }
    }

    struct Refuse: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Refuse a dossier whose decision awaits signature, with the legal reason.",
            discussion: """
                Sends a signed refusal to dossiers.<department>. Needs DATABASE_URL and KAFKA_BOOTSTRAP.

                Example:
                  motcua review refuse LD-261127-000007 --official ld-0003 --department labour \\
                      --reason "Art. 9(2) Decree 152/2020: health certificate older than 12 months"
                """)

        @OptionGroup var options: ActionOptions

        @Option(help: "The legal reason for the refusal (required).")
        var reason: String

        func validate() throws {
            guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw ValidationError("--reason must state the legal reason for the refusal")
            }
        }

        func run() async throws {
            try await options.sign(.refuse, reason: reason)
        }
    }

    struct Supplement: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ask the applicant for documents; the deadline clock pauses until they are supplied.",
            discussion: """
                Sends a supplement request to dossiers.<department>. Document ids are those of the catalogue \
                (deploy/catalog/documents.yaml). Needs DATABASE_URL and KAFKA_BOOTSTRAP.

                Example:
                  motcua review supplement MT-261127-000031 --official mt-0011 --department environment \\
                      --documents water-analysis,site-plan --reason "the water analysis is older than 6 months"
                """)

        @OptionGroup var options: ActionOptions

        @Option(help: "The document ids asked for, comma-separated.")
        var documents: String

        @Option(help: "Why they are needed (shown to the applicant).")
        var reason: String

        @Option(help: "The deploy directory (to check the document ids).")
        var rules: String = "deploy"

        func run() async throws {
            let ids = documents.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
                !$0.isEmpty
            }
            guard !ids.isEmpty else { throw CLIError("--documents: list at least one document id (a,b)") }
            let catalogue = try CLI.bundle(rules).catalogue
            let unknown = ids.filter { catalogue.documentType($0) == nil }
            guard unknown.isEmpty else {
                throw CLIError(
                    "--documents: unknown document type(s) \(unknown.joined(separator: ", ")); see "
                        + "\(rules)/catalog/documents.yaml for the ids")
            }
            let db = try CLI.database()
            let target = try options.target(in: db, requireAwaiting: false)
            let clock = try CLI.clock()
            let command = SupplementRequest(
                commandId: StableID.make(
                    "supplement-request", target.dossier.id, String(target.step), String(target.round),
                    options.official, ids.joined(separator: ",")),
                dossierId: target.dossier.id, step: target.step,
                official: Official(id: options.official, department: options.department), documents: ids,
                reason: reason, at: clock.now())
            try await options.send(command, type: MessageType.requestSupplement, id: command.commandId, target: target)
            let eventId = StableID.make("command-event", DossierEvent.Kind.supplementRequested.rawValue,
                                        command.commandId.uuidString)
            let rejectedIds = [DossierEvent.Kind.signatureRejected, .commandRejected].map {
                StableID.make("command-event", $0.rawValue, command.commandId.uuidString)
            }
            try await options.waitIfAsked(db: db, target: target) {
                if try TimelineRead.event(eventId, in: db) != nil {
                    return "supplement requested; the deadline is paused until the applicant supplies the documents"
                }
                return nil
            } rejected: {
                try rejectedIds.lazy.compactMap { try TimelineRead.event($0, in: db) }.first.map { $0.detail ?? "rejected" }
            }
        }
    }

    /// What sign, refuse and supplement share.
    struct ActionOptions: ParsableArguments {
        @OptionGroup var topicOptions: TopicOptions

        @Argument(help: "The dossier's code or id.")
        var dossier: String

        @Option(help: "The official's id.")
        var official: String

        @Option(help: "The official's department.")
        var department: DepartmentID

        // Unconditional: `--step -5` is a (wrong) value to name, not a missing one.
        @Option(parsing: .unconditional, help: "The step to act on, 0 for the procedure's first (default: the step the dossier is at).")
        var step: Int?

        @Flag(help: "Wait until the worker has applied the command (reads PostgreSQL).")
        var wait = false

        @Option(parsing: .unconditional, help: "Seconds to wait with --wait.")
        var timeout: Int = 30

        @Option(
            name: .customLong("key"),
            help: "The official's private key file (PEM, from their certificate's issuer or `motcua officials dev-ca`); default: MOTCUA_OFFICIAL_KEY. Commands are signed with it; once the registry of officials is in force, unsigned commands are refused.")
        var keyFile: String?

        func validate() throws {
            try checkDepartment(department)
            guard !official.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw ValidationError("--official must name the official (their id)")
            }
            if let step { try CLI.checkStep(step) }
            guard timeout > 0 else {
                throw ValidationError("--timeout must be a positive number of seconds, got \(timeout): e.g. --timeout 60")
            }
        }

        struct Target {
            var dossier: DossierReference
            var step: Int
            var round: Int
            var department: DepartmentID
            var outcome: Outcome
            var review: Review
            var signedAt: Date?
            var ruleVersion: String
        }

        /// The decision the action is about; errors when the official's department does not hold the dossier.
        func target(in db: CLI.Connection, requireAwaiting: Bool) throws -> Target {
            let ref = try CLI.dossier(dossier, in: db)
            let name = ref.code ?? ref.id
            guard let latest = try DecisionRead.latest(dossierId: ref.id, step: step, in: db) else {
                throw CLIError(
                    "dossier \(name) has no decision\(step.map { " at step \($0)" } ?? "") yet: the department worker "
                        + "prepares one first (see `motcua status \(name)`)")
            }
            let target = Target(
                dossier: ref, step: latest.step, round: latest.round, department: latest.department,
                outcome: latest.outcome, review: latest.review, signedAt: latest.signedAt,
                ruleVersion: latest.ruleVersion)
            guard target.department == department else {
                throw CLIError(
                    "dossier \(name) is held by \(target.department), not \(department): an official of \(department) "
                        + "cannot act on it (the worker would reject it as signature-rejected); ask an official of "
                        + "\(target.department)")
            }
            if ["withdrawn", "result-returned"].contains(ref.status) {
                throw CLIError("dossier \(name) is \(ref.status): there is nothing to act on")
            }
            if requireAwaiting {
                guard target.review == .official, [.approve, .refuse].contains(target.outcome) else {
                    throw CLIError(
                        "dossier \(name) does not await a signature: its decision at step \(target.step) is "
                            + "'\(target.outcome.rawValue)' (\(target.review.rawValue)); see `motcua status \(name)`")
                }
                if let signedAt = target.signedAt {
                    throw CLIError("dossier \(name) was already signed at \(CLI.local(signedAt)); nothing to do")
                }
            }
            return target
        }

        func sign(_ decision: SignCommand.Decision, reason: String?, result: ResultReference? = nil) async throws {
            let db = try CLI.database()
            let target = try target(in: db, requireAwaiting: true)
            let clock = try CLI.clock()
            var command = SignCommand(
                commandId: StableID.make(
                    "sign", target.dossier.id, String(target.step), String(target.round), official, decision.rawValue),
                dossierId: target.dossier.id, step: target.step,
                official: Official(id: official, department: department), decision: decision, reason: reason,
                at: clock.now(), round: target.round, preparedOutcome: target.outcome.rawValue,
                ruleVersion: target.ruleVersion)
            command.result = result
            try await send(command, type: MessageType.sign, id: command.commandId, target: target)
            let rejectedIds = [DossierEvent.Kind.signatureRejected, .commandRejected].map {
                StableID.make("command-event", $0.rawValue, command.commandId.uuidString)
            }
            try await waitIfAsked(db: db, target: target) {
                guard let signature = try DecisionRead.signature(
                    dossierId: target.dossier.id, step: target.step, round: target.round, in: db)
                else { return nil }
                let by = signature.signedBy
                let outcome = signature.outcome?.rawValue ?? "?"
                return by == official ? "signed: \(outcome)" : "already signed by \(by) (\(outcome))"
            } rejected: {
                try rejectedIds.lazy.compactMap { try TimelineRead.event($0, in: db) }.first.map { $0.detail ?? "rejected" }
            }
        }

        func send<T: Encodable>(_ command: T, type: String, id: UUID, target: Target) async throws {
            let topic = topicOptions.topics.department(target.department)
            let value: [UInt8]
            if let signer = try OfficialSigner.load(path: keyFile, official: official, in: try CLI.database()) {
                value = try signer.encode(command, type: type, department: target.department)
            } else {
                value = Array(try MessageCoding.encoder().encode(command))
                FileHandle.standardError.write(Data(
                    "warning: sending unsigned (no --key and no MOTCUA_OFFICIAL_KEY): once the registry of officials is in force the worker refuses it\n".utf8))
            }
            let report = try await CLI.send(
                topic: topic, key: target.dossier.id, type: type, id: id, source: "motcua/review/\(official)",
                value: value)
            print("sent \(type) for \(target.dossier.code ?? target.dossier.id) step \(target.step) to \(topic) "
                  + "(partition \(report.partition), offset \(report.offset), command \(id.uuidString.lowercased()))")
        }

        /// With --wait: polls until `done` or `rejected` answers; exits non-zero on rejection or timeout.
        func waitIfAsked(
            db: CLI.Connection, target: Target, done: () throws -> String?, rejected: () throws -> String?
        ) async throws {
            guard wait else { return }
            let deadline = ContinuousClock.now + .seconds(timeout)
            while ContinuousClock.now < deadline {
                if let text = try done() {
                    print(text)
                    return
                }
                if let reason = try rejected() {
                    throw CLIError("the worker rejected the command: \(reason)")
                }
                try await Task.sleep(for: .milliseconds(200))
            }
            throw CLIError(
                "no result after \(timeout) s: is the \(target.department) worker running? The command is on its "
                    + "topic and will be applied when it runs (see `motcua status \(target.dossier.code ?? target.dossier.id)`)")
        }
    }
}

func checkDepartment(_ department: DepartmentID) throws {
    try CLI.checkDepartment(department)
}
