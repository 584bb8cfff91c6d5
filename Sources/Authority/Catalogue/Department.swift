/// A department of the city administration, or the delegator `city`.
public struct Department: Sendable, Hashable {
    /// `industry-trade`, `environment`, …, `city`.
    public var id: String
    /// Official Vietnamese name.
    public var name: String
    /// English gloss.
    public var gloss: String
    /// Prefix of dossier codes (`CODE-yymmdd-NNNNNN`).
    public var agencyCode: String
    /// The role that receives level-1 escalations.
    public var head: String

    public init(id: String, name: String, gloss: String, agencyCode: String, head: String) {
        self.id = id
        self.name = name
        self.gloss = gloss
        self.agencyCode = agencyCode
        self.head = head
    }
}
