import Crypto
import Foundation

/// An electronic result file (the signed licence or decision as a document), recorded with the official's approval
/// (``SignCommand/result``) in `result_files` (migration 020). Counted by the scorecard's electronic-results part of
/// digitisation. No personal data: an id, a digest, a link to the document store.
public struct ResultReference: Codable, Sendable, Hashable {
    /// The document's id in the document store: 1–128 of `A–Z a–z 0–9 . _ / : -`.
    public var documentId: String
    /// SHA-256 of the document, 64 lowercase hexadecimal digits.
    public var sha256: String
    /// Where the applicant fetches it: an `https://` URL of at most 512 bytes, without spaces or quotes.
    public var link: String

    public init(documentId: String, sha256: String, link: String) {
        self.documentId = documentId
        self.sha256 = sha256
        self.link = link
    }

    /// Why the reference cannot be recorded, or nil.
    public var problem: String? {
        let idBytes = documentId.utf8
        if idBytes.isEmpty || idBytes.count > 128 || !idBytes.allSatisfy(Self.isIdByte) {
            return "documentId must be 1 to 128 of A-Z a-z 0-9 . _ / : -"
        }
        let hex = sha256.utf8
        if hex.count != 64 || !hex.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) {
            return "sha256 must be 64 lowercase hexadecimal digits"
        }
        let url = link.utf8
        if !link.hasPrefix("https://") || url.count > 512 || url.count <= 8
            || !url.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "<") && $0 != UInt8(ascii: ">") })
        {
            return "link must be an https:// URL of at most 512 printable ASCII bytes without quotes or angle brackets"
        }
        return nil
    }

    /// The SHA-256 of a document's bytes as ``sha256`` takes it (64 lowercase hexadecimal digits).
    public static func sha256(of document: Data) -> String {
        SHA256.hash(data: document).map { String(format: "%02x", $0) }.joined()
    }

    private static func isIdByte(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
            || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "/")
            || byte == UInt8(ascii: ":") || byte == UInt8(ascii: "-")
    }
}
