import Postgres

extension PostgresRow {
    /// A column holding one of an enum's raw values (`outcome`, `review`, …); an unknown value is a decoding error
    /// that names the column.
    package func decode<T: RawRepresentable>(_ type: T.Type, _ name: String) throws(PostgresError) -> T
    where T.RawValue == String {
        let text = try decode(String.self, name)
        guard let value = T(rawValue: text) else {
            throw PostgresError(.decoding, context: "column \(name): not a \(T.self)")
        }
        return value
    }
}
