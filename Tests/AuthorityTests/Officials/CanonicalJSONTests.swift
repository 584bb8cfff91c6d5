import Foundation
import Testing

@testable import Authority

@Suite("Canonical JSON (RFC 8785)")
struct CanonicalJSONTests {
    func canonical(_ text: String) throws -> String {
        String(decoding: try CanonicalJSON.canonicalBytes(of: Array(text.utf8)), as: UTF8.self)
    }

    @Test("members sorted by UTF-16 code units, no white space, nested objects sorted too")
    func ordering() throws {
        // RFC 8785 section 3.2.3's example: "\r" < "1" < "\u0080" < "\u00f6" < "\u20ac" < "\ud83d\ude00" < "\ufb33"
        // (the emoji's high surrogate sorts before U+FB33, though its scalar is larger).
        let input = #"{"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"}"#
        let keys = try canonical(input).split(separator: ",").map { $0.split(separator: ":").first.map(String.init) ?? "" }
        #expect(keys == [
            #"{"\r""#, #""1""#, "\"\u{80}\"", "\"\u{F6}\"", "\"\u{20AC}\"", "\"\u{1F600}\"", "\"\u{FB33}\"",
        ])
        #expect(try canonical(#" { "b" : [ 1 , { "z" : null , "a" : true } ] , "a" : "x" } "#)
            == #"{"a":"x","b":[1,{"a":true,"z":null}]}"#)
    }

    @Test("numbers as ECMAScript prints them")
    func numbers() throws {
        let cases: [(String, String)] = [
            ("0", "0"), ("-0", "0"), ("1", "1"), ("-1", "-1"), ("1.0", "1"), ("100", "100"), ("1e2", "100"),
            ("123.456", "123.456"), ("0.000001", "0.000001"), ("1e-7", "1e-7"), ("0.0000001", "1e-7"),
            ("1e21", "1e+21"), ("1e20", "100000000000000000000"), ("12345678901234567890123", "1.2345678901234568e+22"),
            ("4.5", "4.5"), ("0.1", "0.1"), ("333333333.3333333", "333333333.3333333"), ("-1.5e-10", "-1.5e-10"),
            ("9007199254740993", "9007199254740992"),
        ]
        for (input, expected) in cases {
            #expect(try canonical("[\(input)]") == "[\(expected)]", "\(input)")
        }
    }

    @Test("strings keep every character but the escapes RFC 8785 prescribes")
    func strings() throws {
        #expect(try canonical(#"["\u0041\u00e9\/\"\\\b\f\n\r\t\u0001\u001f\u007f"]"#)
            == "[\"A\u{E9}/\\\"\\\\\\b\\f\\n\\r\\t\\u0001\\u001f\u{7F}\"]")
    }

    @Test("refused: duplicate keys, lone surrogates, non-finite numbers, trailing text")
    func refusals() {
        for bad in [#"{"a":1,"a":2}"#, #"["\ud800"]"#, "[1e400]", "{} x", #"{"a":}"#, "[NaN]"] {
            #expect(throws: CanonicalJSON.ParseError.self, "\(bad)") { try canonical(bad) }
        }
    }

    @Test("the signature member is left out of what is signed; other members are kept")
    func removing() throws {
        let bytes = try CanonicalJSON.canonicalBytes(
            of: Array(#"{"b":1,"signature":{"value":"x"},"a":[2]}"#.utf8), removing: ["signature"])
        #expect(String(decoding: bytes, as: UTF8.self) == #"{"a":[2],"b":1}"#)
    }
}
