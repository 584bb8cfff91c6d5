/// A type of document a procedure may require.
public struct DocumentType: Sendable, Hashable {
    public var id: String
    public var name: String
    public var gloss: String

    public init(id: String, name: String, gloss: String) {
        self.id = id
        self.name = name
        self.gloss = gloss
    }
}
