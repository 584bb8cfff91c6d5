import Foundation
import Testing

@testable import Authority

/// The canonical bytes of commands as the first implementation of the canonical form wrote them (a tree of values and
/// Swift strings, `CanonicalJSON.parse` then `text`), pinned before the form was written straight from the bytes
/// (`CanonicalJSON.write`): signatures made by `motcua review`, the demo and the signed commands already on the topics
/// cover these bytes and must keep verifying.
@Suite("Canonical JSON: the signed bytes pinned")
struct CanonicalJSONPinnedTests {
    /// (input, its canonical bytes without the `signature` member), written by the code before `CanonicalJSON.write`:
    /// a sign command as the encoder writes it with a Vietnamese reason (NFC); the reason decomposed (NFD), members out
    /// of order, white space and escapes; every escape; nested objects and arrays out of order; numbers; keys ordered
    /// by UTF-16 code units (Vietnamese, astral, private use); a top-level array (nothing removed).
    static let pinned: [(String, String)] = [
        (
            "{\"at\":\"2026-12-07T09:15:00.123Z\",\"commandId\":\"5B0E7C2A-1D4F-4E8B-9A61-3C2D7E8F9A10\",\"decision\":\"refuse\",\"dossierId\":\"d-2026-000123\",\"official\":{\"department\":\"industrial-zones\",\"id\":\"industrial-zones-director\"},\"preparedOutcome\":\"refuse\",\"reason\":\"H\u{1ED3} s\u{1A1} thi\u{1EBF}u gi\u{1EA5}y ph\u{E9}p x\u{E2}y d\u{1EF1}ng; \u{111}\u{1EC1} ngh\u{1ECB} b\u{1ED5} sung\",\"round\":0,\"ruleVersion\":\"industrial-zones@2026-11-01#3f2a\",\"signature\":{\"algorithm\":\"rsa-pkcs1-sha256\",\"certificate\":\"ab01\",\"principal\":\"industrial-zones-director\",\"value\":\"AAAA+/==\"},\"step\":2}",
            "{\"at\":\"2026-12-07T09:15:00.123Z\",\"commandId\":\"5B0E7C2A-1D4F-4E8B-9A61-3C2D7E8F9A10\",\"decision\":\"refuse\",\"dossierId\":\"d-2026-000123\",\"official\":{\"department\":\"industrial-zones\",\"id\":\"industrial-zones-director\"},\"preparedOutcome\":\"refuse\",\"reason\":\"H\u{1ED3} s\u{1A1} thi\u{1EBF}u gi\u{1EA5}y ph\u{E9}p x\u{E2}y d\u{1EF1}ng; \u{111}\u{1EC1} ngh\u{1ECB} b\u{1ED5} sung\",\"round\":0,\"ruleVersion\":\"industrial-zones@2026-11-01#3f2a\",\"step\":2}"),
        (
            " {\u{A}\u{9}\"step\" : 1 , \"reason\" : \"Ho\u{302}\u{300} so\u{31B} thie\u{302}\u{301}u \\u0111\u{EA}\\u0300 ngh\\u1ecb\\/b\\u1ED5 sung\" ,\u{D}\u{A} \"dossierId\":\"d-1\", \"at\":\"2026-12-07T09:15:00Z\" , \"decision\":\"approve\" } ",
            "{\"at\":\"2026-12-07T09:15:00Z\",\"decision\":\"approve\",\"dossierId\":\"d-1\",\"reason\":\"Ho\u{302}\u{300} so\u{31B} thie\u{302}\u{301}u \u{111}\u{EA}\u{300} ngh\u{1ECB}/b\u{1ED5} sung\",\"step\":1}"),
        (
            "{\"escapes\":\"quote \\\" backslash \\\\ slash \\/ bs \\b ff \\f nl \\n cr \\r tab \\t nul \\u0000 x01 \\u0001 x1f \\u001F del \\u007f \u{7F} nbsp \\u00a0 ls \\u2028 emoji \\ud83d\\ude00 raw \u{1F600} bom \\ufeff\",\"k\":\"\\u0041\\u00E9\"}",
            "{\"escapes\":\"quote \\\" backslash \\\\ slash / bs \\b ff \\f nl \\n cr \\r tab \\t nul \\u0000 x01 \\u0001 x1f \\u001f del \u{7F} \u{7F} nbsp \u{A0} ls \u{2028} emoji \u{1F600} raw \u{1F600} bom \u{FEFF}\",\"k\":\"A\u{E9}\"}"),
        (
            "{\"z\":{\"y\":[{\"b\":true,\"a\":false},{\"d\":null,\"c\":[]},{}],\"x\":{\"\\u0111\":\"\u{111}\",\"d\":\"d\",\"\u{C0}\":1,\"A\":2}},\"a\":[[],[{}],[[1]]],\"m\":{\"nested\":{\"deeper\":{\"deepest\":{\"k2\":\"v\",\"k1\":[\"x\",{\"q\":1,\"p\":2}]}}}}}",
            "{\"a\":[[],[{}],[[1]]],\"m\":{\"nested\":{\"deeper\":{\"deepest\":{\"k1\":[\"x\",{\"p\":2,\"q\":1}],\"k2\":\"v\"}}}},\"z\":{\"x\":{\"A\":2,\"d\":\"d\",\"\u{C0}\":1,\"\u{111}\":\"\u{111}\"},\"y\":[{\"a\":false,\"b\":true},{\"c\":[],\"d\":null},{}]}}"),
        (
            "{\"n\":[0,-0,1,-1,1.0,100,1e2,1E2,123.456,0.000001,1e-7,0.0000001,1e21,1e20,12345678901234567890123,4.5,0.1,333333333.3333333,-1.5e-10,9007199254740993,9007199254740992,123456789012345,1234567890123456789,-0.0,2.5e-5,5e-324,1.7976931348623157e308,0.30000000000000004,1e+2,007,-007.50,999999999999999,-999999999999999,1000000000000000]}",
            "{\"n\":[0,0,1,-1,1,100,100,100,123.456,0.000001,1e-7,1e-7,1e+21,100000000000000000000,1.2345678901234568e+22,4.5,0.1,333333333.3333333,-1.5e-10,9007199254740992,9007199254740992,123456789012345,1234567890123456800,0,0.000025,5e-324,1.7976931348623157e+308,0.30000000000000004,100,7,-7.5,999999999999999,-999999999999999,1000000000000000]}"),
        (
            "{\"\\u20ac\":\"Euro\",\"\\r\":\"CR\",\"\\ufb33\":\"Dalet\",\"1\":\"One\",\"\\ud83d\\ude00\":\"Emoji\",\"\\u0080\":\"Control\",\"\\u00f6\":\"o\",\"\u{1B0}u ti\u{EA}n\":1,\"\u{110}\u{1ECB}a ch\u{1EC9}\":2,\"Z\":3,\"a\":4,\"\u{E0}\":5,\"\u{1F468}\u{200D}\u{1F469}\":6,\"\u{E000}\":7}",
            "{\"\\r\":\"CR\",\"1\":\"One\",\"Z\":3,\"a\":4,\"\u{80}\":\"Control\",\"\u{E0}\":5,\"\u{F6}\":\"o\",\"\u{110}\u{1ECB}a ch\u{1EC9}\":2,\"\u{1B0}u ti\u{EA}n\":1,\"\u{20AC}\":\"Euro\",\"\u{1F468}\u{200D}\u{1F469}\":6,\"\u{1F600}\":\"Emoji\",\"\u{E000}\":7,\"\u{FB33}\":\"Dalet\"}"),
        (
            "[\"signature\",{\"signature\":1},\"\u{1EBF}ch\",true,null]",
            "[\"signature\",{\"signature\":1},\"\u{1EBF}ch\",true,null]")
    ]

