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
