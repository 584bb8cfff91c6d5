import Synchronization

/// What a connection sent to PostgreSQL, call by call, while a recorder was attached
/// (``PostgresConnection/record(into:)``) — for a benchmark that replays the very same statements through raw libpq
/// (`Benchmarks/`, `ProjectionBench`). Nothing is recorded unless a recorder is attached; production never attaches one.
///
/// Parameters are kept as the text libpq was given (the connection sends every parameter in text format), with the
/// type OIDs it declared. The recording holds whatever the statements held, personal data included: keep it in memory,
/// never print or store it.
public final class PostgresRecorder: Sendable {
    /// One call, as the connection made it.
    public enum Call: Sendable {
        /// `PQexec` of a script without parameters (`BEGIN`, `COMMIT`, DDL).
        case script(String)
        /// ``PostgresConnection/query(_:_:)``: `prepared` when the connection ran it as a prepared statement of its
        /// cache (prepared on first use, run with `PQexecPrepared`), else `PQexecParams`.
        case query(sql: String, types: [UInt32], values: [String?], prepared: Bool)
        /// ``PostgresConnection/prepare(_:_:types:)``.
        case prepare(name: String, sql: String, types: [UInt32])
        /// ``PostgresConnection/executePrepared(_:_:)``.
        case executePrepared(name: String, values: [String?])
        /// `COPY … FROM STDIN` and every byte of its data (binary COPY: header and trailer included).
        case copy(statement: String, data: [UInt8])
        /// A call the recorder cannot represent (a pipeline): a replay of this recording is not the same work.
        case unsupported(String)
    }

    private let state = Mutex<[Call]>([])

    public init() {}

    /// The calls recorded so far, in order.
    public var calls: [Call] { state.withLock { $0 } }

    /// Forgets the calls recorded so far.
    public func reset() { state.withLock { $0.removeAll() } }

    func append(_ call: Call) { state.withLock { $0.append(call) } }

    func append(sql: String, parameters: [(any PostgresEncodable)?], prepared: Bool) {
        let types = parameters.map { $0.map { type(of: $0).postgresType } ?? 0 }
        append(.query(sql: sql, types: types, values: parameters.map { $0?.postgresText }, prepared: prepared))
    }

    /// Adds COPY data to the COPY call recorded last.
    func appendCopyData(_ bytes: [UInt8]) {
        state.withLock { calls in
            guard case .copy(let statement, var data) = calls.last else { return }
            calls[calls.count - 1] = .script("")  // drop the array's second reference before appending
            data.append(contentsOf: bytes)
            calls[calls.count - 1] = .copy(statement: statement, data: data)
        }
    }
}
