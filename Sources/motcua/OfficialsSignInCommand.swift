import ArgumentParser
import Authority
import Foundation

extension OfficialsRegistryCommand {
    /// `motcua officials sign-in`: a sign-in assertion for the officials' pages, signed with the official's key.
    struct SignIn: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sign-in",
            abstract: "Print a sign-in assertion for the officials' pages (paste it at /sign-in; 2 minutes, once).",
            discussion: """
                Signs, with the official's key, an assertion naming them, the officials' pages as its audience, a \
                random nonce and an expiry 2 minutes ahead (wall clock), domain-separated like signed commands \
                (type motcua.official.sign-in). The pages check it against the registry, accept it once, and set a \
                session cookie for at most 12 hours. The key is checked against the registered certificate here too. \
                Needs DATABASE_URL (to read the registry).

                Example:
                  motcua officials sign-in --official labour-director --key .dev/officials/labour-director.key.pem
                """)

        @Option(help: "The official's id in the registry.")
        var official: String

        @Option(help: "The official's private key (PEM). Default: MOTCUA_OFFICIAL_KEY.")
        var key: String?

        func run() async throws {
            let db = try CLI.database()
            guard let signer = try OfficialSigner.load(path: key, official: official, in: db) else {
                throw CLIError("give --key FILE (or MOTCUA_OFFICIAL_KEY): the official's private key")
            }
            print(try SignInAssertion.make(
                official: signer.principal, certificate: signer.certificateSHA256, key: signer.key))
        }
    }
}