    @Test("the canonical bytes of pinned commands (Vietnamese NFC and NFD, escapes, nesting, numbers, key order)")
    func pinnedBytes() throws {
        for (input, expected) in Self.pinned {
            let bytes = try CanonicalJSON.canonicalBytes(of: Array(input.utf8), removing: [CommandSignature.member])
            #expect(bytes == Array(expected.utf8), "\(input)")
            // The tree of values still writes them too (the reference the generated documents are compared with).
            var value = try CanonicalJSON.parse(Array(input.utf8))
            if case .object(var members) = value {
                members[CommandSignature.member] = nil
                value = .object(members)
            }
            #expect(CanonicalJSON.text(value) == expected)
        }
    }

    /// Keys that signed the first three pinned inputs before the change (openssl, over the signing input the old code
    /// made for `motcua.official.sign` on `dossiers.industrial-zones`): SubjectPublicKeyInfo DER, base64.
    static let rsaKey = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAxAxS1O1RvpjUamkrjafAvBt30b58aWveAQWBfxWTOABZJQdyHO6Jjl1NyiwLygZ7RD8W5Ehl7WWS9aDgubkr1k0yNpW+4gllgIoYMq1V7qOjVHKtGzV70ghEY4kZGq2l+i5vc4zrzxtlItx7hzM6Rv2Du33DcrdiTUpygpm4UYt2qttMNg1dghW7vcL938Km33/+L3Q2PzrU1evax0E3/L4HGsnleLQV5rZW2ZwBMpt9reQx2stHNYk/zZRPTnFcbpvGKZs8dk+VnzgRY+/B3gyIujRL7gLdVzaVfaFv+LYZCwAnk6hATbB8n6XArcqAyXy8XMgtHbxCx3iTRnpW6QIDAQAB"
    static let p256Key = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEhxDeEk77awe1nqj/dPZMq1UbNGmceb+qwWGou2gU55KN5VHXrfGh6QA+bjxZRhfOt7XBsGWo2Jrgsjp5ACIxFg=="
    static let signatures: [(rsa: String, p256: String)] = [
        ("f/JUGYco+TOtC876lBZTL44F0y0Ij7vnZb+fLbFP2VZ4OSTAuWmGB1EJdrTUNSQD3m2UI4ro42Qaa+Y8ILvWbRMwO3TeY7S/vwzIKjqcXwNtm0Y2iNs1aslL+4gkVZ0BuYYQXfYLWLRRjFoOb90701E7Gyy6LyxfbqkeWlmNr+hbOP8AG9zQ+QVe2Z6r0GH28IgsX8aSva3vNsquAAa2obbCe8vxTcFOSBb5QBEEp8QS4TdNCBkk9Qrc2qKGUqnz5EElIEtt9ekCEdUuhFsF8CDNHhCCcgEVifFV8J/mU42TfOyvs3nVMeqSWMRx4psN+iJcHp11s/MD5crRWRU1bQ==",
         "MEUCIQCPvl2j9DALbhSIF29SXaWVGMB6cjskyoWjKFvw2+Cq2AIgZSQQIYlPyBiJc7P31Nnd1BPK2MZp22yrX3MxLqJ67Ac="),
        ("EKN9DkuhrcWKk8LYuy4va1SheDctoRvzb77UOJkQ4g7c6VX0iL2LLPY2QtAHupcb9D5e+zfkzcF1ADuaROPeCmK8PRmZsLGAms+W8eB+3WBQ2oiZAYzQ8ExDr9UUREOymG0vTfQHYsUNuAjwV55ZlkZw0QlABAohN87VmhDf2i2vYcpd3TDZCFb/LIsEMqVO0UdKJMto0PJ9AzDHKwUlLSfSvdxXbfWUGNBtjAgeO4S2HFY0f48ifgmX43lWwCn5zat/ZYVlJekpAWDt2rV1vz8VxeL4aT47+OM/8GoCWmKv/WSWdDaoCPDPuupwKXWpGQAOER05v49JfQMYiIRSzA==",
         "MEQCIBnJmi/0PZFzYXiiwEVqE9y+OpzcE+eJc2IQ086p/VuhAiBphMGO+ozXcJBY8QgwvX2PzTGn90nSqyDUxUXJvFl1Tg=="),
        ("PIiFOcUVDvk6R/wsLejfQB7l4FB2jZsrWMMFKWOzDJs8kp4hxPbqe3DeT2/354VowiOqQIQwdKhMNshdiiOFq4B/vrCNUSQBTjCc9GzD44PUahVuqD306r/JcRAlbMeaHvwKDZyFcCh69ECXmOl7KcfkpIuoHEv0Xg4aQW3P0Hy0Y2NNUUrNqpt3M9RLqQPj1fJLJPEvRQ0sZR71p0PuOGG+bihnPjYODMfAfTbvLMNYl3ZIVkGTN6BxBS90k3UVxbKLRaaeXtVtxFCg9P1jY6tCjV47E9GMF1K5YBmitO/cJ41f1eym/KC8ZEGHg5XH0f2GRNkKJuPKAGevpFMVfQ==",
         "MEUCIQDCNO6jFlHoVkch8e+7sB2iuuU4M6GDqv70c9BaxSylawIgIp08ZsWNyuhDwzVR1ZIEk0gSCttEAzJN7DdVlfqH3Wg="),
    ]

