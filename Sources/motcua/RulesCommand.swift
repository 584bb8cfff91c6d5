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

/// `motcua rules …`: the catalogue, delegations, calendars and decision tables under `deploy/`.
struct RulesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Check the rule, delegation, catalogue and calendar files.",
        subcommands: [Check.self]
    )

    /// `motcua rules check [DIR]`.
    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate everything under DIR against the JSON Schemas and for meaning.",
            discussion: """
                Lists every problem as file:line: what is wrong, and exits non-zero when there is an error. \
                Warnings are listed but do not fail the check.
                """
        )

        @Argument(help: "The deploy directory (catalog/ with communes.yaml, delegations/, calendar/, rules/).")
        var directory: String = "deploy"

        @Option(help: "The directory of the JSON Schemas. Default: DIR/../schemas.")
        var schemas: String?

        func run() async throws {
            let url = URL(fileURLWithPath: directory, isDirectory: true)
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw ValidationError("\(directory): no such directory")
            }
            do {
                let bundle = try AuthorityBundle.load(
                    from: url, schemas: schemas.map { URL(fileURLWithPath: $0, isDirectory: true) })
                for warning in bundle.warnings { printError(warning.description) }
                let catalogue = bundle.catalogue
                print(
                    "ok: \(catalogue.departments.count) departments, \(catalogue.procedures.count) procedures, "
                        + "\(catalogue.documentTypes.count) document types, "
                        + "\(bundle.delegations.records.count) delegations, "
                        + "calendar \(bundle.calendar.loadedYears.lowerBound)–\(bundle.calendar.loadedYears.upperBound), "
                        + "\(bundle.ruleSets.count) rule sets, "
                        + "\(catalogue.communes.communes.count) communes and wards"
                        + (catalogue.communes.synthetic ? " (synthetic codes)" : catalogue.communes.verified ? "" : " (codes unverified)"))
                for (department, ruleSet) in bundle.ruleSets.sorted(by: { $0.key < $1.key }) {
                    print("  \(department): \(ruleSet.rules.count) rules, version \(ruleSet.version)")
                }
                print("  catalogue terms (time limits, steps, documents, facts): version \(bundle.catalogueVersion.version)")
                for (department, workflow) in bundle.workflows.sorted(by: { $0.key < $1.key }) {
                    let stages = workflow.defaultRoute.stages.map { "\($0.id) (\($0.role.rawValue))" }
                    print(
                        "  \(department) workflow: \(workflow.divisions.count) divisions, "
                            + "\(workflow.overrides.count) procedure routes, default \(stages.joined(separator: " → "))")
                }
            } catch {
                for problem in error.problems { printError(problem.description) }
                printError("\(error.errors.count) error(s), \(error.warnings.count) warning(s)")
                throw ExitCode.failure
            }
        }
    }
}

func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
