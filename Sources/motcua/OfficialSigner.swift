import ArgumentParser
import Authority
import Foundation
import Messages
import Postgres
import Store

/// An official's (or channel's) private key, matched to their registered certificate, signing commands in `motcua`.
struct OfficialSigner {
    var principal: String
    var certificateSHA256: String
    var key: CommandSigningKey

    /// The environment variable naming the key file when `--key` is not given.
    static let environmentVariable = "MOTCUA_OFFICIAL_KEY"

    /// The signer of `path` (or `MOTCUA_OFFICIAL_KEY`); nil when neither names a file.
    static func load(path: String?, official: String, in db: PostgresConnection) throws -> OfficialSigner? {
        guard let path = path ?? CLI.environment[environmentVariable].flatMap({ $0.isEmpty ? nil : $0 }) else {
            return nil
        }
        let key: CommandSigningKey
        do {
            key = try CommandSigningKey(pem: try String(contentsOfFile: path, encoding: .utf8))
        } catch {
            throw CLIError("\(path): not a private key (PEM, RSA or ECDSA P-256): \(error)")
        }
        let registry = try OfficialsStore.registry(in: db)
        guard let principal = registry.principals[official] else {
            throw CLIError(
                "'\(official)' is not in the registry of officials: an operator registers them with "
                    + "`motcua officials add --certificate FILE …` (see `motcua officials list`)")
        }
        guard principal.key.spkiDER == key.publicKey.spkiDER else {
            throw CLIError(
                "\(path) is not the key of \(official)'s registered certificate: use the key issued with that "
                    + "certificate (a new key is registered under a new id, then the old one revoked)")
        }
        return OfficialSigner(principal: official, certificateSHA256: principal.certificateSHA256, key: key)
    }

    /// The signer of `path` (or `MOTCUA_OFFICIAL_KEY`) for a command that must be signed; `missing` is the error when
    /// neither names a file.
    static func required(
        path: String?, official: String, in db: PostgresConnection, missing: @autoclosure () -> String
    ) throws -> OfficialSigner {
        guard let signer = try load(path: path, official: official, in: db) else { throw CLIError(missing()) }
        return signer
    }

    func encode<T: Encodable>(_ command: T, type: String, department: DepartmentID) throws -> [UInt8] {
        try SignedCommands.encode(
            command, type: type, department: department, principal: principal, certificate: certificateSHA256, key: key)
    }
}
