import ArgumentParser
import Authority
import EffectivelyOnce
import Foundation
import Messages
import ServiceCommands
import Store

/// `motcua supply`: the applicant supplies the documents a department asked for; the step is evaluated again.
struct SupplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "supply",
        abstract: "Supply documents an official or the rules asked for; the step is evaluated again (its next round).",
        discussion: """
            What the portal or the one-stop desk sends when the applicant brings documents: an applicant supplement \
            to dossiers.<department> of the department that holds the dossier, keyed by the dossier id. Without \
            --documents it supplies every document the procedure requires (deploy/catalog) that the dossier lacks. \
            The command id is derived from the dossier, step, round and documents: sending it twice supplies once. \
            The channel that took the documents (a desk official, the portal) signs the command \
            with its key (--channel, --key); once the registry of officials is in force an unsigned one is refused. \
            Needs DATABASE_URL and KAFKA_BOOTSTRAP.

            Examples:
              motcua supply LD-261127-000007 --documents health-certificate --channel desk-1 --key desk-1.key.pem
              MOTCUA_OFFICIAL_KEY=portal.key.pem motcua supply LD-261127-000007 --channel portal --wait
            """)

    @OptionGroup var topicOptions: TopicOptions

    @Argument(help: "The dossier's id or code.")
    var dossier: String

    @Option(help: "The document ids supplied, comma-separated (default: the procedure's required ones it lacks).")
    var documents: String?

    @Option(help: "The deploy directory (catalogue).")
    var rules: String = "deploy"

    @Flag(help: "Wait (up to 30 s) until the department has evaluated the step again.")
    var wait = false

    @OptionGroup var channel: ChannelOptions

    func run() async throws {
        let catalogue = try CLI.bundle(rules).catalogue
        // The documents named are checked before anything is looked up: a typo is told first.
        var named: [String]?
        if let documents {
            let ids = documents.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
                !$0.isEmpty
            }
            guard !ids.isEmpty else { throw CLIError("--documents: list at least one document id (a,b)") }
            let unknown = ids.filter { catalogue.documentType($0) == nil }
            guard unknown.isEmpty else {
                throw CLIError(
                    "--documents: unknown document type(s) \(unknown.joined(separator: ", ")); see "
                        + "\(rules)/catalog/documents.yaml for the ids")
            }
            named = ids
        }
        let db = try CLI.database()
        let found = try CLI.dossier(dossier, in: db)
        let name = found.code ?? found.id
        guard !["withdrawn", "decided", "result-returned", "intake-incomplete", "intake-refused"].contains(found.status)
        else {
            throw CLIError("dossier \(name) is \(found.status): there is nothing to supply documents for")
        }
        guard let latest = try DecisionRead.latest(dossierId: found.id, step: nil, in: db) else {
            throw CLIError("dossier \(name) has no decision yet: documents can be supplied once a department asks")
        }
        guard let stored = try CommandStore.storedDossier(found.id, in: db) else {
            throw CLIError("dossier \(name) is not stored yet; try again once it is received")
        }
        let held = try Dossier.decode(json: Data(stored.body.utf8))
        let ids: [String]
        if let named {
            ids = named
        } else {
            let required = found.procedure.flatMap { catalogue.procedure($0)?.documents } ?? []
            ids = required.filter { !held.documents.contains($0) }
            guard !ids.isEmpty else {
                throw CLIError("dossier \(name) lacks none of its procedure's documents: name them with --documents")
            }
        }
        let command = ApplicantSupplement(
            commandId: StableID.make(
                "supplement", found.id, String(latest.step), String(latest.round), ids.joined(separator: ",")),
            dossierId: found.id, step: latest.step, documents: ids, at: try CLI.clock().now())
        let topic = topicOptions.topics.department(latest.department)
        try await CLI.send(
            topic: topic, key: found.id, type: MessageType.supplement, id: command.commandId, source: "motcua/supply",
            value: try channel.encode(
                command, type: MessageType.supplement, department: latest.department, what: "a supplement",
                unsigned: .warn, in: db))
        print("supplement of \(ids.count) document(s) sent to \(topic) for \(name)")
        guard wait else { return }
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let now = try DecisionRead.latest(dossierId: found.id, step: latest.step, in: db),
                now.round > latest.round
            {
                print("evaluated again: round \(now.round), \(now.outcome.rawValue)")
                return
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw CLIError("no new round within 30 s: is the \(latest.department)-worker running?")
    }
}
