import CLibPQ
import Foundation
import Logging
import Synchronization

/// One PostgreSQL connection over libpq.
///
/// Statements are parameterized (text-format parameters; SQL text never carries values). Every call is blocking
/// and serialized on the connection's lock, so the object may be shared, but one transaction at a time: run the
/// connection from a dedicated thread or a blocking task, not from the cooperative pool's hot path.
public final class PostgresConnection: @unchecked Sendable {
    // A PGconn is not thread-safe; `lock` serializes every use, and `connection` changes only under it.
    private var connection: OpaquePointer
    private let lock = NSRecursiveLock()
    private let notices: NoticeSink
    public let configuration: PostgresConfiguration
    let logger: Logger
    private var preparedNames: Set<String> = []
    /// SQL text → name of the statement ``query(_:_:)`` prepared for it on this connection.
    private var statementNames: [String: String] = [:]
    /// Statements ``query(_:_:)`` prepared on this session (names are never reused within a session).
    private var preparedCount = 0
    /// Where calls are recorded for a benchmark's raw replay (``record(into:)``); nil: nothing is recorded.
    private var recorder: PostgresRecorder?

    private init(connection: OpaquePointer, configuration: PostgresConfiguration, logger: Logger) {
        self.connection = connection
        self.configuration = configuration
        self.logger = logger
        self.notices = NoticeSink(logger: logger)
        PQsetNoticeProcessor(connection, noticeProcessor, Unmanaged.passUnretained(notices).toOpaque())
    }

    deinit {
        PQfinish(connection)
    }

    /// Connects, retrying with backoff per `configuration.retry`.
    public static func connect(
        _ configuration: PostgresConfiguration, logger: Logger
    ) throws(PostgresError) -> PostgresConnection {
        let raw = try open(configuration, logger: logger)
        return PostgresConnection(connection: raw, configuration: configuration, logger: logger)
    }

    private static func open(_ configuration: PostgresConfiguration, logger: Logger) throws(PostgresError) -> OpaquePointer {
        var lastError = PostgresError(.connection, context: "connect")
        for attempt in 0..<max(1, configuration.retry.attempts) {
            let delay = configuration.retry.delay(beforeAttempt: attempt)
            if delay > .zero { Thread.sleep(forTimeInterval: Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18) }
            let (keys, values) = configuration.keywords()
            let connection = withCStrings(keys) { k in withCStrings(values) { v in PQconnectdbParams(k, v, 1) } }
            guard let connection else { throw PostgresError(.connection, context: "connect: out of memory") }
            if PQstatus(connection) == CONNECTION_OK { return connection }
            lastError = PostgresError(.connection, context: "connect", message: errorMessage(connection))
            PQfinish(connection)
            logger.warning("PostgreSQL not reachable, retrying", metadata: ["db.attempt": "\(attempt + 1)"])
        }
        throw lastError
    }

    /// Whether the connection is up (no round trip).
    public var isConnected: Bool { locked { PQstatus(connection) == CONNECTION_OK } }

    /// Replaces a broken connection with a new one, retrying with backoff. Prepared statements are forgotten.
    public func reconnect() throws(PostgresError) {
        let fresh = try Self.open(configuration, logger: logger)
        locked {
            PQfinish(connection)
            connection = fresh
            preparedNames.removeAll()
            statementNames.removeAll()
            preparedCount = 0
            PQsetNoticeProcessor(connection, noticeProcessor, Unmanaged.passUnretained(notices).toOpaque())
        }
    }

    /// Runs a statement with parameters and returns its rows.
    ///
    /// A query (`SELECT`, `INSERT`, `UPDATE`, `DELETE`, `WITH`) is prepared on the connection the first time it runs,
    /// and run as that prepared statement afterwards: the server parses and analyses it once instead of on every run.
    /// It still plans every run for its parameters (`plan_cache_mode=force_custom_plan`, set by the configuration:
    /// a generic plan made while a table was small outlived the table's growth). Parameter types are those of the
    /// first run. At most ``statementCacheCapacity`` statements are kept per connection; others run unprepared.
    @discardableResult
    public func query(_ sql: String, _ parameters: [(any PostgresEncodable)?]) throws(PostgresError) -> PostgresRows {
        try locked { () throws(PostgresError) -> PostgresRows in
            if let name = try cachedStatement(sql, parameters) {
                recorder?.append(sql: sql, parameters: parameters, prepared: true)
                let result = withParameters(parameters) { _, values, count in
                    PQexecPrepared(connection, name, count, values, nil, nil, 0)
                }
                do throws(PostgresError) {
                    return try check(result, context: "statement")
                } catch {
                    // "cached plan must not change result type": the table changed under a statement's `*`. Forget
                    // it, so that the next run prepares it again (this run's transaction has failed regardless).
                    if error.sqlState == "0A000" { statementNames[sql] = nil }
                    throw error
                }
            }
            recorder?.append(sql: sql, parameters: parameters, prepared: false)
            let result = withParameters(parameters) { types, values, count in
                PQexecParams(connection, sql, count, types, values, nil, nil, 0)
            }
            return try check(result, context: "statement")
        }
    }

