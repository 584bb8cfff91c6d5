import Authority
import Messages
import Testing

/// The strict scan decodes only keys (duplicates are found by their decoded text) and only scans values: strings
/// without escapes take a path that builds nothing; one with an escape is decoded from its start. The answers must
/// be the same whichever path a string takes.
@Suite("Strict JSON scan: keys decoded, values only scanned")
struct StrictJSONScanTests {
    func problem(_ json: String) -> IntakeError? { StrictJSON.problem(in: Array(json.utf8)) }

    @Test("a key twice is found whether it is written plainly, in raw UTF-8 or with escapes")
    func duplicateKeys() {
        #expect(problem(#"{"ab":1,"ab":2}"#)?.field == "ab")
        #expect(problem(#"{"ab":1,"a\u0062":2}"#)?.field == "ab")
        #expect(problem(#"{"a\u0062":1,"ab":2}"#)?.field == "ab")
        #expect(problem(#"{"é":1,"\u00e9":2}"#)?.field == "é")
        #expect(problem(#"{"x":{"tên":"Nguyễn","t\u00ean":"B"}}"#)?.field == "x.tên")
        #expect(problem(#"{"a\"b":1,"a\u0022b":2}"#)?.field == #"a"b"#)
        #expect(problem(#"{"ab":1,"abc":2,"a":{"ab":3}}"#) == nil)
    }

    @Test("an escaped NUL is refused in a key or a value, after plain text or at the start; anything else passes")
    func nulAnywhere() {
        #expect(problem(#"{"name":"xy\u0000"}"#)?.field == "name")
        #expect(problem(#"{"name":"\u0000xy"}"#)?.field == "name")
        #expect(problem(#"{"list":["ok","a\nb\u0000"]}"#)?.field == "list[1]")
        #expect(problem(#"{"k\u0000":1}"#) != nil)
        #expect(problem(#"{"name":"a\\u0000 is text here","q":"\"quoted\"","p":"C:\\dir\/x"}"#) == nil)
        #expect(problem(#"{"name":"Nguyễn Văn A","e":"\ud83d\ude00"}"#) == nil)
    }

    @Test("unterminated strings and broken syntax are left to the decoder")
    func brokenSyntax() {
        #expect(problem(#"{"name":"unterminated"#) == nil)
        #expect(problem(#"{"name":"bad escape \"#) == nil)
        #expect(problem(#"{"unterminated key"#) == nil)
        #expect(problem(" \n\t{ \"a\" : 1 , \"a\" : 2 }")?.field == "a")
    }
}
