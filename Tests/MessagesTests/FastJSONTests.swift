@testable import Audit
import Authority
import EffectivelyOnce
import Foundation
@testable import Messages
import Pages
import ServiceCommands
import Services
import Simulation
import Store
import TestSupport
import Testing

/// The hand-written JSON reader and writer against `JSONDecoder`/`JSONEncoder` configured by `MessageCoding`: the
/// same values, the same bytes, and for anything the fast path does not take, the decoder's own outcome.
@Suite("Fast JSON: step tasks, dossiers and events as JSONDecoder/JSONEncoder read and write them")
struct FastJSONTests {
    static let bundle: AuthorityBundle = {
        do {
            return try AuthorityBundle.load(from: TestEnvironment.root.appendingPathComponent("deploy"))
        } catch {
            fatalError("deploy/ does not load: \(error)")
        }
    }()

    /// Deterministic random choices (SplitMix64).
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
        mutating func chance(_ p: Double) -> Bool { Double(next() % 1_000_000) / 1_000_000 < p }
        mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
    }

    static let texts = [
        "Nguyễn Văn An", "Trần Thị Bích Ngọc", "Công ty TNHH Đầu tư Phát triển Hạ tầng", "Quận 1 / TP. Hồ Chí Minh",
        "quote \" and backslash \\", "tab\tnew line\ncarriage\r", "control \u{01}\u{1F}\u{08}\u{0C}", "emoji 😀🇻🇳",
        "e\u{301} (decomposed) é", "</script>", "DEL \u{7F} and \u{2028}\u{2029}", "\u{FEFF}BOM inside", " ", "",
        "a/b/c", "日本語", "Ωhm Kelvin \u{212A}",
    ]

    /// A realistic step task (DossierGenerator), varied: names and strings of every kind, facts of every
    /// `FactValue` kind a dossier accepts, optional fields absent or present, supplement rounds.
    static func task(_ random: inout Random, generator: inout DossierGenerator, sequence: Int) -> StepTask {
        let now = Date(timeIntervalSince1970: 1_795_746_600 + Double(random.below(1_000_000)) / 1000)
        var dossier = generator.next(submittedAt: now.addingTimeInterval(-Double(random.below(86_400_000)) / 1000))
        if random.chance(0.5) { dossier.applicant.name = random.pick(texts.filter { !$0.allSatisfy(\.isWhitespace) }) }
        if random.chance(0.2) { dossier.applicant.id = "ID/\(random.pick(texts))-\(sequence)" }
        if random.chance(0.1) { dossier.id = dossier.id.uppercased() }
        if random.chance(0.1) { dossier.documents = [] }
        if random.chance(0.1) { dossier.facts = [:] }
        if random.chance(0.5) {
            dossier.facts["note"] = .string(random.pick(texts))
            dossier.facts["ratio"] = .number(Double(random.below(1_000_000)) / 997 - 500)
            dossier.facts["tiny"] = .number(Double(random.below(1000) + 1) * 1e-9)
            dossier.facts["negative"] = .integer(-Int64(random.below(1_000_000)))
            dossier.facts["extreme"] = .integer(random.pick([Int64.max, Int64.min, 0, 999_999_999_999_999_999]))
            dossier.facts["whole"] = .number(Double(random.below(1000)))
            dossier.facts["flag"] = .bool(random.chance(0.5))
            dossier.facts["fact/with \"escapes\"\t"] = .string("x")
            dossier.facts[""] = .bool(true)
        }
        // Facts named in other than ASCII: JSONEncoder writes those tasks (its key order).
        if random.chance(0.02) { dossier.facts["tên dữ kiện"] = .integer(7) }
        // Whole numbers in exponent form (`1.5e+200`): left to JSONDecoder.
        if random.chance(0.02) { dossier.facts["huge"] = .number(Double(random.below(1000) + 1) * 1.5e200) }
        // The intake's optional booleans (migration 030): absent, true or false.
        if random.chance(0.3) { dossier.digitised = random.chance(0.5) }
        if random.chance(0.3) { dossier.vneidVerified = random.chance(0.5) }
        return StepTask(
            taskId: StableID.make("step", dossier.id, String(sequence)), dossier: dossier,
            code: random.chance(0.9) ? "HEZA-261127-\(sequence)" : random.pick(texts), step: random.below(3),
            round: random.chance(0.8) ? 0 : random.below(4) + 1,
            department: random.pick(["industrial-zones", "environment", "labour", "phòng/ban"]),
            receivedAt: now, dueDate: random.chance(0.7) ? "2026-12-\(10 + random.below(18))" : nil)
    }

    /// A decode's outcome, comparable: the value, or the error as the worker reports it.
    enum Outcome<T: Equatable>: Equatable {
        case value(T)
        case error(String)
    }

    static func outcome<T: Equatable>(_ body: () throws -> T) -> Outcome<T> {
        do { return .value(try body()) } catch { return .error(String(reflecting: error)) }
    }

    static func variants(of task: StepTask) throws -> [[UInt8]] {
        let plain = MessageCoding.encoder()
        let pretty = JSONEncoder()  // whitespace, escaped slashes, unsorted keys, dates as the decoder reads them
        pretty.outputFormatting = [.prettyPrinted]
        pretty.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode(MessageCoding.formatInstant(date))
        }
        return [Array(try plain.encode(task)), Array(try pretty.encode(task))]
    }

    @Test("4,000 generated step tasks: the fast reader gives what JSONDecoder gives, the writer JSONEncoder's bytes")
    func stepTasks() throws {
        var random = Random(state: 42)
        var generator = DossierGenerator(bundle: Self.bundle, seed: 7)
        let decoder = MessageCoding.decoder()
        let encoder = MessageCoding.encoder()
        var fast = 0
        var total = 0
        for sequence in 0..<4_000 {
            let task = Self.task(&random, generator: &generator, sequence: sequence)
            let expected = Array(try encoder.encode(task))
            let written = try MessageCoding.encode(task, encoder: encoder)
            #expect(written == expected, "\(String(decoding: written, as: UTF8.self))")
            let asciiNames = task.dossier.facts.keys.allSatisfy { $0.utf8.allSatisfy { $0 < 0x80 } }
            #expect((JSONByteWriter.stepTask(task) != nil) == asciiNames, "the writer fell back for \(task)")
            for bytes in try Self.variants(of: task) {
                total += 1
                let reference = try decoder.decode(StepTask.self, from: Data(bytes))
                if let read = FastJSON.stepTask(bytes) {
                    fast += 1
                    #expect(read == reference)
                    // Same bytes again: nothing the fast reader produced differs in a way == could miss.
                    #expect(Array(try encoder.encode(read)) == Array(try encoder.encode(reference)))
                }
                #expect(try MessageCoding.decodeStepTask(bytes, decoder: decoder) == reference)
            }
        }
        // The generated tasks are what the reader is for: it must take (nearly) all of them.
        #expect(fast >= total * 95 / 100, "fast path took \(fast) of \(total)")
    }

    @Test("the digest of a step task's dossier as sent: the canonical digest when written as reception and the workers write it, another for other forms")
    func sentDigests() throws {
        var random = Random(state: 43)
        var generator = DossierGenerator(bundle: Self.bundle, seed: 8)
        let decoder = MessageCoding.decoder()
        let encoder = MessageCoding.encoder()
        var sent = 0
        for sequence in 0..<2_000 {
            let task = Self.task(&random, generator: &generator, sequence: sequence)
            let canonical = try MessageCoding.digest(of: task.dossier, encoder: encoder)
            // As reception and the departments write it (MessageCoding.encode), and as JSONEncoder writes it.
            for bytes in [try MessageCoding.encode(task, encoder: encoder), Array(try encoder.encode(task))] {
                let read = try MessageCoding.decodeStepTaskWithSentDigest(bytes, decoder: decoder)
                #expect(read.task == (try MessageCoding.decodeStepTask(bytes, decoder: decoder)))
                if let digest = read.sentDigest {
                    sent += 1
                    #expect(digest == canonical, "\(String(decoding: bytes, as: UTF8.self))")
                } else {
                    #expect(FastJSON.stepTask(bytes) == nil)
                }
            }
            // Pretty-printed: the same task, a digest of other bytes (the worker then checks the canonical one too).
            let pretty = try Self.variants(of: task)[1]
            let read = try MessageCoding.decodeStepTaskWithSentDigest(pretty, decoder: decoder)
            #expect(read.task == (try decoder.decode(StepTask.self, from: Data(pretty))))
            if let digest = read.sentDigest { #expect(digest != canonical) }
        }
        #expect(sent >= 2 * 2_000 * 95 / 100, "digests of sent bytes: \(sent) of \(2 * 2_000)")
    }

    @Test("dossiers as reception reads them: the fast reader gives what Dossier.decode(json:) gives")
    func intakeDossiers() throws {
        var random = Random(state: 9)
        var generator = DossierGenerator(bundle: Self.bundle, seed: 11)
        let encoder = MessageCoding.encoder()
        var fast = 0
        for sequence in 0..<2_000 {
            let dossier = Self.task(&random, generator: &generator, sequence: sequence).dossier
            let bytes = Array(try encoder.encode(dossier))
            let reference = try Dossier.decode(json: Data(bytes))
            if let read = FastJSON.dossier(bytes) {
                fast += 1
                #expect(read == reference)
            }
            #expect(try MessageCoding.decodeIntakeDossier(bytes) == reference)
        }
        #expect(fast >= 1_900, "fast path took \(fast) of 2000")
    }

    @Test("facts written in every number form: the same FactValue (or the same error) as JSONDecoder", arguments: [
        "0", "-0", "7", "-7", "1.0", "40.0", "-0.0", "0.5", "-12.75", "1e2", "1E2", "2.5e-3", "1.5E+2", "00", "01",
        "-01", "1.", ".5", "+1", "1e400", "-1e400", "999999999999999999", "9223372036854775807",
        "9223372036854775808", "-9223372036854775808", "-9223372036854775809", "123456789012345678901",
        "0.1", "0.30000000000000004", "3.141592653589793238462643383279", "1.00000000000000000001", "1e-400",
        "5e-324", "true", "false", "null", "[]", "[1]", "{}", "\"x\"", "\"\\u00e9\\ud83d\\ude00\"", "\"\\ud83d\"",
        "\"\\udc00\"", "\"\\u0000\"", "tru", "nul", "-", "--1", "0x10", "Infinity", "NaN",
    ])
    func factForms(fact: String) throws {
        let base = try Self.baseTask()
        let text = base.replacingOccurrences(of: #""facts":{}"#, with: #""facts":{"f":\#(fact)}"#)
        #expect(text != base)
        try Self.expectSameOutcome(Array(text.utf8))
    }

    @Test("random decimal facts parse to the very Double JSONDecoder gives")
    func decimals() throws {
        var random = Random(state: 3)
        let base = try Self.baseTask()
        var fast = 0
        for _ in 0..<3_000 {
            let digits = random.below(17) + 1
            var fraction = ""
            for _ in 0..<digits { fraction += String(random.below(10)) }
            let whole = random.pick(["0", "1", "42", "-3", "123456789", "-0", "9007199254740993"])
            let text = base.replacingOccurrences(of: #""facts":{}"#, with: #""facts":{"f":\#(whole).\#(fraction)}"#)
            let bytes = Array(text.utf8)
            if FastJSON.stepTask(bytes) != nil { fast += 1 }
            try Self.expectSameOutcome(bytes)
        }
        #expect(fast > 2_000)
    }

    /// The fallback: malformed, mistyped, incomplete or unexpected input gives exactly JSONDecoder's outcome.
    @Test("malformed step tasks: the same error (or value) as JSONDecoder, through the fallback")
    func malformed() throws {
        let base = try Self.baseTask()
        let bytes = Array(base.utf8)
        var cases: [[UInt8]] = []
        for cut in stride(from: 0, to: bytes.count, by: 3) { cases.append(Array(bytes[..<cut])) }
        func replacing(_ old: String, _ new: String) -> [UInt8] {
            let text = base.replacingOccurrences(of: old, with: new)
            precondition(text != base, "\(old) is not in the base task")
            return Array(text.utf8)
        }
        cases += [
            // wrong types
            replacing(#""step":2"#, #""step":"2""#), replacing(#""round":0"#, #""round":null"#),
            replacing(#""round":0"#, #""round":1.0"#), replacing(#""round":0"#, #""round":-0"#),
            replacing(#""code":"HEZA-261127-000001""#, #""code":12"#),
            replacing(#""taskId":""#, #""taskId":"not-a-uuid"#),
            replacing(#""department":"industrial-zones""#, #""department":["industrial-zones"]"#),
            replacing(#""dueDate":"2026-12-11""#, #""dueDate":null"#),
            replacing(#""dueDate":"2026-12-11""#, #""dueDate":20261211"#),
            replacing(#""channel":"online""#, #""channel":"fax""#),
            replacing(#""kind":"enterprise""#, #""kind":"robot""#),
            replacing(#""commune":"00044""#, #""commune":"44""#),
            replacing(#""procedure":"2.000633""#, #""procedure":"2.63""#),
            replacing(#""documents":["#, #""documents":["Not Kebab","#),
            replacing(#""documents":["#, #""documents":[1,"#),
            replacing(#""name":"Applicant 1""#, #""name":"   ""#),
            replacing(#""name":"Applicant 1""#, #""name":"\u00a0\u2003""#),
            replacing(#""id":"0106"#, #""id":" \t0106"#),
            replacing(#""facts":{}"#, #""facts":[]"#),
            replacing(#""facts":{}"#, #""facts":{"a":null}"#),
            replacing(#""facts":{}"#, #""facts":{"a":1,"a":2}"#),
            replacing(#""facts":{}"#, #""facts":{"e\u0301":1,"é":2}"#),
            replacing(#""submittedAt":"#, #""submittedAt":"yesterday","x":"#),
            replacing(#""receivedAt":"2026-11-27T02:30:00.123Z""#, #""receivedAt":"2026-11-27T02:30:00.123""#),
            replacing(#""receivedAt":"2026-11-27T02:30:00.123Z""#, #""receivedAt":"2026-11-27T09:30:00+07:00""#),
            replacing(#""receivedAt":"2026-11-27T02:30:00.123Z""#, #""receivedAt":"2026-02-30T02:30:00Z""#),
            replacing(#""receivedAt":"2026-11-27T02:30:00.123Z""#, #""receivedAt":1795746600"#),
            // missing fields
            replacing(#""step":2,"#, ""), replacing(#""round":0,"#, ""), replacing(#","dueDate":"2026-12-11""#, ""),
            replacing(#""commune":"00044","#, ""), replacing(#""kind":"enterprise","#, ""),
            // extra and repeated keys
            replacing(#""step":2"#, #""step":2,"extra":{"a":[1,2,{"b":null}]}"#),
            replacing(#""commune":"00044""#, #""commune":"00044","region":"south""#),
            replacing(#""kind":"enterprise""#, #""kind":"enterprise","email":"a@b""#),
            replacing(#""step":2"#, #""step":2,"step":3"#),
            replacing(#""code":"#, #""co\u0064e":"#),
            // JSON the strict reader refuses but JSONDecoder may take
            replacing(#""documents":["#, #""documents":[ "#), replacing(#""facts":{}"#, #""facts":{"a":1,}"#),
            Array(("\u{FEFF}" + base).utf8), Array((" \n\t" + base + " \r\n").utf8), Array((base + "x").utf8),
            Array((base + "{}").utf8), replacing("]", ",]"),
            replacing("Applicant 1", "Applicant \\u0031"), replacing("Applicant 1", "Applicant \\/ \\b\\f\\n\\r\\t"),
            replacing("Applicant 1", "Applicant \\x"), replacing("Applicant 1", "Applicant \t raw tab"),
            Array(base.utf8).map { $0 == UInt8(ascii: "A") ? 0xFF : $0 },
            Array("null".utf8), Array("[]".utf8), Array("".utf8), Array("{}".utf8), Array("\"text\"".utf8),
        ]
        // Identifiers read from their bytes (UUIDs, codes, documents): other cases, escapes and near misses.
        let taskId = try MessageCoding.decoder().decode(StepTask.self, from: Data(bytes)).taskId.uuidString
        let dossierId = "3f2b8c4e-1a2b-4c3d-8e9f-0a1b2c3d4e5f"
        for (old, new) in [(taskId, taskId.lowercased()), (dossierId, dossierId.uppercased())] {
            let changed = replacing(old, new)
            try Self.expectSameOutcome(changed)
            #expect(FastJSON.stepTask(changed) != nil, "\(new) takes the fast path")
        }
        for id in [taskId, dossierId] {
            cases += [
                replacing(id, String(id.dropLast()) + "g"), replacing(id, String(id.dropLast())),
                replacing(id, id + "0"), replacing(id, id.replacingOccurrences(of: "-", with: "")),
                replacing(id, "+" + String(id.dropFirst())), replacing(id, " " + String(id.dropFirst())),
                replacing(id, String(id.prefix(8)) + "_" + String(id.dropFirst(9))),
                replacing(id, id.replacingOccurrences(of: "-", with: "\\u002d")),
                replacing(id, String(id.prefix(35)) + "\\u0041"),
            ]
        }
        cases += [
            replacing(#""investment-certificate""#, #""investment\u002dcertificate""#),
            replacing(#""investment-certificate""#, #""investment--certificate""#),
            replacing(#""investment-certificate""#, #""-investment""#), replacing(#""site-plan""#, #""site-plan-""#),
            replacing(#""procedure":"2.000633""#, #""procedure":"2\u002e000633""#),
            replacing(#""procedure":"2.000633""#, #""procedure":"3.000633""#),
            replacing(#""commune":"00044""#, #""commune":"0004\u0034""#),
            replacing(#""commune":"00044""#, #""commune":"0004a""#),
            replacing(#""name":"Applicant 1""#, #""name":"\u0020\u0009""#),
            replacing(#""name":"Applicant 1""#, #""name":" \u00e9""#),
        ]
        for input in cases { try Self.expectSameOutcome(input) }
        // The base task itself takes the fast path, so the cases above differ from it only by what they change.
        #expect(FastJSON.stepTask(bytes) != nil)
    }

    @Test("malformed intake dossiers: the same IntakeError as Dossier.decode(json:)")
    func malformedDossiers() throws {
        let task = try MessageCoding.decoder().decode(StepTask.self, from: Data(try Self.baseTask().utf8))
        let base = String(decoding: try MessageCoding.encoder().encode(task.dossier), as: UTF8.self)
        #expect(FastJSON.dossier(Array(base.utf8)) == task.dossier)
        var cases: [String] = []
        for cut in stride(from: 0, to: base.utf8.count, by: 5) { cases.append(String(base.utf8.prefix(cut))!) }
        for (old, new) in [
            (#""channel":"online""#, #""channel":"Online""#), (#""commune":"00044""#, #""commune":44"#),
            (#""id":"0106"#, #""id":"  "#), (#""facts":{}"#, #""facts":{"x":[1]}"#), (#""kind":"#, #""type":"#),
            (#""procedure":"2.000633""#, #""procedure":"2.000633","extra":1"#), (#""documents":["#, #""documents":[null,"#),
            (#""procedure":"2.000633""#, #""procedure":"2.000633","digitised":"yes""#),
            (#""procedure":"2.000633""#, #""procedure":"2.000633","vneidVerified":1"#),
            (#""procedure":"2.000633""#, #""procedure":"2.000633","digitised":null"#),
        ] {
            let text = base.replacingOccurrences(of: old, with: new)
            #expect(text != base, "\(old)")
            cases.append(text)
        }
        for text in cases {
            let bytes = Array(text.utf8)
            let expected = Self.outcome { () throws -> Dossier in try Dossier.decode(json: Data(bytes)) }
            let actual = Self.outcome { () throws -> Dossier in try MessageCoding.decodeIntakeDossier(bytes) }
            #expect(actual == expected, "\(text)")
        }
    }

    @Test("4,000 events of every kind: the writer's bytes are JSONEncoder's")
    func events() throws {
        var random = Random(state: 5)
        let encoder = MessageCoding.encoder()
        for i in 0..<4_000 {
            let kind = DossierEvent.Kind.allCases[i % DossierEvent.Kind.allCases.count]
            let pick = { (random: inout Random) in random.pick(Self.texts) }
            var data = DossierEvent.Data()
            if random.chance(0.6) { data.outcome = random.pick(Authority.Outcome.allCases) }
            if random.chance(0.6) { data.review = random.pick(Review.allCases) }
            if random.chance(0.6) { data.ruleId = pick(&random) }
            if random.chance(0.6) { data.delegationId = pick(&random) }
            if random.chance(0.6) { data.reason = pick(&random) }
            if random.chance(0.6) { data.escalationReason = random.pick(EscalationReason.allCases) }
            if random.chance(0.6) { data.forwardTo = DepartmentID(pick(&random)) }
            if random.chance(0.6) { data.documents = (0..<random.below(4)).map { _ in pick(&random) } }
            if random.chance(0.6) { data.dueDate = pick(&random) }
            if random.chance(0.6) { data.official = pick(&random) }
            if random.chance(0.6) { data.procedure = pick(&random) }
            if random.chance(0.6) { data.channel = pick(&random) }
            if random.chance(0.6) { data.commune = pick(&random) }
            if random.chance(0.6) { data.timeLimit = pick(&random) }
            if random.chance(0.3) { data.action = pick(&random) }
            if random.chance(0.3) { data.stage = pick(&random) }
            if random.chance(0.3) { data.assignee = pick(&random) }
            if random.chance(0.3) { data.dueAt = Date(timeIntervalSince1970: Double(random.below(4_000_000_000)) / 1000 + 1.7e9) }
            if random.chance(0.6) { data.amount = random.pick([0, 1, 2_200_000, Int.max, Int.min]) }
            if random.chance(0.6) { data.paymentChannel = pick(&random) }
            if random.chance(0.6) { data.receipt = pick(&random) }
            let event = DossierEvent(
                eventId: StableID.make("event", String(i)), dossierId: pick(&random),
                code: random.chance(0.7) ? pick(&random) : nil, type: kind,
                department: random.chance(0.7) ? DepartmentID(pick(&random)) : nil,
                step: random.chance(0.7) ? random.below(5) - 1 : nil,
                round: random.chance(0.7) ? random.pick([0, 1, Int.max, Int.min]) : nil,
                at: Date(timeIntervalSince1970: Double(random.below(4_000_000_000)) / 1000 + 1.7e9), data: data)
            let expected = Array(try encoder.encode(event))
            let written = MessageCoding.encode(event)
            #expect(written == expected, "\(String(decoding: written, as: UTF8.self))")
        }
    }

    @Test("numbers JSON cannot hold: the writer leaves them to JSONEncoder, which refuses them")
    func nonFinite() throws {
        let encoder = MessageCoding.encoder()
        var task = try MessageCoding.decoder().decode(StepTask.self, from: Data(try Self.baseTask().utf8))
        for value in [Double.nan, .infinity, -.infinity] {
            task.dossier.facts["x"] = .number(value)
            #expect(JSONByteWriter.stepTask(task) == nil)
            #expect(throws: EncodingError.self) { _ = try MessageCoding.encode(task, encoder: encoder) }
        }
        task.dossier.facts = ["b": .null, "a": .array([.integer(1), .string("x"), .array([]), .number(0.25)])]
        #expect(try MessageCoding.encode(task, encoder: encoder) == Array(try encoder.encode(task)))
        task.dossier.facts = ["é": .integer(1), "z": .integer(2)]
        #expect(JSONByteWriter.stepTask(task) == nil)
        #expect(try MessageCoding.encode(task, encoder: encoder) == Array(try encoder.encode(task)))
    }

    // MARK: Helpers

    /// A valid step task as `MessageCoding.encoder()` writes it, with no facts (cases add theirs).
    @Test("identifiers checked on their bytes: the same verdicts as Dossier's checks and UUID(uuidString:)")
    func byteChecks() {
        var random = Random(state: 17)
        let alphabet = Array("0123456789abcdefABCDEFgxz-.  \t_+".utf8)
        var samples: [[UInt8]] = [
            Array("3f2b8c4e-1a2b-4c3d-8e9f-0a1b2c3d4e5f".utf8), Array("3F2B8C4E-1A2B-4C3D-8E9F-0A1B2C3D4E5F".utf8),
            Array("2.000633".utf8), Array("1.123456".utf8), Array("00044".utf8), Array("site-plan".utf8), [],
            Array(" ".utf8), Array("\t\n".utf8), Array("a".utf8),
        ]
        for _ in 0..<20_000 {
            let length = random.pick([0, 1, 5, 8, 9, 35, 36, 36, 36, 37, random.below(40)])
            var sample = (0..<length).map { _ in random.pick(alphabet) }
            if length == 36, random.chance(0.7) {
                if random.chance(0.5) { sample = (0..<36).map { _ in random.pick(Array("0123456789abcdefABCDEF".utf8)) } }
                for i in [8, 13, 18, 23] { sample[i] = UInt8(ascii: "-") }
            }
            samples.append(sample)
        }
        var uuids = 0
        for sample in samples {
            let text = String(decoding: sample, as: UTF8.self)
            sample.withUnsafeBufferPointer { b in
                #expect(JSONByteReader.isUUID(b) == Dossier.isUUID(text), "\(text)")
                #expect(JSONByteReader.isProcedureCode(b) == Dossier.isProcedureCode(text), "\(text)")
                #expect(JSONByteReader.isCommuneCode(b) == Dossier.isCommuneCode(text), "\(text)")
                #expect(JSONByteReader.isKebab(b) == Dossier.isKebab(text), "\(text)")
                #expect(JSONByteReader.hasNonSpace(b) == Dossier.hasNonSpace(text), "\(text)")
                // The reader parses the strict form itself (and leaves anything else to UUID(uuidString:), which
                // also takes e.g. signs and spaces inside the groups): where it parses, it agrees.
                if let parsed = JSONByteReader.uuid(b) {
                    #expect(parsed == UUID(uuidString: text), "\(text)")
                    uuids += 1
                } else {
                    #expect(!Dossier.isUUID(text), "\(text)")
                }
            }
        }
        #expect(uuids > 1_000)
    }

    static func baseTask() throws -> String {
        let dossier = Dossier(
            id: "3f2b8c4e-1a2b-4c3d-8e9f-0a1b2c3d4e5f", procedure: "2.000633",
            submittedAt: Date(timeIntervalSince1970: 1_795_700_000), channel: .online, commune: "00044",
            applicant: .init(kind: .enterprise, id: "0106123456", name: "Applicant 1"),
            documents: ["investment-certificate", "site-plan"], facts: [:])
        let task = StepTask(
            taskId: StableID.make("step", dossier.id, "2", "0"), dossier: dossier, code: "HEZA-261127-000001", step: 2,
            round: 0, department: "industrial-zones", receivedAt: Date(timeIntervalSince1970: 1_795_746_600.123),
            dueDate: "2026-12-11")
        return String(decoding: try MessageCoding.encoder().encode(task), as: UTF8.self)
    }

    /// `MessageCoding.decodeStepTask` ends exactly as `JSONDecoder` does: the same task, or the same error (so the
    /// same dead-letter reason).
    static func expectSameOutcome(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let decoder = MessageCoding.decoder()
        let expected = outcome { try decoder.decode(StepTask.self, from: Data(bytes)) }
        let actual = outcome { try MessageCoding.decodeStepTask(bytes, decoder: decoder) }
        #expect(actual == expected, "\(String(decoding: bytes, as: UTF8.self))", sourceLocation: sourceLocation)
        if let fast = FastJSON.stepTask(bytes) {
            #expect(expected == .value(fast), "fast path accepted \(String(decoding: bytes, as: UTF8.self))",
                    sourceLocation: sourceLocation)
        }
    }
}
