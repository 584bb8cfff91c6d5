@testable import EffectivelyOnce
import Foundation
import Kafka
import Testing

@Suite("The identity of a consumed message")
struct MessageIdentityTests {
    /// `sha256:` and the lower-case hex of SHA-256 over key, a zero byte and value, as stored beside the offsets
    /// (written byte by byte since session 13; the expected digests are Python's `hashlib.sha256`).
    @Test func identityIsTheHexDigestOfKeyZeroValue() {
        let cases: [([UInt8]?, [UInt8], String)] = [
            (Array("dossier-1".utf8), Array("{\"a\":1}".utf8), "19e5631b3269d370115a7c4d7dba0cb9563912f97750d803a35abdedaaecf6e9"),
            (nil, [0xFF, 0x00, 0x7F], "185768be7407732c96b285a363f4c0944d79f0313be2e493c1c9b3bb951ca4d8"),
            ([], [], "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
        ]
        for (key, value, digest) in cases {
            let message = KafkaMessage(topic: "t", partition: 3, offset: 17, key: key, value: value)
            #expect(OffsetStore.identity(of: message) == "sha256:" + digest)
        }
    }

    /// `StableID.text(of:)` is `uuidString` (events and step tasks name their ids with it, and a stage event's id
    /// hashes its cause's text).
    @Test func uuidTextIsUUIDString() {
        var ids = [UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)), StableID.make("a", "b")]
        ids += (0..<2_000).map { _ in UUID() }
        ids.append(UUID(uuid: (255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255)))
        for id in ids { #expect(StableID.text(of: id) == id.uuidString) }
    }
}
