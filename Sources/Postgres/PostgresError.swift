/// An error raised by the PostgreSQL client.
///
/// `description` names the operation and the SQLSTATE without server text (which may quote data);
/// `debugDescription` carries the server's message and detail.
public struct PostgresError: Error, CustomStringConvertible, CustomDebugStringConvertible, Sendable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// Could not connect, or the connection was lost.
        public static let connection = Code("connection")
        /// The server rejected a statement.
        public static let query = Code("query")
        /// A COPY failed.
        public static let copy = Code("copy")
        /// A pipeline failed.
        public static let pipeline = Code("pipeline")
        /// A value could not be decoded into the requested Swift type.
        public static let decoding = Code("decoding")
        /// A migration file is malformed or failed.
        public static let migration = Code("migration")
        /// The configuration is invalid.
        public static let configuration = Code("configuration")
    }

    public var code: Code
    /// The five-character SQLSTATE, when the server sent one.
    public var sqlState: String?
    /// The server's or libpq's message. Not part of `description`.
    public var message: String
    /// The server's DETAIL, if any. Not part of `description`.
    public var detail: String?
    /// What the client was doing, in words without data.
    public var context: String
    public var file: String
    public var line: Int

    public init(
        _ code: Code, context: String, message: String = "", sqlState: String? = nil, detail: String? = nil,
        file: String = #fileID, line: Int = #line
    ) {
        self.code = code
        self.context = context
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
        self.file = file
        self.line = line
    }

    public var description: String {
        var text = "PostgreSQL \(code) failed: \(context)"
        if let sqlState { text += " (SQLSTATE \(sqlState)\(Self.stateNames[sqlState].map { " \($0)" } ?? ""))" }
        if code == .connection { text += " — check DATABASE_URL / PG* variables and that the server is running" }
        return text
    }

    public var debugDescription: String {
        var text = "PostgresError(\(code)): \(context)"
        if let sqlState { text += " [\(sqlState)]" }
        if !message.isEmpty { text += ": \(message)" }
        if let detail { text += " DETAIL: \(detail)" }
        return text + " at \(file):\(line)"
    }

    /// Whether the failure is about the connection (class 08, admin shutdown, or no SQLSTATE on a lost link):
    /// reconnecting and retrying the whole unit of work is the remedy.
    public var isConnectionFailure: Bool {
        if code == .connection { return true }
        guard let sqlState else { return false }
        return sqlState.hasPrefix("08") || sqlState == "57P01" || sqlState == "57P02" || sqlState == "57P03"
    }

    /// Whether the statement names a table, column, function, type or schema the database does not have: the
    /// database's schema is not the one the program was built for (not migrated yet). No message causes it, so the
    /// remedy is to wait for the migration, not to give up on the work.
    public var isSchemaMismatch: Bool {
        guard let sqlState else { return false }
        return ["42P01", "42703", "42883", "42704", "3F000"].contains(sqlState)
    }

    /// Serialization failures and deadlocks, which succeed when retried.
    public var isTransient: Bool { sqlState == "40001" || sqlState == "40P01" || isConnectionFailure }

    static let stateNames: [String: String] = [
        "23505": "unique_violation", "23503": "foreign_key_violation", "23502": "not_null_violation",
        "23514": "check_violation", "42P01": "undefined_table", "42703": "undefined_column",
        "42601": "syntax_error", "42883": "undefined_function", "42704": "undefined_object", "42501": "insufficient_privilege", "22P02": "invalid_text_representation",
        "40001": "serialization_failure", "40P01": "deadlock_detected", "57P01": "admin_shutdown",
        "08006": "connection_failure", "08001": "sqlclient_unable_to_establish_sqlconnection",
        "25P02": "in_failed_sql_transaction", "P0001": "raise_exception",
    ]
}