    @Test("signatures made over the old canonical bytes verify (RSA-2048 and P-256); a changed character does not")
    func signaturesMadeBefore() throws {
        let instant = Date(timeIntervalSince1970: 1_796_000_000)
        for (algorithm, spki) in [(CommandSignature.Algorithm.rsaPKCS1SHA256, Self.rsaKey), (.ecdsaP256SHA256, Self.p256Key)] {
            let principal = Principal(
                id: "industrial-zones-director", displayName: "d", department: "industrial-zones", division: nil,
                role: .director, key: try CommandKey(algorithm: algorithm, spkiDER: try #require(Data(base64Encoded: spki))),
                certificateSHA256: String(repeating: "b", count: 64), validFrom: instant.addingTimeInterval(-86_400),
                validTo: instant.addingTimeInterval(86_400), registeredAt: instant)
            let registry = OfficialRegistry(principals: [principal], inForceSince: instant)
            for (index, signature) in Self.signatures.enumerated() {
                let member = #"{"algorithm":"\#(algorithm.rawValue)","certificate":"\#(String(repeating: "b", count: 64))","principal":"industrial-zones-director","value":"\#(algorithm == .rsaPKCS1SHA256 ? signature.rsa : signature.p256)"}"#
                // The input with its signature member replaced by (or given) the real one, first in the object.
                var text = Self.pinned[index].0
                if let old = text.range(of: #","signature":{"algorithm":"rsa-pkcs1-sha256","certificate":"ab01","principal":"industrial-zones-director","value":"AAAA+/=="}"#) {
                    text.removeSubrange(old)
                }
                let open = try #require(text.firstIndex(of: "{"))
                text.replaceSubrange(open...open, with: #"{"signature":"# + member + ",")
                let command = Array(text.utf8)
                let checked = registry.verifySignature(
                    command: command, type: "motcua.official.sign", topic: "dossiers.industrial-zones")
                #expect((try? checked.get())?.id == "industrial-zones-director", "\(algorithm) \(index): \(checked)")
                // A field added: the signature no longer covers the command.
                let tampered = Array(text.replacingOccurrences(of: member + ",", with: member + #","added":1,"#).utf8)
                #expect(registry.verifySignature(
                    command: tampered, type: "motcua.official.sign", topic: "dossiers.industrial-zones").failureCode
                    == "bad-signature")
            }
        }
    }

    @Test("the signature member read straight from the bytes, or parsed when written otherwise: the same answers")
    func signatureMember() throws {
        let instant = Date(timeIntervalSince1970: 1_796_000_000)
        let key = try CommandSigningKey.newRSA2048()
        let principal = Principal(
            id: "labour-director", displayName: "d", department: "labour", division: nil, role: .director,
            key: key.publicKey, certificateSHA256: String(repeating: "a", count: 64),
            validFrom: instant.addingTimeInterval(-86_400), validTo: instant.addingTimeInterval(86_400),
            registeredAt: instant)
        let registry = OfficialRegistry(principals: [principal], inForceSince: instant)
        let signed = String(decoding: try CommandSignature.sign(
            Array(#"{"b":"Hồ sơ","a":1}"#.utf8), type: "t", topic: "dossiers.labour", principal: principal.id,
            certificate: principal.certificateSHA256, key: key), as: UTF8.self)
        func check(_ text: String) -> Result<Principal, CommandRefusal> {
            registry.verifySignature(command: Array(text.utf8), type: "t", topic: "dossiers.labour")
        }
        #expect((try? check(signed).get())?.id == "labour-director")
        // Escapes (a key, the base64's slashes), white space and an extra member: parsed, and the same principal.
        let value = try #require(signed.range(of: #""value":""#))
        var escaped = signed
        escaped.replaceSubrange(value, with: #" "v\u0061lue" : ""#)
        escaped = escaped.replacingOccurrences(of: "/", with: #"\/"#)
        escaped = escaped.replacingOccurrences(of: #""principal":"#, with: #""note":[1],"principal":"#)
        #expect(escaped != signed)
        #expect((try? check(escaped).get())?.id == "labour-director")
        // A member that is null is no signature; one without its value, or with a number, is malformed.
        let member = try #require(signed.range(of: #""signature":\{[^}]*\}"#, options: .regularExpression))
        var unsigned = signed
        unsigned.replaceSubrange(member, with: #""signature":null"#)
        #expect(check(unsigned).failureCode == "unsigned")
        #expect(check(signed.replacingOccurrences(of: #""value":"#, with: #""valeur":"#)).failureCode
            == "malformed-signature")
        #expect(check(signed.replacingOccurrences(of: #""algorithm":"rsa-pkcs1-sha256""#, with: #""algorithm":1"#))
            .failureCode == "malformed-signature")
    }

    @Test("keys equal as Swift strings (canonical equivalence) are duplicates, as the parsed dictionary refused them")
    func equivalentKeys() throws {
        for bad in [#"{"\u00e9":1,"e\u0301":2}"#, "{\"K\":1,\"\u{212A}\":2}", #"{"a":1,"b":{"x":1,"x":2}}"#] {
            #expect(throws: CanonicalJSON.ParseError.self, "\(bad)") { try CanonicalJSON.canonicalBytes(of: Array(bad.utf8)) }
            #expect(throws: CanonicalJSON.ParseError.self, "\(bad)") { try CanonicalJSON.parse(Array(bad.utf8)) }
        }
        // 64 levels of nesting are read, 65 are not (as parse()).
        let deep = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(try CanonicalJSON.canonicalBytes(of: Array(deep.utf8)) == Array(deep.utf8))
        #expect(throws: CanonicalJSON.ParseError.self) { try CanonicalJSON.canonicalBytes(of: Array("[\(deep)]".utf8)) }
    }

    /// A small deterministic generator (the same documents on every run).
    struct Generator {
        var state: UInt64
        mutating func int(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        mutating func pick<T>(_ items: [T]) -> T { items[int(items.count)] }
    }

    static let pieces = [
        "a", "b", "A", "z", "\u{E9}", "e\u{301}", "\u{212A}", "K", "\u{111}", "\u{1A1}", "\u{1EBF}", "\u{1F600}", "\u{E000}",
        "\u{FB33}", #"\u00e9"#, #"\ud83d\ude00"#, #"\n"#, #"\""#, #"\\"#, #"\/"#, #"\u0000"#, #"\u001F"#, #"\b"#, #"\f"#,
        "\u{7F}", #"\udc00"#, #"\ud800"#, #"\u+041"#, #"\u12"#, #"\x"#, "\u{01}", "signature", " ", #"\u0041"#,
    ]
    static let numbers = [
        "0", "-0", "1", "-1", "007", "1.5", "1e2", "1E+2", "-1.5e-10", "123456789012345", "1234567890123456",
        "9007199254740993", "1e400", "-", "+1", ".5", "1.", "0.1", "00", "-01", "1e21", "5e-324", "1-2",
        "12345678901234567890123", "-999999999999999", "0.000001", "1e-7",
    ]

    static func document(_ generator: inout Generator, depth: Int = 0) -> String {
        func string() -> String { "\"" + (0..<generator.int(4)).map { _ in generator.pick(pieces) }.joined() + "\"" }
        func space() -> String { generator.pick(["", "", "", " ", "\n\t", "\r"]) }
        switch generator.int(depth > 4 ? 4 : 7) {
        case 0, 3: return space() + string()
        case 1: return generator.pick(numbers)
        case 2: return generator.pick(["true", "false", "null", "tru", "nul"])
        case 4, 5:
            let members = (0..<generator.int(6)).map { _ in
                space() + string() + space() + ":" + space() + document(&generator, depth: depth + 1) + space()
            }
            return "{" + members.joined(separator: ",") + (generator.int(30) == 0 ? "," : "") + "}"
        default:
            return "[" + (0..<generator.int(4)).map { _ in space() + document(&generator, depth: depth + 1) }
                .joined(separator: ",") + "]"
        }
    }

    @Test("generated documents: the bytes written straight are the tree's text, and the same ones are refused")
    func generated() {
        var generator = Generator(state: 18)
        var written = 0
        for _ in 0..<4_000 {
            var bytes = Array(Self.document(&generator).utf8)
            if generator.int(40) == 0 { bytes += Array(" x".utf8) }
            if generator.int(40) == 0, !bytes.isEmpty { bytes[generator.int(bytes.count)] = generator.pick([0xC0, 0xED, 0xFF, 0x80, 0xF4]) }
            if generator.int(40) == 0, !bytes.isEmpty { bytes.removeLast(generator.int(bytes.count)) }
            let removing: Set<String> = generator.int(2) == 0 ? [CommandSignature.member] : [CommandSignature.member, "a", "\u{E9}"]
            let reference: [UInt8]? = (try? CanonicalJSON.parse(bytes)).map { value in
                guard case .object(var members) = value else { return Array(CanonicalJSON.text(value).utf8) }
                for key in removing { members[key] = nil }
                return Array(CanonicalJSON.text(.object(members)).utf8)
            }
            let fast = try? CanonicalJSON.canonicalBytes(of: bytes, removing: removing)
            #expect(fast == reference, "\(String(decoding: bytes, as: UTF8.self).debugDescription)")
            if fast != nil { written += 1 }
        }
        #expect(written > 1_000)  // not only refusals
    }
}
