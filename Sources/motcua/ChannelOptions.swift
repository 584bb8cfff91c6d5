import ArgumentParser
import Authority
import Foundation
import Messages
import Operations
import Store

/// The registered channel that takes an applicant's command — a supplement, a withdrawal, a rating, a complaint — and
/// signs it: a one-stop desk official who checked the applicant in person, or a service such as the portal (never a
/// payment gateway, which signs payments: `motcua pay`). One spelling for every such command: `--channel ID --key FILE`.
struct ChannelOptions: ParsableArguments {
    @Option(help: "The registered channel that took the command: a one-stop desk official's id (role desk) or a service's (the portal).")
    var channel: String?

    @Option(
        name: .customLong("key"),
        help: "The channel's private key (PEM); default: MOTCUA_OFFICIAL_KEY. Once the registry of officials is in force, an unsigned command is refused.")
    var keyFile: String?

    func validate() throws {
        if let channel, !Principal.isValidId(channel) {
            throw ValidationError(
                "--channel '\(TerminalText.escape(channel))' is not a registered id (see `motcua officials list`)")
        }
        if channel == nil, keyFile != nil {
            throw ValidationError("--key needs --channel: the registered id of the channel whose key it is")
        }
    }

    /// Whether a command may go without --channel.
    enum Unsigned {
        /// Sent unsigned with a warning (the worker refuses it once the registry of officials is in force).
        case warn
        /// Refused before sending: `what` is always signed by the channel that took it.
        case refuse
    }

    /// The channel's signer, checked against the registry (its key is the registered certificate's, and it may carry
    /// an applicant's command); nil without --channel when `unsigned` is `.warn`.
    func signer(what: String, unsigned: Unsigned, in db: CLI.Connection) throws -> OfficialSigner? {
        guard let channel else {
            switch unsigned {
            case .warn:
                FileHandle.standardError.write(Data(
                    "warning: sending unsigned (no --channel): once the registry of officials is in force the worker refuses it\n".utf8))
                return nil
            case .refuse:
                throw CLIError(
                    "\(what) is always signed by the channel that took it: --channel ID (a one-stop desk official's or "
                        + "the portal's registered id) --key FILE (or MOTCUA_OFFICIAL_KEY)")
            }
        }
        let signer = try OfficialSigner.required(
            path: keyFile, official: channel, in: db,
            missing: "--channel \(channel) needs its key: \(what) is signed by the channel that took it; --key FILE or "
                + "MOTCUA_OFFICIAL_KEY")
        let registry = try OfficialsStore.registry(in: db)
        if let principal = registry.principals[channel], let refusal = registry.mayCarryApplicantCommand(principal) {
            throw CLIError("\(channel) may not carry \(what): \(refusal); the worker would refuse it")
        }
        return signer
    }

    /// The command's bytes for `department`'s topic: signed by the channel, or (without --channel, when `unsigned`
    /// is `.warn`) unsigned.
    func encode<T: Encodable>(
        _ command: T, type: String, department: DepartmentID, what: String, unsigned: Unsigned, in db: CLI.Connection
    ) throws -> [UInt8] {
        guard let signer = try signer(what: what, unsigned: unsigned, in: db) else {
            return Array(try MessageCoding.encoder().encode(command))
        }
        return try signer.encode(command, type: type, department: department)
    }

    /// Who sent it, for the CloudEvents `ce_source`.
    var source: String { "motcua/\(channel ?? "unsigned")" }
}
