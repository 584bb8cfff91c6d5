import Postgres

extension PostgresRow {
    /// A nullable column holding one of an enum's raw values: nil when NULL, and like `decode(_:_:)` otherwise (an
    /// unknown value is a decoding error that names the column).
    package func decodeIfPresent<T: RawRepresentable>(_ type: T.Type, _ name: String) throws(PostgresError) -> T?
    where T.RawValue == String {
        guard try decodeIfPresent(String.self, name) != nil else { return nil }
        return try decode(type, name)
    }
}
