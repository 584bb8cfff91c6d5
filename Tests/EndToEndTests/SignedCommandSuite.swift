import Authority
import Credentials
import Foundation
import Messages
import Postgres
import TestSupport

/// What the end-to-end suites that drive signed commands through a pipeline with a registry of officials share:
/// their officials, `motcua` run against the pipeline and the test's database, and the reasons of the events the
/// worker published.
protocol SignedCommandSuite {}

/// An official of a test's registry: the key it signs with, its certificate and the key file `motcua --key` reads
/// (empty where a suite signs in-process only). Suites name it `Official` (a typealias of their own: the module's
/// `Official` would win over one declared here).
struct RegisteredOfficial {
    var id: String
    var key: CommandSigningKey
    var certificate: SigningCertificate
    var keyFile: String = ""
}

extension SignedCommandSuite {
    static func motcua(_ arguments: [String], pipeline: Pipeline, database: TestDatabase) async throws -> CommandRun {
        try await CommandRun.run("motcua", arguments, environment: pipeline.processEnvironment.merging(database.environment) { $1 })
    }

    /// The reasons of a dossier's events of `type` in the worker's outbox, in the order written.
    static func reasons(_ type: String, of dossier: String, in pipeline: Pipeline) throws -> [String] {
        try pipeline.database.query(
            """
            SELECT convert_from(payload, 'UTF8')::jsonb->'data'->>'reason' AS reason FROM outbox
            WHERE key = $1 AND topic = $3 AND convert_from(payload, 'UTF8')::jsonb->>'type' = $2 ORDER BY id
            """, [dossier, type, pipeline.topics.events]
        ).map { try $0.decodeIfPresent(String.self, "reason") ?? "" }
    }
}

/// A test's registry of officials: `motcua officials dev-ca --register` for one department into a directory of the
/// test's own, and the keys and certificates it issued, read back. The caller removes it with `defer`.
struct DevRegistry {
    let directory: URL

    /// Makes the test CA, issues the department's officials and the service principals, and registers them in the
    /// test's database (`environment`: the pipeline's and the database's). `rules`: the deploy directory whose
    /// workflow names the divisions, when the test's rules are not the default ones.
    static func register(
        department: String, rules: String? = nil, environment: [String: String]
    ) async throws -> DevRegistry {
        let registry = DevRegistry(
            directory: FileManager.default.temporaryDirectory.appendingPathComponent(TestEnvironment.unique("officials")))
        var arguments = ["officials", "dev-ca", "--out", registry.directory.path, "--department", department, "--register"]
        if let rules { arguments += ["--rules", rules] }
        let run = try await CommandRun.run("motcua", arguments, environment: environment)
        guard run.status == 0 else {
            registry.remove()
            throw Failure(message: "motcua officials dev-ca failed: \(run)")
        }
        return registry
    }

    /// The deploy directory of the repository, which the stage suites pass as `rules`.
    static var deploy: String { TestEnvironment.root.appendingPathComponent("deploy").path }

    struct Failure: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    /// The private key file of `id` (mode 0600), as `motcua --key` reads it.
    func keyFile(_ id: String) -> String { directory.appendingPathComponent("\(id).key.pem").path }

    /// The official (or service principal) `id`: its key, certificate and key file.
    func official(_ id: String) throws -> RegisteredOfficial {
        RegisteredOfficial(
            id: id, key: try CommandSigningKey(pem: String(contentsOfFile: keyFile(id), encoding: .utf8)),
            certificate: try SigningCertificate(
                contents: Array(try Data(contentsOf: directory.appendingPathComponent("\(id).cert.pem")))),
            keyFile: keyFile(id))
    }

    /// The test CA itself, to issue more certificates against it.
    func certificateAuthority() throws -> DevelopmentCA {
        try DevelopmentCA(
            certificatePEM: String(contentsOfFile: directory.appendingPathComponent("ca.cert.pem").path, encoding: .utf8),
            keyPEM: String(contentsOfFile: directory.appendingPathComponent("ca.key.pem").path, encoding: .utf8))
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}

extension Pipeline {
    /// Submits `count` dossiers of 2.000620 taken at the one-stop desk: approved by the default rule and prepared for
    /// an official to sign (15 working days; industry-trade's workflow: examine 9, check 3, sign 3).
    func submitForOfficials(_ count: Int) async throws -> [Dossier] {
        let dossiers = (0..<count).map { _ in
            var dossier = generator.next(procedure: "2.000620", submittedAt: Date(), outsideShare: 0)
            dossier.channel = .counter
            return dossier
        }
        try await submit(dossiers)
        return dossiers
    }
}
