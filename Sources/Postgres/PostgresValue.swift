import Foundation

/// Object ids of the types MotCua binds.
public enum PostgresType {
    public static let unspecified: UInt32 = 0
    public static let bool: UInt32 = 16
    public static let bytea: UInt32 = 17
    public static let int8: UInt32 = 20
    public static let int2: UInt32 = 21
    public static let int4: UInt32 = 23
    public static let text: UInt32 = 25
    public static let float8: UInt32 = 701
    public static let textArray: UInt32 = 1009
    public static let int8Array: UInt32 = 1016
    public static let timestamptz: UInt32 = 1184
    public static let uuid: UInt32 = 2950
    public static let jsonb: UInt32 = 3802
}

/// A Swift value that can be bound as a statement parameter (text format).
public protocol PostgresEncodable: Sendable {
    /// The parameter's type oid; `0` lets the server infer it.
    static var postgresType: UInt32 { get }
    /// The text representation PostgreSQL parses.
    var postgresText: String { get }
}

/// A Swift value that can be read from a result column (text format).
public protocol PostgresDecodable {
    init(postgresText text: UnsafePointer<CChar>, length: Int) throws(PostgresError)
}

extension PostgresDecodable {
    static func decodingError(_ text: UnsafePointer<CChar>, _ length: Int) -> PostgresError {
        PostgresError(.decoding, context: "column value is not a valid \(Self.self) (\(length) bytes)")
    }
}

extension String: PostgresEncodable, PostgresDecodable {
    public static var postgresType: UInt32 { PostgresType.unspecified }
    public var postgresText: String { self }
    public init(postgresText text: UnsafePointer<CChar>, length: Int) {
        self = String(decoding: UnsafeRawBufferPointer(start: text, count: length), as: UTF8.self)
    }
}

extension Int: PostgresEncodable, PostgresDecodable {
    public static var postgresType: UInt32 { PostgresType.int8 }
    public var postgresText: String { String(self) }
    public init(postgresText text: UnsafePointer<CChar>, length: Int) throws(PostgresError) {
        guard let value = parseInteger(text, length) else { throw Self.decodingError(text, length) }
        self = value
    }
}

extension Int64: PostgresEncodable, PostgresDecodable {
    public static var postgresType: UInt32 { PostgresType.int8 }
    public var postgresText: String { String(self) }
    public init(postgresText text: UnsafePointer<CChar>, length: Int) throws(PostgresError) {
        guard let value = parseInteger(text, length) else { throw Self.decodingError(text, length) }
        self = Int64(value)
    }
}

extension Int32: PostgresEncodable, PostgresDecodable {
    public static var postgresType: UInt32 { PostgresType.int4 }
    public var postgresText: String { String(self) }
    public init(postgresText text: UnsafePointer<CChar>, length: Int) throws(PostgresError) {
        guard let value = parseInteger(text, length), let narrow = Int32(exactly: value) else {
            throw Self.decodingError(text, length)
        }
        self = narrow
    }
}

extension Bool: PostgresEncodable, PostgresDecodable {
    public static var postgresType: UInt32 { PostgresType.bool }
    public var postgresText: String { self ? "t" : "f" }
    public init(postgresText text: UnsafePointer<CChar>, length: Int) throws(PostgresError) {
        switch text.pointee {
        case 0x74: self = true  // "t"
        case 0x66: self = false  // "f"
        default: throw Self.decodingError(text, length)
        }
    }
}

extension Double: PostgresEncodable, PostgresDecodable {
    public static var postgresType: UInt32 { PostgresType.float8 }
    public var postgresText: String {
        if isNaN { return "NaN" }
        if isInfinite { return self > 0 ? "Infinity" : "-Infinity" }
        return String(self)
    }
    public init(postgresText text: UnsafePointer<CChar>, length: Int) throws(PostgresError) {
        let string = String(cString: text)
        switch string {
        case "NaN": self = .nan
        case "Infinity": self = .infinity
        case "-Infinity": self = -.infinity
        default:
            guard let value = Double(string) else { throw Self.decodingError(text, length) }
            self = value
        }
    }
}

extension UUID: PostgresEncodable, PostgresDecodable {
    public static var postgresType: UInt32 { PostgresType.uuid }
    public var postgresText: String { uuidString.lowercased() }
    public init(postgresText text: UnsafePointer<CChar>, length: Int) throws(PostgresError) {
        guard let value = UUID(uuidString: String(cString: text)) else { throw Self.decodingError(text, length) }
        self = value
    }
}

extension Date: PostgresEncodable, PostgresDecodable {
    public static var postgresType: UInt32 { PostgresType.timestamptz }
    public var postgresText: String { PostgresTimestamp.format(self) }
    public init(postgresText text: UnsafePointer<CChar>, length: Int) throws(PostgresError) {
        guard let value = PostgresTimestamp.parse(UnsafeRawBufferPointer(start: text, count: length)) else {
            throw Self.decodingError(text, length)
        }
        self = value
    }
}

