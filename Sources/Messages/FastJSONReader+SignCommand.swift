import Authority
import Foundation

extension FastJSON {
    /// The sign command in `bytes`, or nil when the reader does not handle them (decode with `JSONDecoder` then): the
    /// same values `MessageCoding.decoder()` gives, for the members `motcua review sign` writes; a `result`, an
    /// unknown or repeated key, an escape in a key or a form ``JSONByteReader`` leaves to the decoder give nil.
    public static func signCommand(_ bytes: [UInt8]) -> SignCommand? {
        bytes.withUnsafeBufferPointer { buffer in
            var reader = JSONByteReader(buffer)
            guard let command = reader.signCommand(), reader.atEnd() else { return nil }
            return command
        }
    }
}

extension MessageCoding {
    /// Decodes a sign command: with ``FastJSON`` when it handles the bytes, else with `decoder` (a
    /// ``MessageCoding/decoder()``), whose errors are thrown unchanged. The audit replay reads every sign command of
    /// a topic: the decoder's generic machinery was most of its cost.
    public static func decodeSignCommand(_ bytes: [UInt8], decoder: JSONDecoder) throws -> SignCommand {
        if let command = FastJSON.signCommand(bytes) { return command }
        return try decoder.decode(SignCommand.self, from: Data(bytes))
    }
}

extension JSONByteReader {
    /// The members of a sign command, in the order of `signCommand()`'s cases.
    static let signCommandMembers: [StaticString] = [
        "commandId", "dossierId", "step", "official", "decision", "at", "reason", "round", "preparedOutcome",
        "ruleVersion", "signature",
    ]

    mutating func signCommand() -> SignCommand? {
        var commandId: UUID?, dossierId: String?, step: Int?, official: Official?, decision: SignCommand.Decision?
        var at: Date?
        var reason: String?, round: Int?, preparedOutcome: String?, ruleVersion: String?, signature: CommandSignature?
        var seen: UInt16 = 0
        let read = object { r, key in
            // Which member, each once (the decoder's answer to a repeated one is its own).
            guard let member = Self.signCommandMembers.firstIndex(where: { r.key(key, is: $0) }), seen & (1 << member) == 0 else {
                return false  // `result`, or a key the decoder would ignore: its answer
            }
            seen |= 1 << member
            switch member {
            case 0:
                commandId = r.uuid()
                return commandId != nil
            case 1:
                dossierId = r.string()
                return dossierId != nil
            case 2:
                step = r.int()
                return step != nil
            case 3:
                official = r.official()
                return official != nil
            case 4:
                decision = r.string().flatMap(SignCommand.Decision.init(rawValue:))
                return decision != nil
            case 5:
                // MessageCoding.decoder()'s date strategy tries ISO8601Instant first; its fallbacks are the decoder's.
                at = r.string().flatMap(ISO8601Instant.parse)
                return at != nil
            case 6:
                if r.null() { return true }
                reason = r.string()
                return reason != nil
            case 7:
                if r.null() { return true }
                round = r.int()
                return round != nil
            case 8:
                if r.null() { return true }
                preparedOutcome = r.string()
                return preparedOutcome != nil
            case 9:
                if r.null() { return true }
                ruleVersion = r.string()
                return ruleVersion != nil
            default:
                if r.null() { return true }
                signature = r.commandSignature()
                return signature != nil
            }
        }
        guard read, let commandId, let dossierId, let step, let official, let decision, let at else { return nil }
        var command = SignCommand(
            commandId: commandId, dossierId: dossierId, step: step, official: official, decision: decision,
            reason: reason, at: at, round: round, preparedOutcome: preparedOutcome, ruleVersion: ruleVersion)
        command.signature = signature
        return command
    }

    mutating func official() -> Official? {
        var id: String?, department: String?
        let read = object { r, key in
            if r.key(key, is: "id") {
                guard id == nil else { return false }
                id = r.string()
                return id != nil
            } else if r.key(key, is: "department") {
                guard department == nil else { return false }
                department = r.string()
                return department != nil
            }
            return false
        }
        guard read, let id, let department else { return nil }
        return Official(id: id, department: DepartmentID(rawValue: department))
    }

    mutating func commandSignature() -> CommandSignature? {
        var principal: String?, algorithm: CommandSignature.Algorithm?, certificate: String?, value: String?
        let read = object { r, key in
            if r.key(key, is: "principal") {
                guard principal == nil else { return false }
                principal = r.string()
                return principal != nil
            } else if r.key(key, is: "algorithm") {
                guard algorithm == nil else { return false }
                algorithm = r.string().flatMap(CommandSignature.Algorithm.init(rawValue:))
                return algorithm != nil
            } else if r.key(key, is: "certificate") {
                guard certificate == nil else { return false }
                certificate = r.string()
                return certificate != nil
            } else if r.key(key, is: "value") {
                guard value == nil else { return false }
                value = r.string()
                return value != nil
            }
            return false
        }
        guard read, let principal, let algorithm, let certificate, let value else { return nil }
        return CommandSignature(principal: principal, algorithm: algorithm, certificate: certificate, value: value)
    }
}
