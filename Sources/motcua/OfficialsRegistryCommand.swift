import ArgumentParser
import Authority
import Credentials
import Foundation
import Messages
import Operations
import Store

/// `motcua officials …`: the registry of officials and service principals (migration 012): add a principal with
/// its signing certificate, revoke one, record a deputy's work authorisation, list them; `dev-ca` makes a test CA
/// and keys for development and the demo.
struct OfficialsRegistryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "officials",
        abstract: "The registry of officials and service principals who sign commands.",
        discussion: """
            Changes are appended (never edited) and need the schema owner's role (operators). The registry is in \
            force from its first record: from then on department workers refuse unsigned or wrongly signed \
            commands with a command-rejected event. Key rotation: add the new certificate under a new id, then \
            revoke the old one.

            Examples:
              motcua officials dev-ca --out .dev/officials
              motcua officials add --certificate .dev/officials/labour-director.cert.pem --id labour-director \\
                  --name "Giám đốc Sở Lao động" --department labour --role director --trust .dev/officials
              motcua officials authorise --deputy labour-deputy --for labour-director --procedures 1.000105 \\
                  --from 2026-12-01 --to 2026-12-31 --instrument "15/QĐ-SLĐ"
              motcua officials revoke labour-director --reason "key lost"
              motcua officials list
            """,
        subcommands: [Add.self, Revoke.self, Authorise.self, List.self, DevCA.self, SignIn.self])

    static let roles = PrincipalRole.allCases.map(\.rawValue).joined(separator: ", ")

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register a principal with its signing certificate (chain verified against the trusted CAs).")

        @Option(help: "The signing certificate (X.509, PEM or DER): RSA 2048+ or ECDSA P-256.")
        var certificate: String

        @Option(help: "Intermediate CA certificates (PEM), if the issuer is not a trusted root.")
        var intermediate: [String] = []

        @Option(help: "The principal's id (lowercase letters, digits, '.', '_', '-'; at most 64).")
        var id: String

        @Option(help: "The name shown to people.")
        var name: String

        @Option(help: "The department (for desk officials and services: the office, e.g. one-stop).")
        var department: String

        @Option(help: "The division (phòng) within the department.")
        var division: String?

        @Option(help: "The role: \(OfficialsRegistryCommand.roles).")
        var role: String

        @Option(help: "The directory of CA certificates the City trusts.")
        var trust: String = "deploy/trust"

        func validate() throws {
            guard Principal.isValidId(id) else {
                throw ValidationError("--id '\(TerminalText.escape(id))': use lowercase letters, digits, '.', '_', '-' (at most 64)")
            }
            guard PrincipalRole(rawValue: role) != nil else {
                throw ValidationError("--role '\(TerminalText.escape(role))': one of \(OfficialsRegistryCommand.roles)")
            }
            guard !name.trimmingCharacters(in: .whitespaces).isEmpty, !name.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
                throw ValidationError("--name: a name without control characters")
            }
        }

        func run() async throws {
            let cert: SigningCertificate
            do {
                cert = try SigningCertificate(contents: Array(try Data(contentsOf: URL(fileURLWithPath: certificate))))
            } catch {
                throw CLIError("\(certificate): \(error)")
            }
            let roots = try TrustedCAs.load(directory: trust)
            var intermediates: [SigningCertificate] = []
            for file in intermediate {
                intermediates.append(try SigningCertificate(contents: Array(try Data(contentsOf: URL(fileURLWithPath: file)))))
            }
            let now = try CLI.clock().now()
            if let problem = await cert.verify(
                roots: roots, intermediates: intermediates.map(\.certificate), at: now)
            {
                throw CLIError("\(certificate) is refused: \(problem)")
            }
            let record = OfficialsStore.PrincipalRecord(
                id: id, displayName: name, department: department, division: division,
                role: PrincipalRole(rawValue: role)!, algorithm: cert.key.algorithm,
                publicKey: cert.key.spkiDER.base64EncodedString(), certificateSHA256: cert.sha256,
                validFrom: cert.notValidBefore, validTo: cert.notValidAfter)
            let db = try CLI.database()
            do {
                try OfficialsStore.add(record, certificate: cert.der, at: try CLI.clock().now(), in: db)
            } catch let refusal as OfficialsStore.Refusal {
                throw CLIError(refusal.description)
            }
            print("registered \(id) (\(role), \(department)), certificate \(cert.sha256.prefix(16))…, valid "
                  + "\(CLI.local(cert.notValidBefore)) – \(CLI.local(cert.notValidAfter))")
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a principal's key in the registry (commands signed with it are refused from then on).")

        @Argument(help: "The principal's id.")
        var id: String

        @Option(help: "Why (recorded).")
        var reason: String

        @Option(help: "From when (ISO-8601 instant; default: now).")
        var at: String?

        func run() async throws {
            let now = try CLI.clock().now()
            var instant = now
            if let at {
                guard let parsed = ISO8601Instant.parse(at) else {
                    throw CLIError("--at '\(TerminalText.escape(at))': an ISO-8601 instant, e.g. 2026-12-07T09:00:00+07:00")
                }
                instant = parsed
            }
            let db = try CLI.database()
            do {
                try OfficialsStore.revoke(id, at: instant, reason: reason, in: db)
            } catch let refusal as OfficialsStore.Refusal {
                throw CLIError(refusal.description)
            }
            print("revoked \(TerminalText.escape(id)) from \(CLI.local(instant))")
        }
    }

    struct Authorise: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record a deputy director's work authorisation to sign for the director on named procedures.")

        @Option(help: "The deputy director's id.")
        var deputy: String

        @Option(name: .customLong("for"), help: "The director's id.")
        var director: String

        @Option(help: "Procedure codes, comma-separated ('*' for all of the department's).")
        var procedures: String

        @Option(help: "First day (YYYY-MM-DD, Asia/Ho_Chi_Minh).")
        var from: String

        @Option(help: "Last day, inclusive (YYYY-MM-DD).")
        var to: String

        @Option(help: "The instrument (decision number) granting it.")
        var instrument: String

        func run() async throws {
            guard let first = LocalDate(from), let last = LocalDate(to), first <= last else {
                throw CLIError("--from and --to: two dates YYYY-MM-DD, the first not after the last")
            }
            let codes = procedures.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard !codes.isEmpty else { throw CLIError("--procedures: at least one procedure code (or '*')") }
            let db = try CLI.database()
            let registry = try OfficialsStore.registry(in: db)
            guard let deputyPrincipal = registry.principals[deputy], deputyPrincipal.role == .deputyDirector else {
                throw CLIError("--deputy '\(TerminalText.escape(deputy))' is not a registered deputy-director")
            }
            guard let directorPrincipal = registry.principals[director], directorPrincipal.role == .director,
                directorPrincipal.department == deputyPrincipal.department
            else {
                throw CLIError("--for '\(TerminalText.escape(director))' is not a registered director of \(deputyPrincipal.department)")
            }
            let authorisation = WorkAuthorisation(
                deputy: deputy, forOfficial: director, procedures: codes, validFrom: first.startInstant,
                validTo: last.instant(hour: 24).addingTimeInterval(-0.001), instrument: instrument)
            try OfficialsStore.authorise(authorisation, in: db)
            print("recorded: \(deputy) signs for \(director) on \(codes.joined(separator: ", ")) from \(first) to \(last) (\(TerminalText.escape(instrument)))")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the registered principals and authorisations.")

        @Flag(help: "Print JSON instead of text.")
        var json = false

        struct Item: Encodable {
            var id: String
            var name: String
            var department: String
            var division: String?
            var role: String
            var algorithm: String
            var certificateSHA256: String
            var validFrom: Date
            var validTo: Date
            var registeredAt: Date
            var revokedAt: Date?
            var revocationReason: String?
        }

        struct Listing: Encodable {
            var principals: [Item]
            var authorisations: [WorkAuthorisation]
            var inForceSince: Date?
        }

        func run() async throws {
            let db = try CLI.database()
            let registry = try OfficialsStore.registry(in: db)
            let items = registry.principals.values.sorted { $0.id < $1.id }.map {
                Item(
                    id: $0.id, name: $0.displayName, department: $0.department, division: $0.division,
                    role: $0.role.rawValue, algorithm: $0.key.algorithm.rawValue, certificateSHA256: $0.certificateSHA256,
                    validFrom: $0.validFrom, validTo: $0.validTo, registeredAt: $0.registeredAt, revokedAt: $0.revokedAt,
                    revocationReason: $0.revocationReason)
            }
            if json {
                return try CLI.printJSON(Listing(
                    principals: items, authorisations: registry.authorisations, inForceSince: registry.inForceSince))
            }
            guard !items.isEmpty else {
                print("the registry of officials is empty: commands are accepted unsigned until its first record")
                return
            }
            print(CLI.table(
                ["id", "name", "department", "role", "key", "valid to", "revoked"],
                items.map {
                    [$0.id, $0.name, $0.department, $0.role, $0.algorithm, CLI.local($0.validTo),
                     $0.revokedAt.map { CLI.local($0) } ?? "—"]
                }))
            for authorisation in registry.authorisations {
                print(TerminalText.escape(
                    "authorisation: \(authorisation.deputy) signs for \(authorisation.forOfficial) on "
                        + "\(authorisation.procedures.joined(separator: ", ")) \(CLI.local(authorisation.validFrom)) – "
                        + "\(CLI.local(authorisation.validTo)) (\(authorisation.instrument))"))
            }
            print("in force since \(CLI.local(registry.inForceSince))")
        }
    }
}
