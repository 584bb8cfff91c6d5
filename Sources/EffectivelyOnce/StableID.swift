import Foundation

/// Deterministic ids: the same cause gives the same id (UUID v5-like, from a stable 128-bit FNV-1a hash).
public enum StableID {
    public static func make(_ parts: String...) -> UUID {
        var h1: UInt64 = 0xcbf2_9ce4_8422_2325
        var h2: UInt64 = 0x8422_2325_cbf2_9ce4
        for part in parts {
            for byte in part.utf8 {
                h1 = (h1 ^ UInt64(byte)) &* 0x100_0000_01b3
                h2 = (h2 ^ UInt64(byte)) &* 0x100_0000_01b3 &+ 0x9e37_79b9_7f4a_7c15
            }
            h1 = (h1 ^ 0x1f) &* 0x100_0000_01b3
            h2 = (h2 ^ 0x1f) &* 0x100_0000_01b3
        }
        var bytes = [UInt8](repeating: 0, count: 16)
        for i in 0..<8 {
            bytes[i] = UInt8(truncatingIfNeeded: h1 >> (8 * UInt64(i)))
            bytes[8 + i] = UInt8(truncatingIfNeeded: h2 >> (8 * UInt64(i)))
        }
        bytes[6] = (bytes[6] & 0x0F) | 0x50
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                           bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
    }

    /// `uuid.uuidString` (upper-case 8-4-4-4-12), written byte by byte: Foundation's goes through `snprintf`, and
    /// every event a worker writes names its id (BENCHMARKS.md, session 13).
    public static func text(of uuid: UUID) -> String {
        let digits: StaticString = "0123456789ABCDEF"
        return withUnsafeBytes(of: uuid.uuid) { bytes in
            String(unsafeUninitializedCapacity: 36) { buffer in
                var i = 0
                for (index, byte) in bytes.enumerated() {
                    if index == 4 || index == 6 || index == 8 || index == 10 {
                        buffer[i] = UInt8(ascii: "-")
                        i += 1
                    }
                    buffer[i] = digits.utf8Start[Int(byte >> 4)]
                    buffer[i + 1] = digits.utf8Start[Int(byte & 0xF)]
                    i += 2
                }
                return i
            }
        }
    }
}
