import Authority
import Crypto
import EffectivelyOnce
import Foundation
import Kafka

/// Hand-written readers for the JSON of the messages on the workers' hot path: the step task a department worker
/// consumes and the dossier reception consumes.
///
/// Foundation's `JSONDecoder` spends most of its time in Codable's generic machinery, not in parsing: reading a
/// step task here costs a fraction of it. These readers give exactly what `MessageCoding.decoder()` (and, for an
/// intake dossier, `Dossier.decode(json:)`) gives — the same values, with `Dossier`'s validation — or nil for
/// anything they do not handle: an unknown or repeated key, an escape in a key, `null` where a value is required,
/// a number in a form whose decoding is not plain (`1.0`, `1e3`, `-0`, beyond `Int64`), an instant
/// `ISO8601Instant` does not parse, a value the validation refuses, JSON the strict grammar below refuses. Callers
/// then decode with `JSONDecoder` (``MessageCoding/decodeStepTask(_:decoder:)``), so errors, and the dead-letter
/// reasons made of them, are the decoder's own.
public enum FastJSON {
    /// The step task in `bytes`, or nil when the reader does not handle them (decode with `JSONDecoder` then).
    public static func stepTask(_ bytes: [UInt8]) -> StepTask? {
        bytes.withUnsafeBufferPointer { buffer in
            var reader = JSONByteReader(buffer)
            guard let task = reader.stepTask(), reader.atEnd() else { return nil }
            return task
        }
    }

    /// The intake dossier in `bytes`, or nil when the reader does not handle them (`Dossier.decode(json:)` then).
    public static func dossier(_ bytes: [UInt8]) -> Dossier? {
        bytes.withUnsafeBufferPointer { buffer in
            var reader = JSONByteReader(buffer)
            guard let dossier = reader.dossier(), reader.atEnd() else { return nil }
            return dossier
        }
    }
}

extension MessageCoding {
    /// Decodes a step task: with ``FastJSON`` when it handles the bytes, else with `decoder` (a
    /// ``MessageCoding/decoder()``), whose errors are thrown unchanged.
    public static func decodeStepTask(_ bytes: [UInt8], decoder: JSONDecoder) throws -> StepTask {
        if let task = FastJSON.stepTask(bytes) { return task }
        return try decoder.decode(StepTask.self, from: Data(bytes))
    }

    /// A step task decoded as ``decodeStepTask(_:decoder:)`` does, with the SHA-256 of its dossier's bytes as
    /// they stand in `bytes` when ``FastJSON`` read them (nil when `decoder` did).
    ///
    /// Reception and the departments write a step task's dossier in its canonical form
    /// (``canonicalBytes(of:encoder:)``, the same writer), so this is then the dossier's ``digest(of:encoder:)``
    /// without encoding it again. If it matches the digest recorded at reception, the bytes are the canonical bytes
    /// recorded there, and the dossier decoded from them is the one received. Bytes in another form (spacing,
    /// escapes, another encoder) give another digest: the caller then computes ``digest(of:encoder:)`` and checks
    /// that one too, so such a task is refused only if its dossier differs from the one received.
    public static func decodeStepTaskWithSentDigest(_ bytes: [UInt8], decoder: JSONDecoder) throws -> (
        task: StepTask, sentDigest: [UInt8]?
    ) {
        let fast: (StepTask, [UInt8])? = bytes.withUnsafeBufferPointer { buffer in
            var reader = JSONByteReader(buffer)
            var range: Range<Int>?
            guard let task = reader.stepTask(dossierBytes: &range), reader.atEnd(), let range else { return nil }
            var hash = SHA256()
            hash.update(bufferPointer: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: buffer[range])))
            return (task, Array(hash.finalize()))
        }
        if let fast { return (fast.0, fast.1) }
        return (try decoder.decode(StepTask.self, from: Data(bytes)), nil)
    }

    /// Decodes an intake dossier: with ``FastJSON`` when it handles the bytes, else with `Dossier.decode(json:)`,
    /// whose errors are thrown unchanged.
    public static func decodeIntakeDossier(_ bytes: [UInt8]) throws(IntakeError) -> Dossier {
        if let dossier = FastJSON.dossier(bytes) { return dossier }
        return try Dossier.decode(json: Data(bytes))
    }
}

