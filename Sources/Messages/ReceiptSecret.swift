import Authority
import Crypto
import Foundation

/// The applicant's receipt secret: 32 random bytes the submitting channel generates and hands only to the applicant
/// (printed once on the receipt), written as 43 characters of base64url. Only its SHA-256 — of the secret's text
/// as written, UTF-8 — travels (the intake's `receiptSecretSha256`) and is stored; the secret itself is on no
/// topic, in no log and in no table. Withdrawing the dossier and the public lookup need it.
public enum ReceiptSecret {
    /// A new secret and the hash the intake carries.
    public static func generate() -> (secret: String, sha256: String) {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let secret = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return (secret, sha256(of: secret))
    }

    /// The lowercase hexadecimal SHA-256 of a secret's text (surrounding spaces and line ends trimmed).
    public static func sha256(of secret: String) -> String {
        let text = secret.trimmingCharacters(in: .whitespacesAndNewlines)
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in SHA256.hash(data: Array(text.utf8)) {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether `secret` hashes to `sha256` (lowercase hex), compared in constant time.
    public static func matches(_ secret: String, sha256 expected: String) -> Bool {
        let actual = Array(sha256(of: secret).utf8)
        let wanted = Array(expected.utf8)
        guard actual.count == wanted.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(actual, wanted) { difference |= a ^ b }
        return difference == 0
    }
}
