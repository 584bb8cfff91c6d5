import Postgres

extension PostgresConnection {
    /// Runs `query` with its values bound at their placeholders.
    ///
    /// Store's reads call this rather than `query(_:)`: a literal whose interpolations are all plain (no `as:`) also
    /// type-checks as a `String`, and Swift then prefers `query(_ sql: String, _:)`, which would paste the values
    /// into the SQL text. A `PostgresQuery` parameter leaves the literal no other type.
    func query(bound query: PostgresQuery) throws(PostgresError) -> PostgresRows {
        try self.query(query)
    }
}