    /// Statements ``query(_:_:)`` keeps prepared per connection.
    public static let statementCacheCapacity = 256

    /// How many statements ``query(_:_:)`` holds prepared on this connection.
    public var preparedStatementCount: Int { locked { statementNames.count } }

    /// The name of `sql` prepared on this connection, preparing it now if it is a query worth keeping; nil to run it
    /// unprepared. A statement that fails to prepare throws that error (the one running it would have raised).
    private func cachedStatement(
        _ sql: String, _ parameters: [(any PostgresEncodable)?]
    ) throws(PostgresError) -> String? {
        if let name = statementNames[sql] { return name }
        guard statementNames.count < Self.statementCacheCapacity, Self.isCacheable(sql) else { return nil }
        preparedCount += 1
        let name = "motcua_q\(preparedCount)"
        let types = parameters.map { $0.map { type(of: $0).postgresType } ?? 0 }
        let result = types.withUnsafeBufferPointer {
            PQprepare(connection, name, sql, Int32(types.count), $0.baseAddress)
        }
        _ = try check(result, context: "statement")
        statementNames[sql] = name
        return name
    }

    /// Whether `sql` is a single query statement (not a utility command such as `SET` or `SAVEPOINT`).
    static func isCacheable(_ sql: String) -> Bool {
        let word = sql.utf8.drop { $0 == 0x20 || $0 == 0x0A || $0 == 0x09 || $0 == 0x0D }.prefix { $0 != 0x20 && $0 != 0x0A && $0 != 0x09 && $0 != 0x0D }
        switch String(decoding: word, as: UTF8.self).uppercased() {
        case "SELECT", "INSERT", "UPDATE", "DELETE", "WITH": return true
        default: return false
        }
    }

