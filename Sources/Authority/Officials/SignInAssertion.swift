import Crypto
import Foundation

/// A short-lived, single-use proof that an official holds their registered key, pasted into the officials' pages'
/// sign-in form (`motcua officials sign-in` makes it).
///
/// It is a signed command in all but transport: its JSON (`official`, `audience`, `issuedAt`, `expiresAt`, `nonce`)
/// is signed like a command (``CommandSignature``) with the type `motcua.official.sign-in` and the pseudo-topic
/// `officials-pages`, so a signature made for a command verifies for no sign-in and the other way round. The text
/// pasted is that JSON in base64url, one line.
///
/// `issuedAt` and `expiresAt` are wall-clock instants (a drill's compressed clock would make two minutes last a
/// fraction of a second); the registry's validity is checked at the services' clock instant, like commands.
public struct SignInAssertion: Codable, Sendable, Hashable {
    public var official: String
    public var audience: String
    public var issuedAt: Date
    public var expiresAt: Date
    /// 32 random bytes, hex: recorded once by the server (a replay is refused).
    public var nonce: String

    public static let type = "motcua.official.sign-in"
    public static let topic = "officials-pages"
    public static let audience = "motcua-officials-pages"
    /// The longest an assertion lives.
    public static let lifetime: TimeInterval = 120

    /// Why an assertion is refused (said to the official on the sign-in page; nothing secret in it).
    public enum Refusal: Error, Sendable, Hashable, CustomStringConvertible {
        case malformed(String)
        case wrongAudience
        case expired
        case tooLong
        case futureDated
        case signature(CommandRefusal)
        case notTheSigner
        case notAnOfficial
        case replayed

        public var description: String {
            switch self {
            case .malformed(let why): "not a sign-in assertion (\(why)): paste the whole line `motcua officials sign-in` printed"
            case .wrongAudience: "this assertion is not for the officials' pages"
            case .expired: "this assertion has expired (they live 2 minutes): make a new one with `motcua officials sign-in`"
            case .tooLong: "this assertion claims to live longer than 2 minutes"
            case .futureDated: "this assertion is dated in the future: check the clock of the machine that made it"
            case .signature(let refusal): "the signature is refused: \(refusal)"
            case .notTheSigner: "the assertion names another official than the one who signed it"
            case .notAnOfficial: "only officials of a department sign in here"
            case .replayed: "this assertion was used already: make a new one with `motcua officials sign-in`"
            }
        }
    }

    public init(official: String, issuedAt: Date, expiresAt: Date, nonce: String, audience: String = Self.audience) {
        self.official = official
        self.audience = audience
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.nonce = nonce
    }

    /// A new assertion for `official`, signed with `key`, as the line to paste.
    public static func make(
        official: String, certificate: String, key: CommandSigningKey, now: Date = Date(),
        lifetime: TimeInterval = Self.lifetime
    ) throws -> String {
        let nonce = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        let assertion = SignInAssertion(
            official: official, issuedAt: now, expiresAt: now.addingTimeInterval(lifetime), nonce: nonce)
        let signed = try CommandSignature.sign(
            try encoder.encode(assertion), type: type, topic: topic, principal: official, certificate: certificate,
            key: key)
        return Self.base64url(Data(signed))
    }

