/// A statement whose bound values stand at their placeholders: `"SELECT … WHERE id = \(id) AND step = \(step)"`
/// becomes `SELECT … WHERE id = $1 AND step = $2` with `[id, step]`, so a query and its values cannot drift apart.
///
/// Only values are interpolated, never SQL text: an identifier or a fragment must be written into the literal
/// (``PostgresQuery/StringInterpolation/appendInterpolation(unescaped:)`` exists for the few statements that choose a
/// column name from a fixed set, and takes a `StaticString` so that no runtime text can reach it).
public struct PostgresQuery: Sendable, ExpressibleByStringInterpolation {
    /// The statement with `$1`, `$2`, … placeholders.
    public var sql: String
    /// The values of the placeholders, in order (nil binds NULL).
    public var binds: [(any PostgresEncodable)?]

    public init(unsafeSQL sql: String, binds: [(any PostgresEncodable)?] = []) {
        self.sql = sql
        self.binds = binds
    }

    public init(stringLiteral value: String) {
        self.init(unsafeSQL: value)
    }

    public init(stringInterpolation: StringInterpolation) {
        self.init(unsafeSQL: stringInterpolation.sql, binds: stringInterpolation.binds)
    }

    public struct StringInterpolation: StringInterpolationProtocol {
        var sql = ""
        var binds: [(any PostgresEncodable)?] = []

        public init(literalCapacity: Int, interpolationCount: Int) {
            sql.reserveCapacity(literalCapacity + 4 * interpolationCount)
            binds.reserveCapacity(interpolationCount)
        }

        public mutating func appendLiteral(_ literal: String) {
            sql += literal
        }

        /// A bound value: written as the next placeholder.
        public mutating func appendInterpolation<T: PostgresEncodable>(_ value: T) {
            binds.append(value)
            sql += "$\(binds.count)"
        }

        /// A bound value that may be NULL.
        public mutating func appendInterpolation<T: PostgresEncodable>(_ value: T?) {
            binds.append(value)
            sql += "$\(binds.count)"
        }

        /// A bound value with an explicit cast (`\(day, as: "date")` → `$3::date`).
        public mutating func appendInterpolation<T: PostgresEncodable>(_ value: T?, as type: StaticString) {
            binds.append(value)
            sql += "$\(binds.count)::\(type)"
        }

        /// SQL text chosen at compile time (a column name picked from a fixed set).
        public mutating func appendInterpolation(unescaped text: StaticString) {
            sql += "\(text)"
        }
    }
}

extension PostgresConnection {
    /// Runs `query` with its values at their placeholders (see ``query(_:_:)``).
    @discardableResult
    public func query(_ query: PostgresQuery) throws(PostgresError) -> PostgresRows {
        try self.query(query.sql, query.binds)
    }

    /// Runs `query` and returns the number of rows it affected.
    @discardableResult
    public func execute(_ query: PostgresQuery) throws(PostgresError) -> Int {
        try self.query(query.sql, query.binds).affectedRows
    }
}
