import Authority
import Foundation
@testable import Messages
import Testing

/// The hand-written reader of sign commands (the audit replay reads every one on a topic) against `JSONDecoder`
/// configured by `MessageCoding`: the same values for what `motcua review sign` writes, and the decoder's own outcome
/// for anything else.
@Suite("Fast JSON: sign commands as JSONDecoder reads them")
struct FastJSONSignCommandTests {
    static let key = CommandSigningKey.newP256()

    static func commands() throws -> [[UInt8]] {
        let at = Date(timeIntervalSince1970: 1_796_000_000.125)
        var result: [[UInt8]] = []
        for (index, reason) in [nil, "Hồ sơ thiếu giấy phép; đề nghị bổ sung \"gấp\"\n\\ / ✓"].enumerated() {
            for round in [nil, 0, 3] {
                var command = SignCommand(
                    commandId: UUID(), dossierId: "d-\(index)-\(round ?? -1)", step: 2,
                    official: Official(id: "industrial-zones-director", department: "industrial-zones"),
                    decision: index == 0 ? .approve : .refuse, reason: reason, at: at, round: round,
                    preparedOutcome: round == nil ? nil : "refuse", ruleVersion: round == nil ? nil : "v#1")
                // Unsigned, as encoded, and signed, as `motcua review sign --key` sends it (canonical JSON).
                result.append(Array(try MessageCoding.encoder().encode(command)))
                result.append(try SignedCommands.encode(
                    command, type: MessageType.sign, department: "industrial-zones", principal: "industrial-zones-director",
                    certificate: String(repeating: "c", count: 64), key: key))
                command.signature = CommandSignature(
                    principal: "p", algorithm: .rsaPKCS1SHA256, certificate: "c", value: "a/b+c==")
                result.append(Array(try MessageCoding.encoder().encode(command)))
            }
        }
        return result
    }

    @Test("commands as they are written: the fast reader gives what JSONDecoder gives")
    func same() throws {
        let decoder = MessageCoding.decoder()
        for bytes in try Self.commands() {
            let fast = try #require(FastJSON.signCommand(bytes), "\(String(decoding: bytes, as: UTF8.self))")
            #expect(fast == (try decoder.decode(SignCommand.self, from: Data(bytes))))
            #expect(try MessageCoding.decodeSignCommand(bytes, decoder: decoder) == fast)
        }
    }

    @Test("anything else is the decoder's: a result, unknown or repeated keys, escaped keys, odd numbers, bad values")
    func fallback() throws {
        let decoder = MessageCoding.decoder()
        let base = String(decoding: try Self.commands()[1], as: UTF8.self)
        let variants = [
            base.replacingOccurrences(of: #""step":2"#, with: #""step":2,"result":null"#),
            base.replacingOccurrences(of: #""step":2"#, with: #""step":2,"extra":1"#),
            base.replacingOccurrences(of: #""step":2"#, with: #""step":2,"step":3"#),
            base.replacingOccurrences(of: #""step":2"#, with: #""st\u0065p":2"#),
            base.replacingOccurrences(of: #""step":2"#, with: #""step":2.0"#),
            base.replacingOccurrences(of: #""decision":"approve""#, with: #""decision":"maybe""#),
            base.replacingOccurrences(of: #""algorithm":"ecdsa-p256-sha256""#, with: #""algorithm":"md5""#),
            base.replacingOccurrences(of: #""step":2"#, with: #""step":"2""#),
        ]
        for text in variants {
            #expect(text != base)
            let bytes = Array(text.utf8)
            #expect(FastJSON.signCommand(bytes) == nil, "\(text)")
            let decoded = try? decoder.decode(SignCommand.self, from: Data(bytes))
            #expect((try? MessageCoding.decodeSignCommand(bytes, decoder: decoder)) == decoded, "\(text)")
        }
    }
}