/// Bytes bound and read as `bytea`.
public struct PostgresBytes: PostgresEncodable, PostgresDecodable, Hashable {
    public var bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public static var postgresType: UInt32 { PostgresType.bytea }
    public var postgresText: String { "\\x" + Self.hex(bytes) }

    /// Lower-case hexadecimal of `bytes`, two digits a byte (bytea's text form after its `\x`, and what
    /// `decode(…, 'hex')` reads).
    public static func hex<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        let digits: StaticString = "0123456789abcdef"
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            out.append(digits.utf8Start[Int(byte >> 4)])
            out.append(digits.utf8Start[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
    public init(postgresText text: UnsafePointer<CChar>, length: Int) throws(PostgresError) {
        // Servers send bytea in hex format ("\x…") by default.
        let raw = UnsafeRawBufferPointer(start: text, count: length)
        guard length >= 2, raw[0] == 0x5C, raw[1] == 0x78, length % 2 == 0 else { throw Self.decodingError(text, length) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity((length - 2) / 2)
        var index = 2
        while index < length {
            guard let high = hexValue(raw[index]), let low = hexValue(raw[index + 1]) else {
                throw Self.decodingError(text, length)
            }
            bytes.append(high << 4 | low)
            index += 2
        }
        self.bytes = bytes
    }
}

/// A JSON document bound as `jsonb` and read as its text.
public struct PostgresJSON: PostgresEncodable, PostgresDecodable, Hashable {
    public var text: String
    public init(_ text: String) { self.text = text }
    public init<T: Encodable>(encoding value: T, encoder: JSONEncoder = JSONEncoder()) throws {
        text = String(decoding: try encoder.encode(value), as: UTF8.self)
    }
    public static var postgresType: UInt32 { PostgresType.jsonb }
    public var postgresText: String { text }
    public init(postgresText text: UnsafePointer<CChar>, length: Int) {
        self.text = String(postgresText: text, length: length)
    }
    public func decode<T: Decodable>(_ type: T.Type, decoder: JSONDecoder = JSONDecoder()) throws -> T {
        try decoder.decode(type, from: Data(text.utf8))
    }
}

extension Array: PostgresEncodable where Element == String {
    public static var postgresType: UInt32 { PostgresType.textArray }
    /// `{"a","b\"c"}`: every element quoted, `"` and `\` escaped with a backslash. A byte loop: Foundation's
    /// `replacingOccurrences` on long elements (a batch's explanations) cost more than the whole batch's decisions.
    public var postgresText: String {
        var out: [UInt8] = []
        out.reserveCapacity(reduce(2) { $0 + $1.utf8.count + 3 })
        out.append(UInt8(ascii: "{"))
        for (index, element) in enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "\""))
            var element = element
            element.withUTF8 { utf8 in
                // Most elements (ids, digests, codes) need no escape: appended whole, not byte by byte.
                guard utf8.contains(where: { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else {
                    out.append(contentsOf: utf8)
                    return
                }
                for byte in utf8 {
                    if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { out.append(UInt8(ascii: "\\")) }
                    out.append(byte)
                }
            }
            out.append(UInt8(ascii: "\""))
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }
}

/// A `text[]` parameter whose elements may be SQL NULL (`nil`): one column of a set-based statement
/// (`unnest($1::text[], $2::text[], …)`), cast to its type in the statement.
public struct PostgresNullableTextArray: PostgresEncodable {
    public var values: [String?]
    public init(_ values: [String?]) { self.values = values }
    public static var postgresType: UInt32 { PostgresType.textArray }
    /// `{"a",NULL,"b\"c"}`: elements quoted and escaped as ``Array/postgresText``, nil as an unquoted `NULL`.
    public var postgresText: String {
        var out: [UInt8] = []
        out.reserveCapacity(values.reduce(2) { $0 + ($1?.utf8.count ?? 4) + 3 })
        out.append(UInt8(ascii: "{"))
        for (index, element) in values.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            guard let element else {
                out.append(contentsOf: "NULL".utf8)
                continue
            }
            out.append(UInt8(ascii: "\""))
            for byte in element.utf8 {
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { out.append(UInt8(ascii: "\\")) }
                out.append(byte)
            }
            out.append(UInt8(ascii: "\""))
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }
}

/// An `int8[]` parameter.
public struct PostgresIntArray: PostgresEncodable, Hashable {
    public var values: [Int64]
    public init(_ values: [Int64]) { self.values = values }
    public static var postgresType: UInt32 { PostgresType.int8Array }
    public var postgresText: String { "{" + values.map(String.init).joined(separator: ",") + "}" }
}

/// A `text[]` parameter whose elements may be NULL (`[String]` binds one without).
public struct PostgresTextArray: PostgresEncodable, Hashable {
    public var values: [String?]
    public init(_ values: [String?]) { self.values = values }
    public static var postgresType: UInt32 { PostgresType.textArray }
    public var postgresText: String {
        "{" + values.map { value in
            guard let value else { return "NULL" }
            return "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }.joined(separator: ",") + "}"
    }
}

/// Timestamps in the ISO form PostgreSQL accepts and emits (`DateStyle=ISO`), in UTC.
public enum PostgresTimestamp {
    /// Microseconds since 1970-01-01 UTC, rounded to the nearest: the one rounding of an instant for PostgreSQL, in
    /// text (``format(_:)``) and in binary COPY alike.
    public static func microseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
    }

    public static func format(_ date: Date) -> String {
        let micros = microseconds(date)
        let totalSeconds = micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000
        let fraction = micros - totalSeconds * 1_000_000
        let days = totalSeconds >= 0 ? totalSeconds / 86_400 : (totalSeconds - 86_399) / 86_400
        let secondOfDay = totalSeconds - days * 86_400
        let (y, m, d) = civil(fromDays: days)
        let h = secondOfDay / 3600, mi = (secondOfDay % 3600) / 60, s = secondOfDay % 60
        func pad(_ v: Int64, _ w: Int) -> String {
            let t = String(v)
            return t.count >= w ? t : String(repeating: "0", count: w - t.count) + t
        }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2)) \(pad(h, 2)):\(pad(mi, 2)):\(pad(s, 2)).\(pad(fraction, 6))+00"
    }

