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

    func run() async throws {
        let db = try CLI.database()
        let ref = try CLI.dossier(dossier, in: db)
        let lines = try ProcessingSlip.lines(of: ref.id, in: db)
        if json { return try CLI.printJSON(lines) }
        let name = ref.code ?? ref.id
        guard !lines.isEmpty else {
            print("dossier \(name) has no hand-over inside a department yet (no workflow stage was entered)")
            return
        }
        let workflows = (try? CLI.bundle(rules).workflows) ?? [:]
        func unit(_ line: ProcessingSlip.Line) -> String { ProcessingSlip.unit(line, workflows: workflows) }
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
        let late = ProcessingSlip.lateCount(lines)
        print("\(lines.count) hand-overs; \(late) stage(s) finished late")
    }
}
