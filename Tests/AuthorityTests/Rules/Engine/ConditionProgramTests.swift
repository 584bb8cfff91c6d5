import Foundation
import Testing

@testable import Authority

/// The precompiled answers (interned strings, per-case tables, the ASCII string index) must agree with Swift's
/// string equality, which is canonical equivalence.
@Suite("Compiled conditions")
struct ConditionProgramTests {
    private func holds(_ condition: Condition, _ dossier: Dossier) -> Bool {
        ConditionProgram(conditions: [condition]).evaluate(root: 0, dossier).isTrue
    }

    @Test func stringFactsCompareByCanonicalEquivalence() {
        let composed = "Hà Nội"  // precomposed à and ộ
        let decomposed = "Ha\u{0300} N\u{006F}\u{0323}\u{0302}i"
        #expect(composed == decomposed)
        let d = Fixture.dossier(facts: ["city": .string(decomposed), "unit": .string("\u{212A}")])  // Kelvin sign
        #expect(holds(.compare(.fact("city"), .eq, .string(composed)), d))
        #expect(holds(.compare(.fact("city"), .in, .array([.string("Huế"), .string(composed)])), d))
        #expect(!holds(.compare(.fact("city"), .notIn, .array([.string(composed)])), d))
        #expect(holds(.compare(.fact("city"), .ne, .string("Hà Nam")), d))
        // U+212A decomposes canonically to ASCII "K": equal for Swift, though the bytes differ.
        #expect(holds(.compare(.fact("unit"), .eq, .string("K")), d))
        #expect(!holds(.compare(.fact("unit"), .ne, .string("K")), d))
    }

    @Test func asciiStringsAndLists() {
        let d = Fixture.dossier(commune: "00004", facts: ["sector": .string("mining"), "n": .integer(3)])
        #expect(holds(.compare(.fact("sector"), .in, .array([.string("food"), .string("mining")])), d))
        #expect(!holds(.compare(.fact("sector"), .in, .array([.string("minin"), .string("mining2")])), d))
        #expect(holds(.compare(.fact("sector"), .notIn, .array([])), d))
        #expect(holds(.compare(.fact("sector"), .in, .array([.integer(1), .string("mining")])), d))
        #expect(!holds(.compare(.fact("n"), .in, .array([.string("3")])), d))
        #expect(holds(.compare(.commune, .eq, .string("00004")), d))
        #expect(holds(.compare(.commune, .in, .array([.string("00001"), .string("00004")])), d))
        #expect(!holds(.compare(.commune, .ne, .string("00004")), d))
        #expect(holds(.compare(.procedure, .eq, .string("2.000633")), d))
        #expect(!holds(.compare(.fact("sector"), .eq, .string("Mining")), d))
        // More than 64 distinct strings for one fact: compared as strings.
        let many = (0..<70).map { FactValue.string("s\($0)") }
        #expect(holds(.compare(.fact("sector"), .in, .array(many + [.string("mining")])), d))
        #expect(!holds(.compare(.fact("sector"), .in, .array(many)), d))
    }

    @Test func enumFieldsAnswerPerCase() {
        for channel in Dossier.Channel.allCases {
            let d = Fixture.dossier(channel: channel)
            #expect(holds(.compare(.channel, .eq, .string("post")), d) == (channel == .post))
            #expect(
                holds(.compare(.channel, .in, .array([.string("online"), .string("counter")])), d) == (channel != .post)
            )
            let mismatch = ConditionProgram(conditions: [.compare(.channel, .eq, .integer(1))]).evaluate(root: 0, d)
            #expect(mismatch.why == .typeMismatch)
        }
        for kind in Dossier.Applicant.Kind.allCases {
            let d = Fixture.dossier(kind: kind)
            #expect(holds(.compare(.applicantKind, .notIn, .array([.string("citizen")])), d) == (kind != .citizen))
            #expect(holds(.compare(.applicantKind, .lt, .string("f")), d) == (kind.rawValue < "f"))
        }
    }

    @Test func stringIndexAgreesWithDictionary() {
        let keys = ["1.009997", "2.000633", "\u{212A}", "Hà Nội", "", "a-much-longer-procedure-code-than-usual"]
        let dictionary = Dictionary(uniqueKeysWithValues: keys.enumerated().map { ($1, $0) })
        let index = StringIndex(dictionary)
        for query in keys + ["K", "Ha\u{0300} N\u{006F}\u{0323}\u{0302}i", "1.009998", "x"] {
            #expect(index[query] == dictionary[query], "\(query)")
        }
    }

    /// The same text in a heap buffer instead of inline (as decoders and string building may leave it).
    private func heap(_ s: String) -> String {
        var copy = String(decoding: Array(s.utf8), as: UTF8.self)
        copy.reserveCapacity(64)
        return copy
    }

    @Test func representationShortcutsAgreeWithStringEquality() {
        // The layout the shortcuts read is this platform's; without it they fall back to exact comparisons.
        #expect(RawStringTable.smallLayoutKnown)
        let texts = [
            "", "K", "\u{212A}", "mining", "mining3", "Mining", "0123456789abcde", "0123456789abcdef",
            "application-form", "application-forn", "foreignOwnershipPct", "Hà Nội", "Ha\u{0300} N\u{006F}\u{0323}\u{0302}i",
        ]
        let forms = texts + texts.map(heap)
        for a in forms {
            for b in forms {
                #expect(RawStringTable.equal(a, b) == (a == b), "\(a.debugDescription) vs \(b.debugDescription)")
            }
        }
        let table = RawStringTable(texts.enumerated().map { ($1, 1, Int32($0)) })
        for (i, text) in texts.enumerated() where text.utf8.count <= 15 {
            #expect(table.find(text, key: 1) == Int32(i))
            #expect(table.find(text, key: 2) == -1)
        }
        #expect(table.find("absent", key: 1) == -1)
    }

    @Test func heapFormStringsAreFound() {
        // Names and values stored in a heap buffer miss the representation tables and are found exactly.
        var facts: [String: FactValue] = [heap("sector"): .string(heap("mining")), "n": .integer(3)]
        facts[heap("capitalVnd")] = .integer(7)
        let d = Fixture.dossier(commune: heap("00004"), facts: facts)
        #expect(holds(.compare(.fact("sector"), .in, .array([.string("food"), .string("mining")])), d))
        #expect(holds(.compare(.fact("sector"), .eq, .string("mining")), d))
        #expect(!holds(.compare(.fact("sector"), .ne, .string("mining")), d))
        #expect(holds(.compare(.fact("capitalVnd"), .gt, .integer(6)), d))
        // Two facts read: the dossier's facts are walked rather than looked up.
        let both = Condition.all([
            .compare(.fact("sector"), .in, .array([.string("food"), .string("mining")])),
            .compare(.fact("capitalVnd"), .eq, .integer(7)),
        ])
        #expect(holds(both, d))
        #expect(holds(.compare(.commune, .eq, .string("00004")), d))
        #expect(!holds(.compare(.commune, .in, .array([.string("00001"), .string("00005")])), d))
        // A non-ASCII value equal to an ASCII literal (U+212A is K) is not taken for a miss.
        let kelvin = Fixture.dossier(facts: ["unit": .string("\u{212A}")])
        #expect(holds(.compare(.fact("unit"), .in, .array([.string("J"), .string("K")])), kelvin))
    }
}