    /// Parses `YYYY-MM-DD HH:MM:SS[.ffffff]±HH[:MM]` (what the server sends with `DateStyle=ISO`).
    public static func parse(_ text: String) -> Date? {
        var text = text
        return text.withUTF8 { parse(UnsafeRawBufferPointer($0)) }
    }

    /// ``parse(_:)`` over the bytes (e.g. a column's text as libpq holds it), without copying them.
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> Date? {
        guard bytes.count >= 19 else { return nil }
        func number(_ from: Int, _ count: Int) -> Int64? {
            var value: Int64 = 0
            for i in from..<(from + count) {
                guard i < bytes.count, bytes[i] >= 48, bytes[i] <= 57 else { return nil }
                value = value * 10 + Int64(bytes[i] - 48)
            }
            return value
        }
        guard let y = number(0, 4), let mo = number(5, 2), let d = number(8, 2), let h = number(11, 2),
            let mi = number(14, 2), let s = number(17, 2)
        else { return nil }
        var index = 19
        var micros: Int64 = 0
        if index < bytes.count, bytes[index] == 0x2E {
            index += 1
            var digits = 0
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                if digits < 6 { micros = micros * 10 + Int64(bytes[index] - 48) }
                digits += 1
                index += 1
            }
            for _ in digits..<6 where digits < 6 { micros *= 10 }
        }
        var offsetSeconds: Int64 = 0
        if index < bytes.count, bytes[index] == 0x2B || bytes[index] == 0x2D {
            let sign: Int64 = bytes[index] == 0x2B ? 1 : -1
            guard let oh = number(index + 1, 2) else { return nil }
            var om: Int64 = 0
            if index + 3 < bytes.count, bytes[index + 3] == 0x3A, let m = number(index + 4, 2) { om = m }
            offsetSeconds = sign * (oh * 3600 + om * 60)
        }
        let days = daysFromCivil(y, mo, d)
        let seconds = days * 86_400 + h * 3600 + mi * 60 + s - offsetSeconds
        return Date(timeIntervalSince1970: Double(seconds) + Double(micros) / 1_000_000)
    }

    // Howard Hinnant's civil-from-days algorithms.
    static func daysFromCivil(_ year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}

private func parseInteger(_ text: UnsafePointer<CChar>, _ length: Int) -> Int? {
    guard length > 0 else { return nil }
    var index = 0
    var negative = false
    if text[0] == 0x2D {
        negative = true
        index = 1
    }
    guard index < length else { return nil }
    var value = 0
    while index < length {
        let c = text[index]
        guard c >= 48, c <= 57 else { return nil }
        // Negative numbers accumulate downwards, so that Int.min (one beyond -Int.max) parses too.
        let (m, o1) = value.multipliedReportingOverflow(by: 10)
        let (a, o2) = negative ? m.subtractingReportingOverflow(Int(c - 48)) : m.addingReportingOverflow(Int(c - 48))
        guard !o1, !o2 else { return nil }
        value = a
        index += 1
    }
    return value
}

private func hexValue(_ c: UInt8) -> UInt8? {
    switch c {
    case 48...57: c - 48
    case 97...102: c - 87
    case 65...70: c - 55
    default: nil
    }
}
