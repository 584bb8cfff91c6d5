import CLibPQ

/// The rows of one result; frees the libpq result when released.
public final class PostgresRows: @unchecked Sendable, RandomAccessCollection {
    // A PGresult is immutable once returned, so reading it from several threads is safe.
    let result: OpaquePointer
    private let columnIndex: [String: Int32]

    init(result: OpaquePointer) {
        self.result = result
        var index: [String: Int32] = [:]
        for column in 0..<PQnfields(result) {
            index[String(cString: PQfname(result, column))] = column
        }
        columnIndex = index
    }

    deinit { PQclear(result) }

    public var startIndex: Int { 0 }
    public var endIndex: Int { Int(PQntuples(result)) }
    public subscript(position: Int) -> PostgresRow { PostgresRow(rows: self, index: Int32(position)) }

    /// Column names, in order.
    public var columns: [String] { (0..<PQnfields(result)).map { String(cString: PQfname(result, $0)) } }

    /// Rows inserted, updated, deleted or copied by the statement.
    public var affectedRows: Int { Int(String(cString: PQcmdTuples(result))) ?? 0 }

    func column(_ name: String) throws(PostgresError) -> Int32 {
        guard let index = columnIndex[name] else {
            throw PostgresError(.decoding, context: "no column '\(name)' in the result (have: \(columns.joined(separator: ", ")))")
        }
        return index
    }
}

/// One row of a ``PostgresRows``.
public struct PostgresRow: Sendable {
    let rows: PostgresRows
    let index: Int32

    /// Decodes column `name`; throws if it is NULL.
    public func decode<T: PostgresDecodable>(_ type: T.Type = T.self, _ name: String) throws(PostgresError) -> T {
        let column = try rows.column(name)
        guard let value = try decodeIfPresent(type, at: column) else {
            throw PostgresError(.decoding, context: "column '\(name)' is NULL, expected \(T.self)")
        }
        return value
    }

    /// Decodes column `name`, `nil` when NULL.
    public func decodeIfPresent<T: PostgresDecodable>(_ type: T.Type = T.self, _ name: String) throws(PostgresError) -> T? {
        try decodeIfPresent(type, at: try rows.column(name))
    }

    /// Decodes the column at `position`; throws if it is NULL.
    public func decode<T: PostgresDecodable>(_ type: T.Type = T.self, at position: Int) throws(PostgresError) -> T {
        guard let value = try decodeIfPresent(type, at: Int32(position)) else {
            throw PostgresError(.decoding, context: "column \(position) is NULL, expected \(T.self)")
        }
        return value
    }

    /// Decodes the column at `position`, `nil` when NULL.
    public func decodeIfPresent<T: PostgresDecodable>(_ type: T.Type = T.self, at position: Int) throws(PostgresError) -> T? {
        try decodeIfPresent(type, at: Int32(position))
    }

    /// The text of the column at `position` as the server sent it (nil when NULL), valid only inside `body`: for
    /// readers of many rows that can skip building a value (e.g. reuse the previous row's string when the bytes
    /// are the same).
    public func withText<R>(at position: Int, _ body: (UnsafeRawBufferPointer?) throws -> R) throws -> R {
        let column = Int32(position)
        guard column < PQnfields(rows.result) else {
            throw PostgresError(.decoding, context: "column \(column) out of range")
        }
        if PQgetisnull(rows.result, index, column) == 1 { return try body(nil) }
        return try body(UnsafeRawBufferPointer(
            start: PQgetvalue(rows.result, index, column), count: Int(PQgetlength(rows.result, index, column))))
    }

    func decodeIfPresent<T: PostgresDecodable>(_ type: T.Type, at column: Int32) throws(PostgresError) -> T? {
        guard column < PQnfields(rows.result) else {
            throw PostgresError(.decoding, context: "column \(column) out of range")
        }
        if PQgetisnull(rows.result, index, column) == 1 { return nil }
        let text = PQgetvalue(rows.result, index, column)!
        return try T(postgresText: text, length: Int(PQgetlength(rows.result, index, column)))
    }
}
