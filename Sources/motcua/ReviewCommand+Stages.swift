import ArgumentParser
import Authority
import EffectivelyOnce
import Foundation
import Messages
import Store

/// `motcua review propose|approve|return|transfer|assign|recall`: stage actions inside a department
/// (deploy/workflows/).
extension ReviewCommand {
    /// What the stage actions share: the dossier, the official and their key (``ActionOptions``).
    struct StageOptions: ParsableArguments {
        @OptionGroup var options: ActionOptions

        /// Sends `action` on the dossier's current stage; with --wait, polls the stage row for the move or the
        /// command-rejected event.
        func send(_ action: StageAction, to target: String?, reason: String?) async throws {
            let db = try CLI.database()
            let decision = try options.target(in: db, requireAwaiting: true)
            guard let current = try StageStore.current(decision.dossier.id, step: decision.step, in: db),
                current.closedAt == nil
            else {
                throw CLIError(
                    "dossier \(decision.dossier.code ?? decision.dossier.id) is at no open stage of "
                        + "\(decision.department): its department has no workflow, or it is signed")
            }
            let clock = try CLI.clock()
            let command = StageCommand(
                commandId: StableID.make(
                    "stage", decision.dossier.id, String(decision.step), String(current.round), String(current.handovers),
                    options.official, action.rawValue),
                dossierId: decision.dossier.id, step: decision.step, round: current.round,
                official: Official(id: options.official, department: options.department), action: action,
                stage: current.state.stage.id, to: target, reason: reason, at: clock.now())
            try await options.send(command, type: MessageType.stage, id: command.commandId, target: decision)
            let rejected = StableID.make("command-event", DossierEvent.Kind.commandRejected.rawValue, command.commandId.uuidString)
            try await options.waitIfAsked(db: db, target: decision) {
                guard let now = try StageStore.current(decision.dossier.id, step: decision.step, in: db),
                    now.handovers > current.handovers
                else { return nil }
                return "\(action.rawValue): now at stage '\(now.state.stage.id)' (\(now.state.stage.role.rawValue)), "
                    + "held by \(now.state.assignee ?? "the division's queue"), due \(CLI.local(now.dueAt))"
            } rejected: {
                try TimelineRead.event(rejected, in: db).map { $0.detail ?? "rejected" }
            }
        }
    }

    struct Propose: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A specialist hands the examined dossier and draft to the next stage.",
            discussion: """
                Example:
                  motcua review propose LD-261127-000007 --official ld-specialist --department labour --key ld.pem
                """)
        @OptionGroup var stage: StageOptions
        @Option(help: "Who receives the next stage (default: the next official of that role in turn).")
        var to: String?
        func run() async throws { try await stage.send(.propose, to: to, reason: nil) }
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A head of division approves the draft and hands it to the director's stage.")
        @OptionGroup var stage: StageOptions
        @Option(help: "Who receives the next stage (default: the next official of that role in turn).")
        var to: String?
        func run() async throws { try await stage.send(.approve, to: to, reason: nil) }
    }

    struct Return: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "return", abstract: "Return the dossier to the previous stage, with the reason.")
        @OptionGroup var stage: StageOptions
        @Option(help: "Why it goes back (required; written on the processing-control slip).")
        var reason: String
        func validate() throws {
            guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw ValidationError("--reason must say why the dossier goes back")
            }
        }
        func run() async throws { try await stage.send(.return, to: nil, reason: reason) }
    }

    struct Transfer: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Transfer the dossier to another official of the same stage and role.")
        @OptionGroup var stage: StageOptions
        @Option(help: "The receiving official's id.")
        var to: String
        @Option(help: "Why (written on the processing-control slip).")
        var reason: String?
        func run() async throws { try await stage.send(.transfer, to: to, reason: reason) }
    }

    struct Assign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A head of division or above assigns (or re-assigns) the current stage to an official of its role.",
            discussion: """
                The receiver must be an official of the stage's role in the dossier's division whose registry entry
                is valid; a head of division assigns in their own division. Refused otherwise, with the reason as a
                command-rejected event (shown with --wait).

                Example:
                  motcua review assign LD-261127-000007 --to ld-specialist-2 --official ld-head \\
                    --department labour --key ld-head.pem
                """)
        @OptionGroup var stage: StageOptions
        @Option(help: "The official who receives the stage.")
        var to: String
        @Option(help: "Why (written on the processing-control slip).")
        var reason: String?
        func run() async throws { try await stage.send(.assign, to: to, reason: reason) }
    }

    struct Recall: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Take back a dossier you handed over, before its receiver acted on it.")
        @OptionGroup var stage: StageOptions
        func run() async throws { try await stage.send(.recall, to: nil, reason: nil) }
    }

    /// `review list --official ID` and `--department D --division X`: the open stages, soonest due first.
    static func printStageQueue(
        official: String?, department: DepartmentID?, division: String?, limit: Int, json: Bool, rules: String
    ) throws {
        let db = try CLI.database()
        let items: [StageQueue.Item]
        if let official {
            items = try StageQueue.held(by: official, limit: limit, in: db)
        } else if let department, let division {
            items = try StageQueue.division(division, of: department, limit: limit, in: db)
        } else {
            throw CLIError("name --official ID, or --department D with --division X")
        }
        let calendar = try CLI.bundle(rules).calendar
        let now = try CLI.clock().now()
        struct Row: Encodable {
            var dossierId: String
            var code: String?
            var step: Int
            var round: Int
            var department: String
            var division: String
            var procedure: String
            var stage: String
            var role: String
            var assignee: String?
            var enteredAt: Date
            var dueAt: Date
            var standing: String
        }
        let rows = items.map {
            Row(
                dossierId: $0.dossierId, code: $0.code, step: $0.step, round: $0.round, department: $0.department.rawValue,
                division: $0.division, procedure: $0.procedure, stage: $0.stage, role: $0.role, assignee: $0.assignee,
                enteredAt: $0.enteredAt, dueAt: $0.dueAt,
                standing: StagePlan.standing(due: $0.dueAt, at: now, calendar: calendar).rawValue)
        }
        if json { return try CLI.printJSON(rows) }
        if rows.isEmpty {
            print("no open stages")
            return
        }
        print(CLI.table(
            ["code", "step", "procedure", "division", "stage", "role", "holder", "entered", "due", "standing"],
            rows.map {
                [$0.code ?? $0.dossierId, String($0.step), $0.procedure, $0.division, $0.stage, $0.role,
                 $0.assignee ?? "—", CLI.local($0.enteredAt), CLI.local($0.dueAt), $0.standing]
            }))
        let overdue = rows.filter { $0.standing == StageStanding.overdue.rawValue }.count
        let soon = rows.filter { $0.standing == StageStanding.dueSoon.rawValue }.count
        print("\(rows.count) open: \(overdue) overdue, \(soon) due within one working day")
    }
}