    /// The official `text` proves, checked against `registry` at `registryInstant` and the wall clock `now`;
    /// the caller still records the nonce once (``nonce``).
    public static func verify(
        _ text: String, registry: OfficialRegistry, registryInstant: Date, now: Date = Date()
    ) -> Result<(principal: Principal, assertion: SignInAssertion), Refusal> {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.utf8.count <= 8_192, let bytes = Self.unbase64url(trimmed) else {
            return .failure(.malformed("not base64url"))
        }
        guard let assertion = try? decoder.decode(SignInAssertion.self, from: bytes) else {
            return .failure(.malformed("not the expected JSON"))
        }
        guard assertion.audience == audience else { return .failure(.wrongAudience) }
        guard assertion.nonce.utf8.count == 64, assertion.nonce.utf8.allSatisfy({ $0.isHexDigitASCII }) else {
            return .failure(.malformed("its nonce is not 32 bytes of hex"))
        }
        let principal: Principal
        switch registry.authenticate(
            command: Array(bytes), type: type, topic: topic, commandAt: registryInstant, at: registryInstant)
        {
        case .failure(let refusal): return .failure(.signature(refusal))
        case .success(let found): principal = found
        }
        guard principal.id == assertion.official else { return .failure(.notTheSigner) }
        guard principal.role.isOfficial else { return .failure(.notAnOfficial) }
        guard assertion.expiresAt.timeIntervalSince(assertion.issuedAt) <= lifetime + 1 else {
            return .failure(.tooLong)
        }
        guard assertion.issuedAt <= now.addingTimeInterval(OfficialRegistry.allowedSkew) else {
            return .failure(.futureDated)
        }
        guard now < assertion.expiresAt else { return .failure(.expired) }
        return .success((principal, assertion))
    }

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }

    static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }

    public static func base64url(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    public static func unbase64url(_ text: String) -> Data? {
        guard text.utf8.allSatisfy({ $0.isBase64URL }) else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.utf8.count % 4) % 4)
        return Data(base64Encoded: base64)
    }
}

extension UInt8 {
    fileprivate var isHexDigitASCII: Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(self)
    }

    fileprivate var isBase64URL: Bool {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) || self == UInt8(ascii: "-")
            || self == UInt8(ascii: "_")
    }
}

/// A signed-in official's session: the cookie the officials' pages set after a sign-in, `payload.mac` where the
/// payload (official, department, expiry; base64url JSON) is authenticated by HMAC-SHA256 under the server's
/// secret with the domain `motcua-session-v1`. Stateless: the pages check the registry again on every request, so a
/// revocation ends the session at once.
public struct OfficialSession: Codable, Sendable, Hashable {
    public var official: String
    public var department: String
    public var expiresAt: Date

    public static let cookieName = "motcua_official"
    /// The longest a session lives.
    public static let maximumLifetime: TimeInterval = 12 * 3_600
    static let domain = "motcua-session-v1\n"

    public init(official: String, department: String, expiresAt: Date) {
        self.official = official
        self.department = department
        self.expiresAt = expiresAt
    }

    /// The cookie's value.
    public func sealed(secret: SessionSecret) throws -> String {
        let payload = SignInAssertion.base64url(try SignInAssertion.encoder.encode(self))
        return payload + "." + Self.mac(payload, secret: secret)
    }

    /// The session a cookie value carries, if its MAC is the server's and it has not expired at `now`.
    public static func open(_ value: String, secret: SessionSecret, now: Date = Date()) -> OfficialSession? {
        let parts = value.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, value.utf8.count <= 2_048 else { return nil }
        let payload = String(parts[0])
        guard let given = SignInAssertion.unbase64url(String(parts[1])),
            HMAC<SHA256>.isValidAuthenticationCode(given, authenticating: Data((domain + payload).utf8), using: secret.key),
            let data = SignInAssertion.unbase64url(payload),
            let session = try? SignInAssertion.decoder.decode(OfficialSession.self, from: data),
            now < session.expiresAt
        else { return nil }
        return session
    }

    static func mac(_ payload: String, secret: SessionSecret) -> String {
        SignInAssertion.base64url(
            Data(HMAC<SHA256>.authenticationCode(for: Data((domain + payload).utf8), using: secret.key)))
    }
}

/// The server's secret that authenticates session cookies: 32 bytes or more, from a file (`--session-secret-file`)
/// or drawn at start (sessions then end when the process does).
public struct SessionSecret: Sendable {
    let bytes: [UInt8]
    var key: SymmetricKey { SymmetricKey(data: bytes) }

    public struct TooShort: Error, CustomStringConvertible {
        public var description: String {
            "a session secret needs 32 bytes or more (e.g. `head -c 32 /dev/urandom > FILE; chmod 600 FILE`)"
        }
    }

    public init(bytes: some Collection<UInt8>) throws {
        guard bytes.count >= 32 else { throw TooShort() }
        self.bytes = Array(bytes)
    }

    public static func random() -> SessionSecret {
        // 32 random bytes are never too short.
        try! SessionSecret(bytes: (0..<32).map { _ in UInt8.random(in: 0...255) })
    }
}
