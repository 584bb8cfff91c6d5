import Foundation
import Postgres

/// Operators' view of parked outbox rows and their two decisions on one: retry it or discard it.
///
/// A parked row holds back the later unsent rows of its topic and key (``OutboxRelay``). A retry clears its
/// `parked_at`: its relay publishes it within seconds, and once it is sent the rows held behind it follow (a row
/// refused again is parked again). A discard sets `discarded_at`: the row is never published, and the rows held
/// behind it follow without it. Each decision is recorded in `outbox_actions` (who, when, why, and why the row had
/// been parked); rows are never deleted.
public enum OutboxParking {
    /// A parked row, with how many rows of its key wait behind it.
    public struct Parked: Sendable {
        public var id: Int64
        public var source: String
        public var topic: String
        public var key: String
        public var type: String
        public var length: Int
        public var parkedAt: Date
        public var reason: String
        public var heldBehind: Int
    }

    public enum Action: String, Sendable {
        case retry
        case discard
    }

    /// A decision that cannot be taken on this row, and why.
    public struct Refusal: Error, CustomStringConvertible {
        public var description: String
    }

    /// Parked rows (of `source`, or every source), oldest first.
    public static func parked(source: String? = nil, on connection: PostgresConnection) throws -> [Parked] {
        try connection.query(
            """
            SELECT p.id, p.source, p.topic, p.key, p.ce_type, length(p.payload) AS length, p.parked_at, p.park_reason,
                (SELECT count(*) FROM outbox h
                 WHERE h.source = p.source AND h.topic = p.topic AND h.key = p.key AND h.id > p.id
                     AND h.sent_at IS NULL AND h.parked_at IS NULL AND h.discarded_at IS NULL) AS held
            FROM outbox p
            WHERE p.parked_at IS NOT NULL AND p.sent_at IS NULL AND p.discarded_at IS NULL
                AND ($1::text IS NULL OR p.source = $1)
            ORDER BY p.id
            """, [source]
        ).map { row in
            Parked(
                id: try row.decode(Int64.self, "id"), source: try row.decode(String.self, "source"),
                topic: try row.decode(String.self, "topic"), key: try row.decode(String.self, "key"),
                type: try row.decode(String.self, "ce_type"), length: try row.decode(Int.self, "length"),
                parkedAt: try row.decode(Date.self, "parked_at"),
                reason: try row.decodeIfPresent(String.self, "park_reason") ?? "",
                heldBehind: try row.decode(Int.self, "held"))
        }
    }

    /// Records `action` on parked row `id` by `operator` for `reason`; returns the row as it was. Throws
    /// ``Refusal`` when the row does not exist, was sent, was discarded, or is not parked.
    @discardableResult
    public static func act(
        _ action: Action, on id: Int64, operator who: String, reason: String, connection: PostgresConnection
    ) throws -> Parked {
        guard !who.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw Refusal(description: "the operator is not named: say who decides (--by NAME)")
        }
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw Refusal(description: "the reason is empty: say why the row is \(action == .retry ? "retried" : "discarded")")
        }
        return try connection.transaction { tx in
            let rows = try tx.query(
                """
                SELECT id, source, topic, key, ce_type, length(payload) AS length, parked_at, park_reason, sent_at,
                    discarded_at
                FROM outbox WHERE id = $1 FOR UPDATE
                """, [id])
            guard let row = rows.first else {
                throw Refusal(description: "there is no outbox row \(id): list the parked rows with `motcua outbox parked`")
            }
            if try row.decodeIfPresent(Date.self, "sent_at") != nil {
                throw Refusal(description: "outbox row \(id) was already sent: nothing to do")
            }
            if let discarded = try row.decodeIfPresent(Date.self, "discarded_at") {
                throw Refusal(description: "outbox row \(id) was discarded at \(discarded): it cannot be \(action == .retry ? "retried" : "discarded again"); outbox_actions says who and why")
            }
            guard let parkedAt = try row.decodeIfPresent(Date.self, "parked_at") else {
                throw Refusal(description: "outbox row \(id) is not parked (its relay publishes it): nothing to do")
            }
            let parkReason = try row.decodeIfPresent(String.self, "park_reason") ?? ""
            let before = Parked(
                id: id, source: try row.decode(String.self, "source"), topic: try row.decode(String.self, "topic"),
                key: try row.decode(String.self, "key"), type: try row.decode(String.self, "ce_type"),
                length: try row.decode(Int.self, "length"), parkedAt: parkedAt, reason: parkReason,
                heldBehind: try tx.query(
                    """
                    SELECT count(*) AS n FROM outbox h, outbox p
                    WHERE p.id = $1 AND h.source = p.source AND h.topic = p.topic AND h.key = p.key AND h.id > p.id
                        AND h.sent_at IS NULL AND h.parked_at IS NULL AND h.discarded_at IS NULL
                    """, [id])[0].decode(Int.self, "n"))
            switch action {
            case .retry:
                try tx.execute("UPDATE outbox SET parked_at = NULL, park_reason = NULL WHERE id = $1", [id])
            case .discard:
                try tx.execute("UPDATE outbox SET discarded_at = now() WHERE id = $1", [id])
            }
            try tx.execute(
                """
                INSERT INTO outbox_actions (outbox_id, action, operator, reason, park_reason)
                VALUES ($1, $2, $3, $4, $5)
                """, [id, action.rawValue, who, reason, parkReason])
            return before
        }
    }

    /// Whether row `id` was sent (for waiting on a retry).
    public static func isSent(_ id: Int64, on connection: PostgresConnection) throws -> Bool {
        try connection.query("SELECT sent_at IS NOT NULL AS sent FROM outbox WHERE id = $1", [id]).first?
            .decode(Bool.self, "sent") ?? false
    }
}
