import Authority
import Crypto
import EffectivelyOnce
import Foundation
import Kafka

extension MessageCoding {
    /// The bytes `encoder()` gives for `event`, written by hand (`JSONEncoder` costs ~15 µs an event): keys sorted,
    /// members of value nil left out, strings escaped as `JSONEncoder` escapes them, slashes not escaped.
    public static func encode(_ event: DossierEvent) -> [UInt8] {
        var w = JSONByteWriter(capacity: 384)
        w.beginObject()
        w.key("at")
        w.string(formatInstant(event.at))
        if let code = event.code {
            w.key("code")
            w.string(code)
        }
        w.key("data")
        w.eventData(event.data)
        if let department = event.department {
            w.key("department")
            w.string(department.rawValue)
        }
        w.key("dossierId")
        w.string(event.dossierId)
        w.key("eventId")
        w.string(StableID.text(of: event.eventId))
        if let round = event.round {
            w.key("round")
            w.integer(Int64(round))
        }
        if let step = event.step {
            w.key("step")
            w.integer(Int64(step))
        }
        w.key("type")
        w.string(event.type.rawValue)
        w.endObject()
        return w.bytes
    }

    /// The bytes `encoder` (an ``encoder()``) gives for `task`: written by hand, or by `encoder` when a fact is a
    /// number JSON cannot hold (its error is thrown) or a fact's name is not ASCII (whose order would be `JSONEncoder`'s).
    public static func encode(_ task: StepTask, encoder: JSONEncoder) throws -> [UInt8] {
        if let bytes = JSONByteWriter.stepTask(task) { return bytes }
        return Array(try encoder.encode(task))
    }
}