    /// Runs a statement and returns the number of rows it affected.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [(any PostgresEncodable)?]) throws(PostgresError) -> Int {
        try query(sql, parameters).affectedRows
    }

    /// Runs a script of several statements without parameters (migrations, DDL).
    public func executeScript(_ sql: String) throws(PostgresError) {
        try locked { () throws(PostgresError) in
            recorder?.append(.script(sql))
            _ = try check(PQexec(connection, sql), context: "script")
        }
    }

    /// Creates a named prepared statement once per connection.
    public func prepare(_ name: String, _ sql: String, types: [UInt32] = []) throws(PostgresError) {
        try locked { () throws(PostgresError) in
            guard !preparedNames.contains(name) else { return }
            recorder?.append(.prepare(name: name, sql: sql, types: types))
            let result = types.withUnsafeBufferPointer { PQprepare(connection, name, sql, Int32(types.count), $0.baseAddress) }
            _ = try check(result, context: "prepare '\(name)'")
            preparedNames.insert(name)
        }
    }

    /// Runs a statement made with ``prepare(_:_:types:)``.
    @discardableResult
    public func executePrepared(_ name: String, _ parameters: [(any PostgresEncodable)?]) throws(PostgresError) -> PostgresRows {
        try locked { () throws(PostgresError) -> PostgresRows in
            recorder?.append(.executePrepared(name: name, values: parameters.map { $0?.postgresText }))
            let result = withParameters(parameters) { _, values, count in
                PQexecPrepared(connection, name, count, values, nil, nil, 0)
            }
            return try check(result, context: "prepared '\(name)'")
        }
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    @discardableResult
    public func transaction<T>(
        isolation: String? = nil, _ body: (PostgresConnection) throws -> T
    ) throws -> T {
        try locked { () throws -> T in
            try executeScript(isolation.map { "BEGIN ISOLATION LEVEL \($0)" } ?? "BEGIN")
            do {
                let value = try body(self)
                try executeScript("COMMIT")
                return value
            } catch {
                if PQstatus(connection) == CONNECTION_OK && PQtransactionStatus(connection) != PQTRANS_IDLE {
                    _ = try? executeScript("ROLLBACK")
                }
                throw error
            }
        }
    }

    /// Streams rows into a table with `COPY … FROM STDIN` (text format). Rows are written by `body`.
    ///
    /// `statement` is the whole command, e.g. `COPY decisions (a, b) FROM STDIN`. Returns the rows copied.
    @discardableResult
    public func copyIn(_ statement: String, _ body: (inout PostgresCopyWriter) throws -> Void) throws -> Int {
        try copyIn(statement, binary: false) { connection, _ in
            var writer = PostgresCopyWriter(connection: connection)
            writer.recorder = recorder
            try body(&writer)
            try writer.flush()
        }
    }

    /// Streams rows into a table with `COPY … FROM STDIN (FORMAT binary)`; see ``PostgresBinaryCopyWriter``.
    ///
    /// `statement` must ask for the binary format, e.g. `COPY outbox (a, b) FROM STDIN (FORMAT binary)`. Returns the
    /// rows copied. Statements without parameters may precede the COPY, separated by `;` (e.g. `SAVEPOINT s; COPY …`):
    /// they run first, in the same round trip, and if one fails nothing is copied and its error is thrown.
    @discardableResult
    public func copyInBinary(_ statement: String, _ body: (inout PostgresBinaryCopyWriter) throws -> Void) throws -> Int {
        try copyIn(statement, binary: true) { connection, columns in
            var writer = PostgresBinaryCopyWriter(connection: connection, columns: columns)
            writer.recorder = recorder
            try body(&writer)
            try writer.finish()
        }
    }

    /// Starts the COPY, lets `send` write all of its data (given the columns the server expects), and ends it; a
    /// failure while sending aborts the COPY (its statement fails, the transaction must be rolled back).
    private func copyIn(
        _ statement: String, binary: Bool, _ send: (OpaquePointer, Int) throws -> Void
    ) throws -> Int {
        try locked { () throws -> Int in
            recorder?.append(.copy(statement: statement, data: []))
            let start = PQexec(connection, statement)
            let status = PQresultStatus(start)
            if status != PGRES_COPY_IN {
                _ = try check(start, context: "COPY start")
                throw PostgresError(.copy, context: "COPY start: statement is not COPY FROM STDIN")
            }
            let columns = Int(PQnfields(start))
            let isBinary = PQbinaryTuples(start) == 1
            PQclear(start)
            do {
                guard isBinary == binary else {
                    throw PostgresError(
                        .copy, context: "COPY start",
                        message: binary
                            ? "copyInBinary needs a statement ending in (FORMAT binary)"
                            : "copyIn writes text; use copyInBinary for (FORMAT binary)")
                }
                try send(connection, columns)
            } catch {
                PQputCopyEnd(connection, "aborted by client")
                drainResults()
                throw error
            }
            if PQputCopyEnd(connection, nil) != 1 {
                throw PostgresError(.copy, context: "COPY end", message: Self.errorMessage(connection))
            }
            let rows = try check(PQgetResult(connection), context: "COPY").affectedRows
            drainResults()
            return rows
        }
    }

    /// Sends many statements in one pipeline (one round trip per `syncEvery` statements) inside the current
    /// transaction or, outside one, each sync as its own implicit transaction.
    ///
    /// Prepare statements before calling (``prepare(_:_:types:)``). On error the rest of the pipeline is skipped
    /// by the server and the first error is thrown.
    @discardableResult
    public func pipeline(_ statements: [PipelineStatement], syncEvery: Int = 1000) throws(PostgresError) -> [PostgresRows] {
        try locked { () throws(PostgresError) -> [PostgresRows] in
            recorder?.append(.unsupported("pipeline of \(statements.count) statements"))
            guard PQenterPipelineMode(connection) == 1 else {
                throw PostgresError(.pipeline, context: "enter pipeline mode", message: Self.errorMessage(connection))
            }
            defer { PQexitPipelineMode(connection) }
            var results: [PostgresRows] = []
            results.reserveCapacity(statements.count)
            var firstError: PostgresError?
            var index = 0
            while index < statements.count {
                let chunk = statements[index..<min(statements.count, index + syncEvery)]
                for statement in chunk {
                    let sent: Int32 = withParameters(statement.parameters) { types, values, count in
                        switch statement.kind {
                        case .prepared(let name): PQsendQueryPrepared(connection, name, count, values, nil, nil, 0)
                        case .sql(let sql): PQsendQueryParams(connection, sql, count, types, values, nil, nil, 0)
                        }
                    }
                    if sent != 1 {
                        throw PostgresError(.pipeline, context: "send", message: Self.errorMessage(connection))
                    }
                }
                guard PQpipelineSync(connection) == 1 else {
                    throw PostgresError(.pipeline, context: "sync", message: Self.errorMessage(connection))
                }
                for _ in chunk {
                    let result = PQgetResult(connection)
                    if PQresultStatus(result) == PGRES_PIPELINE_ABORTED {
                        PQclear(result)
                    } else {
                        do throws(PostgresError) {
                            results.append(try check(result, context: "pipeline statement"))
                        } catch {
                            if firstError == nil { firstError = error }
                        }
                    }
                    // Each statement's results end with a NULL.
                    while let extra = PQgetResult(connection) { PQclear(extra) }
                }
                // The sync point.
                if let sync = PQgetResult(connection) { PQclear(sync) }
                index += syncEvery
                if firstError != nil { break }
            }
            if let firstError { throw firstError }
            return results
        }
    }

    /// Records every call made on this connection into `recorder` from now on (nil: stops recording). For
    /// benchmarks that replay the same statements through raw libpq; see ``PostgresRecorder``.
    public func record(into recorder: PostgresRecorder?) {
        locked { self.recorder = recorder }
    }

    private func locked<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    private func drainResults() {
        while let result = PQgetResult(connection) { PQclear(result) }
    }

    private func check(_ result: OpaquePointer?, context: String) throws(PostgresError) -> PostgresRows {
        guard let result else {
            throw PostgresError(.connection, context: context, message: Self.errorMessage(connection))
        }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY, PGRES_COPY_IN, PGRES_PIPELINE_SYNC:
            return PostgresRows(result: result)
        default:
            let error = Self.error(from: result, context: context, connection: connection)
            PQclear(result)
            throw error
        }
    }

    static func error(from result: OpaquePointer, context: String, connection: OpaquePointer) -> PostgresError {
        func field(_ code: Int32) -> String? {
            PQresultErrorField(result, code).map { String(cString: $0) }
        }
        let state = field(Int32(UInt8(ascii: "C")))
        let message = field(Int32(UInt8(ascii: "M"))) ?? errorMessage(connection)
        let detail = field(Int32(UInt8(ascii: "D")))
        let lost = PQstatus(connection) != CONNECTION_OK
        return PostgresError(lost && state == nil ? .connection : .query, context: context, message: message,
                             sqlState: state, detail: detail)
    }

    static func errorMessage(_ connection: OpaquePointer) -> String {
        PQerrorMessage(connection).map { String(cString: $0).trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
    }
}

