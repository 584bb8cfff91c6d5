import ArgumentParser
import Authority
import EffectivelyOnce
import Foundation
import Messages
import Operations
import Store

/// `motcua review draft supplement|refuse|apology|stop`, `review approve-draft` and `review return-draft`: letters
/// that a leader approves before they go out (issue 20). Each is a signed `motcua.official.draft` command on the
/// department topic; the worker records the draft, and sends it (with its effect) only when approved.
extension ReviewCommand {
    struct Draft: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "draft",
            abstract: "Draft a letter that a leader approves before it is sent: supplement, refuse, apology, stop.",
            discussion: """
                Nothing is sent and nothing changes until a leader approves the draft (`review approve-draft`): \
                a refusal or a stop notice by the delegate who signs the step's final decision, a supplement \
                request or an apology by a head of division or above. Needs DATABASE_URL and KAFKA_BOOTSTRAP.

                Examples:
                  motcua review draft supplement CT-261127-000012 --official ct-specialist --department industry-trade \\
                      --documents site-plan --reason "the site plan is not signed" --key ct-specialist.key.pem
                  motcua review draft apology CT-261127-000012 … --new-date 2026-12-18 --reason "site inspection"
                  motcua review draft stop CT-261127-000012 … --reason "the applicant did not supplement in time"
                """,
            subcommands: [DraftSupplement.self, DraftRefuse.self, DraftApology.self, DraftStop.self])
    }

    /// What the draft commands share: the dossier, the official and their key, and the reason the letter gives.
    struct DraftOptions: ParsableArguments {
        @OptionGroup var options: ActionOptions

        @Option(help: "The reason the letter gives (required; for the applicant).")
        var reason: String

        func validate() throws {
            guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw ValidationError("--reason must say why (the letter gives it to the applicant)")
            }
        }

        func write(_ kind: DraftKind, documents: [String]? = nil, newDate: String? = nil) async throws {
            let db = try CLI.database()
            let target = try options.target(in: db, requireAwaiting: kind == .refuse)
            let command = DraftCommand(
                commandId: StableID.make(
                    "draft", target.dossier.id, String(target.step), String(target.round), options.official,
                    kind.rawValue, reason),
                dossierId: target.dossier.id, step: target.step,
                official: Official(id: options.official, department: options.department), action: .write, kind: kind,
                reason: reason, documents: documents, newDate: newDate, at: try CLI.clock().now())
            try await options.send(command, type: MessageType.draft, id: command.commandId, target: target)
            let draftId = command.commandId
            try await options.waitIfAsked(db: db, target: target) {
                guard try DraftStore.drafts(target.dossier.id, in: db).contains(where: { $0.draftId == draftId }) else {
                    return nil
                }
                return "\(kind.rawValue) drafted (draft \(draftId.uuidString.lowercased())): it waits for a leader's "
                    + "approval; nothing is sent yet"
            } rejected: {
                try ReviewCommand.rejection(of: draftId, dossierId: target.dossier.id, in: db)
            }
        }
    }

    struct DraftSupplement: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "supplement",
            abstract: "Draft a supplement request (form 02): when approved, it is sent and the clock pauses.")
        @OptionGroup var draft: DraftOptions
        @Option(help: "The document ids asked for, comma-separated (deploy/catalog/documents.yaml).")
        var documents: String
        func run() async throws {
            let ids = documents.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
                !$0.isEmpty
            }
            guard !ids.isEmpty else { throw CLIError("--documents: list at least one document id (a,b)") }
            try await draft.write(.supplement, documents: ids)
        }
    }

    struct DraftRefuse: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "refuse",
            abstract: "Draft the refusal of a prepared decision: when approved by the delegate, the step is refused.")
        @OptionGroup var draft: DraftOptions
        func run() async throws { try await draft.write(.refuse) }
    }

    struct DraftApology: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "apology",
            abstract: "Draft an apology and extension request (form 04): when approved, the appointment date moves.")
        @OptionGroup var draft: DraftOptions
        @Option(help: "The new appointment date, YYYY-MM-DD (local), after the current one.")
        var newDate: String
        func validate() throws {
            guard LocalDate(newDate) != nil else {
                throw ValidationError("--new-date must be a day as YYYY-MM-DD, got '\(newDate)': e.g. --new-date 2026-12-18")
            }
        }
        func run() async throws { try await draft.write(.apology, newDate: newDate) }
    }

    struct DraftStop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "stop",
            abstract: "Draft a stop notice (form 05): when approved, the dossier's handling ends, stopped.")
        @OptionGroup var draft: DraftOptions
        func run() async throws { try await draft.write(.stop) }
    }

    /// What approve-draft and return-draft share: which waiting draft of the dossier.
    struct DecideDraftOptions: ParsableArguments {
        @OptionGroup var options: ActionOptions

        @Option(help: "The kind of the draft (supplement, refuse, apology, stop), when several wait on the dossier.")
        var kind: DraftKind?

        func send(_ action: DraftAction, reason: String?) async throws {
            let db = try CLI.database()
            let target = try options.target(in: db, requireAwaiting: false)
            let name = target.dossier.code ?? target.dossier.id
            let waiting = try DraftStore.drafts(target.dossier.id, in: db).filter {
                $0.state == "written" && $0.step == target.step && (kind.map(\.rawValue) == nil || $0.kind == kind?.rawValue)
            }
            guard let draft = waiting.first else {
                throw CLIError("dossier \(name) has no draft waiting for approval at step \(target.step)"
                    + (kind.map { " of kind \($0.rawValue)" } ?? "") + "; see `motcua review list --department \(target.department)`")
            }
            guard waiting.count == 1 else {
                throw CLIError("several drafts wait on dossier \(name) ("
                    + waiting.map(\.kind).joined(separator: ", ") + "): name one with --kind")
            }
            let command = DraftCommand(
                commandId: StableID.make("draft-\(action.rawValue)", draft.draftId.uuidString, options.official),
                dossierId: target.dossier.id, step: target.step,
                official: Official(id: options.official, department: options.department), action: action,
                draftId: draft.draftId, reason: reason, at: try CLI.clock().now())
            try await options.send(command, type: MessageType.draft, id: command.commandId, target: target)
            try await options.waitIfAsked(db: db, target: target) {
                guard let now = try DraftStore.drafts(target.dossier.id, in: db).first(where: { $0.draftId == draft.draftId }),
                    now.state != "written"
                else { return nil }
                return now.decidedBy == options.official
                    ? "\(draft.kind) draft \(now.state == "sent" ? "approved and sent" : "returned to \(draft.writtenBy)")"
                    : "the draft was already \(now.state) by \(now.decidedBy ?? "?")"
            } rejected: {
                try ReviewCommand.rejection(of: command.commandId, dossierId: target.dossier.id, in: db)
            }
        }
    }

    struct ApproveDraft: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "approve-draft",
            abstract: "Approve the draft waiting on a dossier: it is sent and takes effect.",
            discussion: """
                A refusal or a stop notice is approved by the delegate who signs the step's final decision; a \
                supplement request or an apology (form 04) by a head of division or above. The official who wrote \
                the draft does not approve it.
                """)
        @OptionGroup var draft: DecideDraftOptions
        func run() async throws { try await draft.send(.approve, reason: nil) }
    }

    struct ReturnDraft: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "return-draft", abstract: "Return the draft waiting on a dossier to its writer, with the reason.")
        @OptionGroup var draft: DecideDraftOptions
        @Option(help: "Why the draft goes back (required).")
        var reason: String
        func validate() throws {
            guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw ValidationError("--reason must say why the draft goes back")
            }
        }
        func run() async throws { try await draft.send(.return, reason: reason) }
    }

    /// The reason the worker refused a command: its `command-rejected` event on the dossier's timeline.
    static func rejection(of commandId: UUID, dossierId: String, in db: CLI.Connection) throws -> String? {
        let eventId = StableID.make("command-event", DossierEvent.Kind.commandRejected.rawValue, commandId.uuidString)
        return try TimelineRead.event(eventId, in: db).map { $0.detail ?? "rejected" }
    }

    /// `review list --department D --drafts`: the drafts waiting for a leader's approval, oldest first.
    static func printWaitingDrafts(department: DepartmentID, json: Bool) throws {
        let drafts = try DraftStore.waiting(department: department, in: try CLI.database())
        struct Row: Encodable {
            var draftId: UUID
            var dossierId: String
            var step: Int
            var round: Int
            var kind: String
            var reason: String
            var documents: [String]
            var newDate: String?
            var writtenBy: String
            var writtenAt: Date
        }
        if json {
            return try CLI.printJSON(drafts.map {
                Row(draftId: $0.draftId, dossierId: $0.dossierId, step: $0.step, round: $0.round, kind: $0.kind,
                    reason: $0.reason, documents: $0.documents, newDate: $0.newDate, writtenBy: $0.writtenBy,
                    writtenAt: $0.writtenAt)
            })
        }
        if drafts.isEmpty {
            print("no drafts of \(department) wait for approval")
            return
        }
        print(CLI.table(
            ["dossier", "step", "draft", "written by", "written at", "new date", "reason"],
            drafts.map {
                [$0.dossierId, String($0.step), $0.kind, $0.writtenBy, CLI.local($0.writtenAt), $0.newDate ?? "—",
                 TerminalText.escape($0.reason)]
            }))
        print("\(drafts.count) drafts wait; approve with: motcua review approve-draft <dossier> --official <id> "
              + "--department \(department) --key FILE (or return-draft … --reason R)")
    }
}

extension DraftKind: ExpressibleByArgument {}
