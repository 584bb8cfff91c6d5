import Foundation
import Postgres

/// The sign-ins of the officials' pages (migration 026): each assertion's nonce is recorded once.
package enum SignInStore {
    /// Records `nonce` for `official`; false when it was recorded already (a replayed assertion). Runs in a
    /// read-write transaction of its own (the pages' connections are read-only by default).
    package static func recordOnce(
        nonce: String, official: String, expiresAt: Date, in connection: PostgresConnection
    ) throws -> Bool {
        try connection.executeScript("BEGIN READ WRITE")
        do {
            let inserted = try connection.query(
                """
                INSERT INTO official_sign_ins (nonce, official, expires_at)
                VALUES (\(nonce), \(official), \(expiresAt, as: "timestamptz"))
                ON CONFLICT (nonce) DO NOTHING RETURNING 1 AS recorded
                """)
            try connection.executeScript("COMMIT")
            return !inserted.isEmpty
        } catch {
            try? connection.executeScript("ROLLBACK")
            throw error
        }
    }
}