/// One statement of a pipeline.
public struct PipelineStatement: Sendable {
    enum Kind: Sendable {
        case prepared(String)
        case sql(String)
    }
    let kind: Kind
    let parameters: [(any PostgresEncodable)?]

    /// A statement prepared on the connection.
    public static func prepared(_ name: String, _ parameters: [(any PostgresEncodable)?]) -> PipelineStatement {
        PipelineStatement(kind: .prepared(name), parameters: parameters)
    }

    /// A statement given as text.
    public static func sql(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) -> PipelineStatement {
        PipelineStatement(kind: .sql(sql), parameters: parameters)
    }
}

/// Writes rows of a `COPY … FROM STDIN` in text format, escaping every value.
public struct PostgresCopyWriter {
    private let connection: OpaquePointer
    private var buffer: [UInt8] = []
    /// Gets a copy of every buffer sent (``PostgresConnection/record(into:)``).
    var recorder: PostgresRecorder?
    public private(set) var rowCount = 0

    init(connection: OpaquePointer) {
        self.connection = connection
        buffer.reserveCapacity(1 << 16)
    }

    /// Appends one row; `nil` is SQL NULL.
    public mutating func row(_ values: [(any PostgresEncodable)?]) throws(PostgresError) {
        for index in values.indices {
            if index > 0 { buffer.append(0x09) }
            // Reading the text through the element (not a bound copy of the existential) saves a copy per value.
            if let text = values[index]?.postgresText { appendEscaped(text) } else { appendNull() }
        }
        buffer.append(0x0A)
        rowCount += 1
        if buffer.count >= 1 << 16 { try flush() }
    }

