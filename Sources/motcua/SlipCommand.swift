import ArgumentParser
import Authority
import Foundation
import Store

/// `motcua slip CODE`: the processing-control slip (form 06 of Circular 03/2025/TT-VPCP) of a dossier.
struct SlipCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slip",
        abstract: "The processing-control slip of a dossier: every hand-over inside the departments.",
        discussion: """
            One line per hand-over (stage_handovers): step and round, from which stage and official, to which, \
            when, and for the stage left its due instant and the verdict early / on-time / late against its quota. \
            Needs DATABASE_URL.

            Example:
              motcua slip CT-261127-000012
            """)

    @Argument(help: "The dossier's code or id.")
    var dossier: String

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @Option(help: "The deploy directory (division names, deploy/workflows/).")
    var rules: String = "deploy"

    struct Line: Encodable {
        var step: Int
        var round: Int
        var line: Int
        var department: String
        var division: String
        var action: String
        var fromStage: String?
        var fromOfficial: String?
        var toStage: String?
        var toOfficial: String?
        var actedAs: String?
        var reason: String?
        var at: Date
        var stageEnteredAt: Date?
        var stageDueAt: Date?
        var verdict: String?
    }

    func run() async throws {
        let db = try CLI.database()
        let ref = try CLI.dossier(dossier, in: db)
        let lines = try StageStore.slip(ref.id, in: db).map {
            Line(
                step: $0.step, round: $0.round, line: $0.line, department: $0.department.rawValue, division: $0.division,
                action: $0.action, fromStage: $0.fromStage, fromOfficial: $0.fromOfficial, toStage: $0.toStage,
                toOfficial: $0.toOfficial, actedAs: $0.actedAs, reason: $0.reason, at: $0.at,
                stageEnteredAt: $0.stageEnteredAt, stageDueAt: $0.stageDueAt, verdict: $0.verdict?.rawValue)
        }
        if json { return try CLI.printJSON(lines) }
        let name = ref.code ?? ref.id
        guard !lines.isEmpty else {
            print("dossier \(name) has no hand-over inside a department yet (no workflow stage was entered)")
            return
        }
        let workflows = (try? CLI.bundle(rules).workflows) ?? [:]
        func unit(_ line: Line) -> String {
            let division = workflows[DepartmentID(line.department)]?.divisions.first { $0.id == line.division }
            return "\(line.department) / \(division?.name ?? line.division)"
        }
        print("processing-control slip (form 06) of \(name)")
        print(CLI.table(
            ["step", "#", "unit", "action", "from", "to", "at", "stage due", "verdict", "note"],
            lines.map { line in
                [
                    "\(line.step).\(line.round)", String(line.line), unit(line), line.action,
                    [line.fromStage, line.fromOfficial].compactMap { $0 }.joined(separator: " "),
                    [line.toStage, line.toOfficial].compactMap { $0 }.joined(separator: " "),
                    CLI.local(line.at), line.stageDueAt.map { CLI.local($0) } ?? "—", line.verdict ?? "—",
                    [line.actedAs.map { "as \($0)" }, line.reason].compactMap { $0 }.joined(separator: "; "),
                ]
            }))
        let late = lines.filter { $0.verdict == StageVerdict.late.rawValue }.count
        print("\(lines.count) hand-overs; \(late) stage(s) finished late")
    }
}
