import Foundation
import Postgres

/// The sign-ins of the officials' pages (migrations 026, 029): each assertion's nonce is recorded once, and deleted
/// an hour after the assertion expired.
package enum SignInStore {
    /// How long an expired assertion's nonce is kept before the next sign-in deletes it.
    package static let keptAfterExpiry = "1 hour"

    /// Records `nonce` for `official`; false when it was recorded already (a replayed assertion). Runs in a
    /// read-write transaction of its own (the pages' connections are read-only by default).
    package static func recordOnce(
        nonce: String, official: String, expiresAt: Date, in connection: PostgresConnection
    ) throws -> Bool {
        try connection.executeScript("BEGIN READ WRITE")
        do {
            // The table stays small: assertions expired an hour ago (a margin for the server's clock against the
            // database's) are deleted; a younger one must stay, to be refused as replayed (migration 029's trigger
            // refuses deleting one that has not expired).
            try connection.execute(
                """
                DELETE FROM official_sign_ins
                WHERE expires_at < now() - \(SignInStore.keptAfterExpiry, as: "interval")
                """)
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
