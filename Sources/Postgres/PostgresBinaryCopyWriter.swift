import CLibPQ
import Foundation

/// Writes rows of a `COPY … FROM STDIN (FORMAT binary)`: every value in its type's binary form.
///
/// The server then parses no text: no hex for `bytea`, no digits for integers, no date arithmetic for timestamps, no
/// escapes — for the worker's decision and outbox rows that is ~9 µs of server CPU a dossier less than text format
/// (BENCHMARKS.md). The price is that each value must be written with the method of its column's exact type
/// (`int4` with ``int32(_:)``, `int8` with ``int64(_:)``, …); a mismatch is refused by the server (SQLSTATE 08P01
/// or 22P03, its context naming the column), never stored wrongly.
///
/// Each row starts with ``beginRow()`` and then gives one value per column of the statement, in order; a row with
/// too few or too many is refused before anything of it is sent past the check.
public struct PostgresBinaryCopyWriter {
    /// Where full buffers go; nil for a writer that keeps its data in memory (``init(columns:)``).
    private let connection: OpaquePointer?
    private var buffer: [UInt8] = []
    /// Gets a copy of every buffer sent (``PostgresConnection/record(into:)``).
    var recorder: PostgresRecorder?
    /// Columns the statement copies (the server says so when the COPY starts).
    public let columns: Int
    public private(set) var rowCount = 0
    /// Values given in the open row (before the first row: values given without one, an error).
    private var valuesInRow = 0

    /// Microseconds from 1970-01-01 to 2000-01-01, PostgreSQL's epoch.
    static let postgresEpochMicroseconds: Int64 = 946_684_800 * 1_000_000

    /// Bytes of the COPY header that starts ``data``.
    public static let headerCount = 19

    /// A writer that sends nothing: the COPY data stays in ``data`` (header first, then the rows; no trailer) — for
    /// programs that send prepared COPY data themselves, such as a benchmark's raw baseline.
    public init(columns: Int) {
        self.init(connection: nil, columns: columns)
    }

    /// The data written so far and not yet sent (for ``init(columns:)``: all of it).
    public var data: [UInt8] { buffer }

    init(connection: OpaquePointer?, columns: Int) {
        self.connection = connection
        self.columns = columns
        buffer.reserveCapacity(1 << 16 + 1024)
        // Signature, flags (no OIDs), header extension length.
        buffer.append(contentsOf: [0x50, 0x47, 0x43, 0x4F, 0x50, 0x59, 0x0A, 0xFF, 0x0D, 0x0A, 0x00])
        appendBigEndian(UInt32(0))
        appendBigEndian(UInt32(0))
    }

    /// Starts a row (ending the previous one, which must have had a value for every column).
    public mutating func beginRow() throws(PostgresError) {
        try checkRowComplete()
        if connection != nil, buffer.count >= 1 << 16 { try flush() }
        appendBigEndian(UInt16(columns))
        valuesInRow = 0
        rowCount += 1
    }

    /// SQL NULL.
    public mutating func null() {
        appendBigEndian(UInt32(bitPattern: -1))
        valuesInRow += 1
    }

    /// A `text` (or `varchar`) value; `nil` is NULL.
    public mutating func text(_ value: String?) {
        guard let value else { return null() }
        let done: Void? = value.utf8.withContiguousStorageIfAvailable { append(field: UnsafeRawBufferPointer($0)) }
        if done == nil {
            var contiguous = value
            contiguous.withUTF8 { append(field: UnsafeRawBufferPointer($0)) }
        }
    }

    /// An `int4` value.
    public mutating func int32(_ value: Int32?) {
        guard let value else { return null() }
        appendBigEndian(UInt32(4))
        appendBigEndian(UInt32(bitPattern: value))
        valuesInRow += 1
    }

    /// An `int8` value.
    public mutating func int64(_ value: Int64?) {
        guard let value else { return null() }
        appendBigEndian(UInt32(8))
        appendBigEndian(UInt64(bitPattern: value))
        valuesInRow += 1
    }

    /// A `uuid` value.
    public mutating func uuid(_ value: UUID?) {
        guard let value else { return null() }
        withUnsafeBytes(of: value.uuid) { append(field: $0) }
    }

    /// A `bytea` value, its bytes as they are.
    public mutating func bytes(_ value: [UInt8]?) {
        guard let value else { return null() }
        value.withUnsafeBytes { append(field: $0) }
    }

    /// A `timestamptz` value, to the microsecond (rounded as ``PostgresTimestamp/format(_:)`` rounds).
    public mutating func timestamp(_ value: Date?) {
        guard let value else { return null() }
        int64(PostgresTimestamp.microseconds(value) - Self.postgresEpochMicroseconds)
    }

    /// A `jsonb` value from its JSON text (the server still parses the JSON).
    public mutating func jsonb(_ json: String?) {
        guard var json else { return null() }
        json.withUTF8 { utf8 in
            appendBigEndian(UInt32(utf8.count + 1))
            buffer.append(1)  // jsonb binary format version
            buffer.append(contentsOf: utf8)
        }
        valuesInRow += 1
    }

    private mutating func append(field bytes: UnsafeRawBufferPointer) {
        appendBigEndian(UInt32(bytes.count))
        buffer.append(contentsOf: bytes)
        valuesInRow += 1
    }

    private mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.bigEndian) { buffer.append(contentsOf: $0) }
    }

    private func checkRowComplete() throws(PostgresError) {
        if rowCount == 0 {
            guard valuesInRow > 0 else { return }
            throw PostgresError(.copy, context: "COPY (binary)", message: "a value given before beginRow()")
        }
        guard valuesInRow != columns else { return }
        throw PostgresError(
            .copy, context: "COPY (binary) row \(rowCount)",
            message: "\(valuesInRow) values for \(columns) columns: give one value (or null()) per column of the statement")
    }

    /// Ends the data: checks the last row and sends the trailer.
    mutating func finish() throws(PostgresError) {
        try checkRowComplete()
        appendBigEndian(UInt16(bitPattern: -1))
        try flush()
    }

    mutating func flush() throws(PostgresError) {
        guard let connection else { return }
        recorder?.appendCopyData(buffer)
        try PostgresConnection.putCopyData(connection, &buffer)
    }
}
