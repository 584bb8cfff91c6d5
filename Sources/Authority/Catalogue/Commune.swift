/// A commune-level unit of the city (xã or phường) whose code an intake dossier's `commune` may carry.
public struct Commune: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        /// Phường.
        case ward
        /// Xã.
        case commune
    }

    /// The 5-digit code of the national list of administrative units.
    public let code: String
    public let name: String
    public let kind: Kind

    public init(code: String, name: String, kind: Kind) {
        self.code = code
        self.name = name
        self.kind = kind
    }
}

/// The list of `deploy/catalog/communes.yaml`: which codes reception accepts, and what the list is.
public struct CommuneList: Sendable {
    public let city: String
    /// The date from which the list is in force (ISO 8601).
    public let inForceFrom: String
    /// Whether the codes are synthetic (the generator's) rather than the real ones.
    public let synthetic: Bool
    /// Whether the codes were compared with the promulgated list.
    public let verified: Bool
    /// In file order.
    public let communes: [Commune]
    private let index: [String: Int]

    public init(city: String, inForceFrom: String, synthetic: Bool, verified: Bool, communes: [Commune]) {
        self.city = city
        self.inForceFrom = inForceFrom
        self.synthetic = synthetic
        self.verified = verified
        self.communes = communes
        index = Dictionary(communes.enumerated().map { ($1.code, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// No list: every code is unknown (a catalogue built by hand, not loaded from `deploy/`).
    public static let empty = CommuneList(city: "", inForceFrom: "", synthetic: true, verified: false, communes: [])

    public func commune(_ code: String) -> Commune? { index[code].map { communes[$0] } }

    public func contains(_ code: String) -> Bool { index[code] != nil }

    /// Why `code` cannot be a dossier's commune, in words an operator can act on; nil when it is listed.
    public func problem(with code: String) -> String? {
        if contains(code) { return nil }
        if communes.isEmpty { return "'\(code)' cannot be checked: no list of communes is loaded" }
        return "'\(code)' is not a commune or ward of \(city) (deploy/catalog/communes.yaml lists the \(communes.count) "
            + "codes in force since \(inForceFrom)); the sending system must use the code of the list of administrative "
            + "units in force, not a code abolished by the 2025 reorganisation, and send the dossier again"
    }
}
