/// Which department: `industry-trade`, `environment`, …, or the delegator `city`.
///
/// Every boundary that names a department (messages, rules, checks, the store, the command line) carries this type
/// rather than a bare string, so that a procedure code or a topic name cannot be passed where a department belongs.
/// The departments themselves — names, agency codes, heads — come from the catalogue (`Department`); this is only
/// the key. It reads and writes as the plain string, so the wire format and the database columns are unchanged.
public struct DepartmentID: RawRepresentable, Hashable, Comparable, Sendable, Codable, CustomStringConvertible,
    ExpressibleByStringLiteral
{
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public var description: String { rawValue }

    public static func < (lhs: DepartmentID, rhs: DepartmentID) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The delegator: the City People's Committee.
    public static let city: DepartmentID = "city"

    /// Whether `text` has the shape of a department id: lowercase ASCII letters and digits in words joined by single
    /// hyphens, at most 40 characters (the catalogue's ids; also what topic names may carry).
    public static func isWellFormed(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.count <= 40, bytes.first != UInt8(ascii: "-"), bytes.last != UInt8(ascii: "-")
        else { return false }
        var previousHyphen = false
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): previousHyphen = false
            case UInt8(ascii: "-"):
                if previousHyphen { return false }
                previousHyphen = true
            default: return false
            }
        }
        return true
    }
}

/// A department of the city administration, or the delegator `city`.
public struct Department: Sendable, Hashable, Identifiable {
    /// `industry-trade`, `environment`, …, `city`.
    public var id: DepartmentID
    /// Official Vietnamese name.
    public var name: String
    /// English gloss.
    public var gloss: String
    /// Prefix of dossier codes (`CODE-yymmdd-NNNNNN`).
    public var agencyCode: String
    /// The role that receives level-1 escalations.
    public var head: String

    public init(id: DepartmentID, name: String, gloss: String, agencyCode: String, head: String) {
        self.id = id
        self.name = name
        self.gloss = gloss
        self.agencyCode = agencyCode
        self.head = head
    }
}
