import Authority
import Foundation

/// Signing commands for the department topics: officials' (sign, request supplement) and the channels' that carry
/// applicants' commands (withdraw, supplement), all the same way (``CommandSignature``).
public enum SignedCommands {
    /// The logical topic a command for `department` is signed for: the topic name without a deployment's prefix,
    /// so that a signature made for one department's topic verifies on no other.
    public static func topic(department: DepartmentID) -> String { Topics().department(department) }

    /// The command's JSON with its signature (canonical JSON; the bytes to produce on the topic).
    public static func encode<Command: Encodable>(
        _ command: Command, type: String, department: DepartmentID, principal: String, certificate: String,
        key: CommandSigningKey
    ) throws -> [UInt8] {
        let unsigned = try MessageCoding.encoder().encode(command)
        return try CommandSignature.sign(
            unsigned, type: type, topic: topic(department: department), principal: principal,
            certificate: certificate, key: key)
    }

    /// What every command has: who it is about and when it says it was made.
    public struct Header: Decodable, Sendable {
        public var commandId: UUID
        public var dossierId: String
        public var step: Int?
        public var at: Date
    }
}