/// A forward-only reader over UTF-8 JSON. Every method returns nil (or false) for what it does not handle; every
/// read of a byte checks `index < bytes.count` first.
package struct JSONByteReader {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    private static let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\"), colon = UInt8(ascii: ":")
    private static let comma = UInt8(ascii: ","), minus = UInt8(ascii: "-"), zero = UInt8(ascii: "0")

    // MARK: Grammar

    mutating func skipSpace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    /// Only whitespace is left.
    mutating func atEnd() -> Bool {
        skipSpace()
        return index == bytes.count
    }

    /// Skips whitespace, then consumes `byte` if it comes next.
    mutating func consume(_ byte: UInt8) -> Bool {
        skipSpace()
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    /// The members of an object: `member` reads the value of each key (its bytes, without escapes) and answers
    /// whether it handled it. False for an escaped key, a duplicate the caller detects, or bad syntax.
    mutating func object(_ member: (inout JSONByteReader, Range<Int>) -> Bool) -> Bool {
        guard consume(UInt8(ascii: "{")) else { return false }
        if consume(UInt8(ascii: "}")) { return true }
        while true {
            guard let key = plainKey(), consume(Self.colon), member(&self, key) else { return false }
            if consume(Self.comma) { continue }
            return consume(UInt8(ascii: "}"))
        }
    }

    /// The elements of an array (no trailing comma: `JSONDecoder` accepts one, so those bytes fall back to it).
    mutating func array(_ element: (inout JSONByteReader) -> Bool) -> Bool {
        guard consume(UInt8(ascii: "[")) else { return false }
        if consume(UInt8(ascii: "]")) { return true }
        while true {
            guard element(&self) else { return false }
            if consume(Self.comma) { continue }
            return consume(UInt8(ascii: "]"))
        }
    }

    /// A key without escapes: the range of its bytes between the quotes.
    private mutating func plainKey() -> Range<Int>? {
        guard consume(Self.quote) else { return nil }
        let start = index
        while index < bytes.count {
            let c = bytes[index]
            if c == Self.quote {
                index += 1
                return start..<(index - 1)
            }
            if c == Self.backslash || c < 0x20 { return nil }
            index += 1
        }
        return nil
    }

    /// Whether the key's bytes are `name`.
    func key(_ key: Range<Int>, is name: StaticString) -> Bool {
        guard key.count == name.utf8CodeUnitCount else { return false }
        let expected = name.utf8Start
        var k = 0
        while k < key.count {
            guard bytes[key.lowerBound + k] == expected[k] else { return false }
            k += 1
        }
        return true
    }

    /// The key's text (valid UTF-8 without escapes, as `plainKey` read it).
    func text(of key: Range<Int>) -> String? {
        String(validating: UnsafeBufferPointer(rebasing: bytes[key]), as: UTF8.self)
    }

    // MARK: Values

    /// A string. Escapes are decoded; raw control characters and invalid UTF-8 give nil (`JSONDecoder` refuses them).
    mutating func string() -> String? {
        guard consume(Self.quote) else { return nil }
        let start = index
        var ascii = true
        while index < bytes.count {
            let c = bytes[index]
            if c == Self.quote {
                let text = UnsafeBufferPointer(rebasing: bytes[start..<index])
                index += 1
                return ascii ? String(decoding: text, as: UTF8.self) : String(validating: text, as: UTF8.self)
            }
            if c == Self.backslash { return escapedString(from: start) }
            if c < 0x20 { return nil }
            if c >= 0x80 { ascii = false }
            index += 1
        }
        return nil
    }

    /// A string checked as it is read: when it is ASCII without escapes (the usual case), `ascii` judges its bytes
    /// before any `String` is made; otherwise `other` judges the decoded value (the two must agree on ASCII text).
    /// Nil when it is not a string or does not pass.
    mutating func string(ascii: (UnsafeBufferPointer<UInt8>) -> Bool, other: (String) -> Bool) -> String? {
        guard consume(Self.quote) else { return nil }
        let start = index
        var end = index
        while end < bytes.count {
            let c = bytes[end]
            if c == Self.quote {
                let text = UnsafeBufferPointer(rebasing: bytes[start..<end])
                index = end + 1
                guard ascii(text) else { return nil }
                return String(decoding: text, as: UTF8.self)
            }
            if c == Self.backslash || c < 0x20 || c >= 0x80 { break }
            end += 1
        }
        index = start - 1  // back to the quote: read it the general way
        guard let text = string(), other(text) else { return nil }
        return text
    }

    /// A UUID in the form `UUID(uuidString:)` reads (8-4-4-4-12 hexadecimal digits, either case), parsed from the
    /// bytes; anything else goes through `UUID(uuidString:)` itself.
    mutating func uuid() -> UUID? {
        var parsed: UUID?
        let text = string(
            ascii: { bytes in
                parsed = Self.uuid(bytes)
                return parsed != nil
            },
            other: { _ in true })
        if let parsed { return parsed }
        return text.flatMap { UUID(uuidString: $0) }
    }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: c &- 48
        case 97...102: c &- 87
        case 65...70: c &- 55
        default: nil
        }
    }

    /// The UUID written in `bytes` as 8-4-4-4-12 hexadecimal digits (either case), or nil.
    static func uuid(_ b: UnsafeBufferPointer<UInt8>) -> UUID? {
        guard b.count == 36, b[8] == Self.minus, b[13] == Self.minus, b[18] == Self.minus, b[23] == Self.minus else {
            return nil
        }
        var out: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        let ok = withUnsafeMutableBytes(of: &out) { raw -> Bool in
            var i = 0
            for k in 0..<16 {
                if i == 8 || i == 13 || i == 18 || i == 23 { i += 1 }
                guard let high = hexValue(b[i]), let low = hexValue(b[i + 1]) else { return false }
                raw[k] = high << 4 | low
                i += 2
            }
            return true
        }
        return ok ? UUID(uuid: out) : nil
    }

    static func isUUID(_ b: UnsafeBufferPointer<UInt8>) -> Bool { Dossier.isUUID(utf8: b) }
    static func isProcedureCode(_ b: UnsafeBufferPointer<UInt8>) -> Bool { Dossier.isProcedureCode(utf8: b) }
    static func isCommuneCode(_ b: UnsafeBufferPointer<UInt8>) -> Bool { Dossier.isCommuneCode(utf8: b) }
    static func isKebab(_ b: UnsafeBufferPointer<UInt8>) -> Bool { Dossier.isKebab(utf8: b) }

    /// `Dossier.hasNonSpace` on ASCII bytes: a byte that is not white space (tab to carriage return, space).
    static func hasNonSpace(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        b.contains { !(($0 >= 0x09 && $0 <= 0x0D) || $0 == 0x20) }
    }

    /// The rest of a string that has an escape at `index`, which began at `start`.
    private mutating func escapedString(from start: Int) -> String? {
        var out = Array(UnsafeBufferPointer(rebasing: bytes[start..<index]))
        while index < bytes.count {
            let c = bytes[index]
            index += 1
            if c == Self.quote { return String(validating: out, as: UTF8.self) }
            if c < 0x20 { return nil }
            guard c == Self.backslash else {
                out.append(c)
                continue
            }
            guard index < bytes.count else { return nil }
            let e = bytes[index]
            index += 1
            switch e {
            case Self.quote, Self.backslash, UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                guard let unit = hex4() else { return nil }
                var scalar: Unicode.Scalar?
                if unit >= 0xD800 && unit < 0xDC00 {
                    // A high surrogate: only with a low one after it.
                    guard index + 1 < bytes.count, bytes[index] == Self.backslash, bytes[index + 1] == UInt8(ascii: "u")
                    else { return nil }
                    index += 2
                    guard let low = hex4(), low >= 0xDC00, low < 0xE000 else { return nil }
                    scalar = Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
                } else {
                    scalar = Unicode.Scalar(unit)  // nil for a lone low surrogate
                }
                guard let scalar else { return nil }
                out.append(contentsOf: UTF8.encode(scalar)!)
            default: return nil
            }
        }
        return nil
    }

    private mutating func hex4() -> UInt32? {
        guard index + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[index]
            let digit: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = c - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    /// `true` or `false`.
    mutating func bool() -> Bool? {
        skipSpace()
        if literal("true") { return true }
        if literal("false") { return false }
        return nil
    }

    /// `null`.
    mutating func null() -> Bool {
        skipSpace()
        return literal("null")
    }

    private mutating func literal(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        let expected = word.utf8Start
        for k in 0..<count where bytes[index + k] != expected[k] { return false }
        index += count
        return true
    }

    /// An integer written plainly that fits an `Int64`: `-`, then `0` or digits without a leading zero, and no
    /// fraction or exponent after them. (`JSONDecoder` reads `1.0`, `1e2` and `-0` as integers too, and a
    /// `FactValue` beyond `Int64` as a number: those fall back to it.)
    mutating func integer() -> Int64? {
        skipSpace()
        let negative = index < bytes.count && bytes[index] == Self.minus
        if negative { index += 1 }
        let start = index
        var magnitude: UInt64 = 0
        while index < bytes.count, bytes[index] >= Self.zero, bytes[index] <= UInt8(ascii: "9") {
            guard index - start < 19 else { return nil }  // 19 digits cannot overflow a UInt64
            magnitude = magnitude * 10 + UInt64(bytes[index] - Self.zero)
            index += 1
        }
        let digits = index - start
        guard digits > 0, bytes[start] != Self.zero || (digits == 1 && !negative) else { return nil }
        if index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"): return nil
            default: break
            }
        }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return 0 &- Int64(truncatingIfNeeded: magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return Int64(magnitude)
    }

    /// A fact as `FactValue`'s decoder reads it (a Bool, else an Int64, else a Double, else a String), limited to
    /// what `Dossier` accepts: strings, plain integers, numbers with a fraction or exponent that are not whole (a
    /// whole one, `40.0` or `1e2`, may be an integer to `JSONDecoder`), booleans. Nil for anything else (null, lists,
    /// whole numbers in such forms, …).
    mutating func fact() -> FactValue? {
        skipSpace()
        guard index < bytes.count else { return nil }
        switch bytes[index] {
        case Self.quote: return string().map { .string($0) }
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return bool().map { .bool($0) }
        case Self.minus, Self.zero...UInt8(ascii: "9"): break
        default: return nil
        }
        let start = index
        var scan = index
        if bytes[scan] == Self.minus { scan += 1 }
        let digitsStart = scan
        scan = digitsEnd(from: scan)
        guard scan < bytes.count, bytes[scan] == UInt8(ascii: ".") || bytes[scan] == UInt8(ascii: "e")
            || bytes[scan] == UInt8(ascii: "E")
        else { return integer().map { .integer($0) } }
        let digits = scan - digitsStart
        guard digits > 0, bytes[digitsStart] != Self.zero || digits == 1 else { return nil }
        if bytes[scan] == UInt8(ascii: ".") {
            let fractionStart = scan + 1
            scan = digitsEnd(from: fractionStart)
            guard scan > fractionStart else { return nil }
        }
        if scan < bytes.count, bytes[scan] == UInt8(ascii: "e") || bytes[scan] == UInt8(ascii: "E") {
            scan += 1
            if scan < bytes.count, bytes[scan] == UInt8(ascii: "+") || bytes[scan] == Self.minus { scan += 1 }
            let exponentStart = scan
            scan = digitsEnd(from: exponentStart)
            guard scan > exponentStart else { return nil }
        }
        guard let value = Double(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<scan]), as: UTF8.self)),
            value.isFinite, value.rounded(.towardZero) != value
        else { return nil }
        index = scan
        return .number(value)
    }

    /// Where the run of decimal digits from `start` ends.
    private func digitsEnd(from start: Int) -> Int {
        var end = start
        while end < bytes.count, bytes[end] >= Self.zero, bytes[end] <= UInt8(ascii: "9") { end += 1 }
        return end
    }

    /// An `Int` for a plain integer.
    mutating func int() -> Int? {
        integer().flatMap { Int(exactly: $0) }
    }

    // MARK: Messages

    mutating func stepTask() -> StepTask? {
        var dossierBytes: Range<Int>?
        return stepTask(dossierBytes: &dossierBytes)
    }

    /// The step task, and in `dossierBytes` where its dossier's bytes are (from its `{` to its `}`).
    mutating func stepTask(dossierBytes: inout Range<Int>?) -> StepTask? {
        var taskId: UUID?, dossier: Dossier?, code: String?, step: Int?, round: Int?, department: DepartmentID?
        var receivedAt: Date?, dueDate: String?, dueDateRead = false
        var catalogueVersion: String?, catalogueVersionRead = false
        var dossierRange: Range<Int>?
        let read = object { r, key in
            if r.key(key, is: "dossier") {
                guard dossier == nil else { return false }
                r.skipSpace()
                let start = r.index
                dossier = r.dossier()
                dossierRange = start..<r.index
                return dossier != nil
            } else if r.key(key, is: "taskId") {
                guard taskId == nil else { return false }
                taskId = r.uuid()
                return taskId != nil
            } else if r.key(key, is: "code") {
                guard code == nil else { return false }
                code = r.string()
                return code != nil
            } else if r.key(key, is: "step") {
                guard step == nil else { return false }
                step = r.int()
                return step != nil
            } else if r.key(key, is: "round") {
                guard round == nil else { return false }
                round = r.int()
                return round != nil
            } else if r.key(key, is: "department") {
                guard department == nil else { return false }
                department = r.string().map(DepartmentID.init(rawValue:))
                return department != nil
            } else if r.key(key, is: "receivedAt") {
                // MessageCoding.decoder()'s date strategy tries ISO8601Instant first; its fallbacks are the decoder's.
                guard receivedAt == nil, let text = r.string() else { return false }
                receivedAt = ISO8601Instant.parse(text)
                return receivedAt != nil
            } else if r.key(key, is: "dueDate") {
                guard !dueDateRead else { return false }
                dueDateRead = true
                if r.null() { return true }
                dueDate = r.string()
                return dueDate != nil
            } else if r.key(key, is: "catalogueVersion") {
                guard !catalogueVersionRead else { return false }
                catalogueVersionRead = true
                if r.null() { return true }
                catalogueVersion = r.string()
                return catalogueVersion != nil
            }
            return false
        }
        guard read, let taskId, let dossier, let code, let step, let round, let department, let receivedAt else {
            return nil
        }
        dossierBytes = dossierRange
        return StepTask(
            taskId: taskId, dossier: dossier, code: code, step: step, round: round, department: department,
            receivedAt: receivedAt, dueDate: dueDate, catalogueVersion: catalogueVersion)
    }

    /// A dossier that passes `Dossier`'s validating decoder (the same checks, copied from it).
    mutating func dossier() -> Dossier? {
        var id: String?, procedure: String?, submittedAt: Date?, channel: Dossier.Channel?, commune: String?
        var applicant: Dossier.Applicant?, documents: [String]?, facts: [String: FactValue]?, secret: String?
        var digitised: Bool?, vneidVerified: Bool?
        let read = object { r, key in
            if r.key(key, is: "receiptSecretSha256") {
                guard secret == nil, let text = r.string(), Dossier.isSHA256Hex(text) else { return false }
                secret = text
            } else if r.key(key, is: "facts") {
                guard facts == nil else { return false }
                facts = r.facts()
                return facts != nil
            } else if r.key(key, is: "id") {
                guard id == nil, let text = r.string(ascii: Self.isUUID, other: Dossier.isUUID) else { return false }
                id = text
            } else if r.key(key, is: "procedure") {
                guard procedure == nil,
                    let text = r.string(ascii: Self.isProcedureCode, other: Dossier.isProcedureCode)
                else { return false }
                procedure = text
            } else if r.key(key, is: "submittedAt") {
                guard submittedAt == nil, let text = r.string() else { return false }
                submittedAt = ISO8601Instant.parse(text)
                return submittedAt != nil
            } else if r.key(key, is: "channel") {
                guard channel == nil, let text = r.string() else { return false }
                channel = Dossier.Channel(rawValue: text)
                return channel != nil
            } else if r.key(key, is: "commune") {
                guard commune == nil, let text = r.string(ascii: Self.isCommuneCode, other: Dossier.isCommuneCode) else {
                    return false
                }
                commune = text
            } else if r.key(key, is: "applicant") {
                guard applicant == nil else { return false }
                applicant = r.applicant()
                return applicant != nil
            } else if r.key(key, is: "documents") {
                guard documents == nil else { return false }
                var list: [String] = []
                let read = r.array { r in
                    guard let document = r.string(ascii: Self.isKebab, other: Dossier.isKebab) else { return false }
                    list.append(document)
                    return true
                }
                guard read else { return false }
                documents = list
            } else if r.key(key, is: "digitised") {
                guard digitised == nil else { return false }
                digitised = r.bool()
                return digitised != nil
            } else if r.key(key, is: "vneidVerified") {
                guard vneidVerified == nil else { return false }
                vneidVerified = r.bool()
                return vneidVerified != nil
            } else {
                return false
            }
            return true
        }
        guard read, let id, let procedure, let submittedAt, let channel, let commune, let applicant, let documents,
            let facts
        else { return nil }
        var dossier = Dossier(
            id: id, procedure: procedure, submittedAt: submittedAt, channel: channel, commune: commune,
            applicant: applicant, documents: documents, facts: facts, receiptSecretSha256: secret)
        dossier.digitised = digitised
        dossier.vneidVerified = vneidVerified
        return dossier
    }

    mutating func applicant() -> Dossier.Applicant? {
        var kind: Dossier.Applicant.Kind?, id: String?, name: String?
        let read = object { r, key in
            if r.key(key, is: "kind") {
                guard kind == nil, let text = r.string() else { return false }
                kind = Dossier.Applicant.Kind(rawValue: text)
                return kind != nil
            } else if r.key(key, is: "id") {
                guard id == nil, let text = r.string(ascii: Self.hasNonSpace, other: Dossier.hasNonSpace) else {
                    return false
                }
                id = text
            } else if r.key(key, is: "name") {
                guard name == nil, let text = r.string(ascii: Self.hasNonSpace, other: Dossier.hasNonSpace) else {
                    return false
                }
                name = text
            } else {
                return false
            }
            return true
        }
        guard read, let kind, let id, let name else { return nil }
        return Dossier.Applicant(kind: kind, id: id, name: name)
    }

    /// The facts object. Its keys may be escaped; a repeated key (by `String` equality, as the decoder's
    /// dictionary compares them) gives nil.
    mutating func facts() -> [String: FactValue]? {
        guard consume(UInt8(ascii: "{")) else { return nil }
        var facts: [String: FactValue] = [:]
        facts.reserveCapacity(16)  // dossiers hold ~1–12 facts; 64 made a ~5 KB table per dossier
        if consume(UInt8(ascii: "}")) { return facts }
        while true {
            skipSpace()
            guard let name = string(), consume(Self.colon), let value = fact(),
                facts.updateValue(value, forKey: name) == nil
            else { return nil }
            if consume(Self.comma) { continue }
            return consume(UInt8(ascii: "}")) ? facts : nil
        }
    }
}

