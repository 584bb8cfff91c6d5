extension OfficialRegistry {
    /// The `signature` member of a command as signers write it — an object of strings without escapes — read straight
    /// from the bytes `value` of `command` (a range ``CanonicalJSON/write(_:removing:into:)`` found, so valid JSON
    /// without duplicate keys); nil for any other form (`null`, escapes, a member that is not a string, a missing
    /// field, an unknown algorithm), which ``signature(of:)`` then reads from the parsed tree with its refusals.
    /// Members other than the four are skipped, as ``signature(of:)`` ignores them.
    static func plainSignatureMember(in command: [UInt8], at value: Range<Int>) -> CommandSignature? {
        command.withUnsafeBufferPointer { bytes -> CommandSignature? in
            var index = value.lowerBound
            let end = value.upperBound
            func skipSpace() {
                while index < end, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 {
                    index += 1
                }
            }
            /// A string without escapes at `index`: its bytes (valid UTF-8: the writer checked them).
            func string() -> Range<Int>? {
                guard index < end, bytes[index] == UInt8(ascii: "\"") else { return nil }
                let start = index + 1
                var at = start
                while at < end, bytes[at] != UInt8(ascii: "\"") {
                    if bytes[at] == UInt8(ascii: "\\") { return nil }
                    at += 1
                }
                guard at < end else { return nil }
                index = at + 1
                return start..<at
            }
            func equals(_ range: Range<Int>, _ name: StaticString) -> Bool {
                guard range.count == name.utf8CodeUnitCount else { return false }
                let name = UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount)
                for offset in 0..<range.count where bytes[range.lowerBound + offset] != name[offset] { return false }
                return true
            }
            func text(_ range: Range<Int>) -> String { String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self) }
            guard index < end, bytes[index] == UInt8(ascii: "{") else { return nil }
            index += 1
            var principal: Range<Int>?
            var algorithm: Range<Int>?
            var certificate: Range<Int>?
            var signature: Range<Int>?
            skipSpace()
            if index < end, bytes[index] == UInt8(ascii: "}") { return nil }
            while true {
                skipSpace()
                guard let key = string() else { return nil }
                skipSpace()
                guard index < end, bytes[index] == UInt8(ascii: ":") else { return nil }
                index += 1
                skipSpace()
                guard let member = string() else { return nil }
                if equals(key, "principal") {
                    principal = member
                } else if equals(key, "algorithm") {
                    algorithm = member
                } else if equals(key, "certificate") {
                    certificate = member
                } else if equals(key, "value") {
                    signature = member
                }
                skipSpace()
                guard index < end else { return nil }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                guard bytes[index] == UInt8(ascii: "}") else { return nil }
                break
            }
            guard let principal, let algorithm, let certificate, let signature,
                let known = CommandSignature.Algorithm(rawValue: text(algorithm))
            else { return nil }
            return CommandSignature(
                principal: text(principal), algorithm: known, certificate: text(certificate), value: text(signature))
        }
    }
}
