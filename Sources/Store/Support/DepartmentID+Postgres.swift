import Authority
import Postgres

/// A department id is stored as its text, in `department`, `forward_to`, `delegatee` and the like; rows read it back
/// through the `RawRepresentable` decoding of `PostgresRow+Enums`.
extension DepartmentID: PostgresEncodable {
    public static var postgresType: UInt32 { String.postgresType }
    public var postgresText: String { rawValue }
}