/// Writes JSON as `MessageCoding.encoder()` does: compact, keys in the order the caller gives (sorted by it),
/// `JSONEncoder`'s escapes.
package struct JSONByteWriter {
    private(set) var bytes: [UInt8] = []
    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
    /// A value or member came before: the next one needs a comma.
    private var needsComma = false

    init(capacity: Int) {
        bytes.reserveCapacity(capacity)
    }

    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    mutating func beginArray() {
        separate()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
    }

    mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// A member's key (an ASCII name needing no escape) and its colon.
    mutating func key(_ name: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    /// A member's key of any text and its colon.
    mutating func key(text name: String) {
        string(name)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    mutating func string(_ text: String) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            var plain = true
            for c in utf8 where c < 0x20 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") {
                plain = false
                break
            }
            if plain {
                bytes.append(contentsOf: utf8)
                return
            }
            for c in utf8 {
                switch c {
                case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), c])
                case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), c])
                case 0x08: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
                case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
                case 0x0A: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
                case 0x0C: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
                case 0x0D: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
                case 0..<0x20:
                    let hex = JSONByteWriter.hexDigits
                    bytes.append(contentsOf: [
                        UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(c >> 4)],
                        hex[Int(c & 0xF)],
                    ])
                default: bytes.append(c)
                }
            }
        }
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }

    mutating func integer(_ value: Int64) {
        separate()
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        // The magnitude as UInt64: Int64.min has none as an Int64. Digits from the last, then put in order.
        var magnitude = value.magnitude
        let start = bytes.count
        repeat {
            bytes.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
            magnitude /= 10
        } while magnitude > 0
        bytes[start...].reverse()
        needsComma = true
    }

    /// `JSONEncoder`'s form of a finite number: Swift's shortest representation, `.0` dropped. False (and nothing
    /// written) for infinities and NaN, which `JSONEncoder` refuses.
    mutating func number(_ value: Double) -> Bool {
        guard value.isFinite else { return false }
        separate()
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        bytes.append(contentsOf: text.utf8)
        needsComma = true
        return true
    }

    mutating func bool(_ value: Bool) {
        separate()
        bytes.append(contentsOf: value ? Array("true".utf8) : Array("false".utf8))
        needsComma = true
    }

    mutating func null() {
        separate()
        bytes.append(contentsOf: Array("null".utf8))
        needsComma = true
    }

    // MARK: Messages

    mutating func eventData(_ data: DossierEvent.Data) {
        beginObject()
        if let v = data.action { key("action"); string(v) }
        if let v = data.amount { key("amount"); integer(Int64(v)) }
        if let v = data.assignee { key("assignee"); string(v) }
        if let v = data.channel { key("channel"); string(v) }
        if let v = data.commune { key("commune"); string(v) }
        if let v = data.delegationId { key("delegationId"); string(v) }
        if let v = data.documents {
            key("documents")
            beginArray()
            for document in v { string(document) }
            endArray()
        }
        if let v = data.dueAt { key("dueAt"); string(MessageCoding.formatInstant(v)) }
        if let v = data.dueDate { key("dueDate"); string(v) }
        if let v = data.escalationReason { key("escalationReason"); string(v.rawValue) }
        if let v = data.forwardTo { key("forwardTo"); string(v.rawValue) }
        if let v = data.official { key("official"); string(v) }
        if let v = data.outcome { key("outcome"); string(v.rawValue) }
        if let v = data.paymentChannel { key("paymentChannel"); string(v) }
        if let v = data.previousDueDate { key("previousDueDate"); string(v) }
        if let v = data.procedure { key("procedure"); string(v) }
        if let v = data.reason { key("reason"); string(v) }
        if let v = data.receipt { key("receipt"); string(v) }
        if let v = data.review { key("review"); string(v.rawValue) }
        if let v = data.ruleId { key("ruleId"); string(v) }
        if let v = data.stage { key("stage"); string(v) }
        if let v = data.timeLimit { key("timeLimit"); string(v) }
        endObject()
    }

    /// A step task's bytes, or nil when `JSONEncoder` must write them (see `MessageCoding.encode(_:encoder:)`).
    static func stepTask(_ task: StepTask) -> [UInt8]? {
        var w = JSONByteWriter(capacity: 1024)
        w.beginObject()
        if let catalogueVersion = task.catalogueVersion {
            w.key("catalogueVersion")
            w.string(catalogueVersion)
        }
        w.key("code")
        w.string(task.code)
        w.key("department")
        w.string(task.department.rawValue)
        w.key("dossier")
        guard w.dossier(task.dossier) else { return nil }
        if let dueDate = task.dueDate {
            w.key("dueDate")
            w.string(dueDate)
        }
        w.key("receivedAt")
        w.string(MessageCoding.formatInstant(task.receivedAt))
        w.key("round")
        w.integer(Int64(task.round))
        w.key("step")
        w.integer(Int64(task.step))
        w.key("taskId")
        w.string(StableID.text(of: task.taskId))
        w.endObject()
        return w.bytes
    }

    /// `Dossier.encode(to:)` under sorted keys. False for what only `JSONEncoder` may write.
    mutating func dossier(_ dossier: Dossier) -> Bool {
        // JSONEncoder sorts keys as Strings; for ASCII names that is their bytes' order.
        guard dossier.facts.keys.allSatisfy({ $0.utf8.allSatisfy { $0 < 0x80 } }) else { return false }
        beginObject()
        key("applicant")
        beginObject()
        key("id")
        string(dossier.applicant.id)
        key("kind")
        string(dossier.applicant.kind.rawValue)
        key("name")
        string(dossier.applicant.name)
        endObject()
        key("channel")
        string(dossier.channel.rawValue)
        key("commune")
        string(dossier.commune)
        if let digitised = dossier.digitised {
            key("digitised")
            bool(digitised)
        }
        key("documents")
        beginArray()
        for document in dossier.documents { string(document) }
        endArray()
        key("facts")
        beginObject()
        // By the keys' UTF-8 bytes, compared as arrays (a String's UTF-8 view compares through a slow iterator).
        for (_, name, value) in dossier.facts.map({ (Array($0.key.utf8), $0.key, $0.value) })
            .sorted(by: { $0.0.lexicographicallyPrecedes($1.0) })
        {
            key(text: name)
            guard fact(value) else { return false }
        }
        endObject()
        key("id")
        string(dossier.id)
        key("procedure")
        string(dossier.procedure)
        if let secret = dossier.receiptSecretSha256 {
            key("receiptSecretSha256")
            string(secret)
        }
        key("submittedAt")
        string(ISO8601Instant.format(dossier.submittedAt))
        if let vneidVerified = dossier.vneidVerified {
            key("vneidVerified")
            bool(vneidVerified)
        }
        endObject()
        return true
    }

    mutating func fact(_ value: FactValue) -> Bool {
        switch value {
        case .string(let s): string(s)
        case .integer(let i): integer(i)
        case .number(let d): return number(d)
        case .bool(let b): bool(b)
        case .null: null()
        case .array(let items):
            beginArray()
            for item in items {
                guard fact(item) else { return false }
            }
            endArray()
        }
        return true
    }
}

extension MessageCoding {
    /// The canonical bytes of a dossier: what `encoder` (an ``encoder()``) gives for it, keys sorted.
    public static func canonicalBytes(of dossier: Dossier, encoder: JSONEncoder) throws -> [UInt8] {
        var w = JSONByteWriter(capacity: 512)
        if w.dossier(dossier) { return w.bytes }
        return Array(try encoder.encode(dossier))
    }

    /// SHA-256 of the dossier's ``canonicalBytes(of:encoder:)``: how reception's receipt (`dossiers.body_sha256`)
    /// and a step task's dossier are matched (a task whose dossier differs from what was received is not decided).
    public static func digest(of dossier: Dossier, encoder: JSONEncoder) throws -> [UInt8] {
        Array(SHA256.hash(data: try canonicalBytes(of: dossier, encoder: encoder)))
    }
}