    /// Appends one row of text values already in their PostgreSQL text form (fast path, still escaped).
    public mutating func row(text values: [String?]) throws(PostgresError) {
        for (index, value) in values.enumerated() {
            if index > 0 { buffer.append(0x09) }
            if let value { appendEscaped(value) } else { appendNull() }
        }
        buffer.append(0x0A)
        rowCount += 1
        if buffer.count >= 1 << 16 { try flush() }
    }

    /// `\N`, SQL NULL in COPY text format.
    private mutating func appendNull() {
        buffer.append(0x5C)
        buffer.append(0x4E)
    }

    private mutating func appendEscaped(_ text: String) {
        // Native strings are contiguous UTF-8: copy runs of plain bytes at once instead of byte by byte.
        let done: Void? = text.utf8.withContiguousStorageIfAvailable { appendEscaped(utf8: $0) }
        if done == nil {
            var contiguous = text
            contiguous.withUTF8 { appendEscaped(utf8: $0) }
        }
    }

    private mutating func appendEscaped(utf8 bytes: UnsafeBufferPointer<UInt8>) {
        var plainStart = 0
        for index in 0..<bytes.count {
            let escape: UInt8
            switch bytes[index] {
            case 0x5C: escape = 0x5C  // \ → \\
            case 0x09: escape = 0x74  // tab → \t
            case 0x0A: escape = 0x6E  // newline → \n
            case 0x0D: escape = 0x72  // carriage return → \r
            default: continue
            }
            buffer.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[plainStart..<index]))
            buffer.append(0x5C)
            buffer.append(escape)
            plainStart = index + 1
        }
        buffer.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[plainStart..<bytes.count]))
    }

    mutating func flush() throws(PostgresError) {
        recorder?.appendCopyData(buffer)
        try PostgresConnection.putCopyData(connection, &buffer)
    }
}

extension PostgresConnection {
    /// Sends `buffer` as COPY data and empties it (keeping its capacity).
    static func putCopyData(_ connection: OpaquePointer, _ buffer: inout [UInt8]) throws(PostgresError) {
        guard !buffer.isEmpty else { return }
        let sent = buffer.withUnsafeBufferPointer { pointer in
            pointer.withMemoryRebound(to: CChar.self) { PQputCopyData(connection, $0.baseAddress, Int32($0.count)) }
        }
        if sent != 1 {
            throw PostgresError(.copy, context: "COPY data", message: errorMessage(connection))
        }
        buffer.removeAll(keepingCapacity: true)
    }
}

private final class NoticeSink: Sendable {
    let logger: Logger
    init(logger: Logger) { self.logger = logger }
}

private let noticeProcessor: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?) -> Void = { opaque, message in
    guard let opaque, let message else { return }
    let sink = Unmanaged<NoticeSink>.fromOpaque(opaque).takeUnretainedValue()
    sink.logger.debug("PostgreSQL notice: \(String(cString: message).trimmingCharacters(in: .whitespacesAndNewlines))")
}

func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let duplicated = strings.map { strdup($0) }
    defer { duplicated.forEach { free($0) } }
    let pointers: [UnsafePointer<CChar>?] = duplicated.map { UnsafePointer($0) } + [nil]
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}

func withParameters<R>(
    _ parameters: [(any PostgresEncodable)?],
    _ body: (UnsafePointer<UInt32>?, UnsafePointer<UnsafePointer<CChar>?>?, Int32) -> R
) -> R {
    if parameters.isEmpty { return body(nil, nil, 0) }
    var types = [UInt32]()
    types.reserveCapacity(parameters.count)
    var texts = [UnsafeMutablePointer<CChar>?]()
    texts.reserveCapacity(parameters.count)
    for parameter in parameters {
        if let parameter {
            types.append(type(of: parameter).postgresType)
            texts.append(strdup(parameter.postgresText))
        } else {
            types.append(0)
            texts.append(nil)
        }
    }
    defer { texts.forEach { free($0) } }
    let values = texts.map { UnsafePointer($0) }
    return types.withUnsafeBufferPointer { t in
        values.withUnsafeBufferPointer { v in body(t.baseAddress, v.baseAddress, Int32(parameters.count)) }
    }
}
