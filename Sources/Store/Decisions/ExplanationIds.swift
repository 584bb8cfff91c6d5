import Foundation
import Postgres
import Synchronization

/// The ids of stored explanations by text, learned from `motcua_explanation_ids`. Explanations are append-only, so
/// an id once committed stays right; ids learned in a transaction are used only after it committed
/// (``committed()``), since a rolled-back insert leaves no row behind. Holds at most `capacity` ids, then starts over.
package final class ExplanationIds: Sendable {
    private let state = Mutex<(known: [TextKey: Int64], learned: [TextKey: Int64])>(([:], [:]))

    /// A text as a dictionary key by its UTF-8 bytes. `String`'s own hashing normalizes non-ASCII text (Unicode
    /// canonical equivalence) on every lookup: ~1,300 bytes of explanation JSON, with Vietnamese in it, for each
    /// kind of each batch. The database tells texts apart by their bytes too.
    struct TextKey: Hashable {
        let text: String
        static func == (a: TextKey, b: TextKey) -> Bool {
            var a = a.text
            var b = b.text
            return a.withUTF8 { x in
                b.withUTF8 { y in x.count == y.count && (x.isEmpty || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0) }
            }
        }
        func hash(into hasher: inout Hasher) {
            var text = text
            text.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        }
    }
    package let capacity: Int

    package init(capacity: Int = 4_096) {
        self.capacity = capacity
    }

    /// The ids of `texts`, in order: those known without a query, the others stored or looked up in `tx` (one
    /// call for all of them), to be known once `tx` commits. Call ``begin()`` first, once per transaction.
    package func ids(of texts: [String], in tx: PostgresConnection) throws -> [Int64] {
        var ids = [Int64](repeating: 0, count: texts.count)
        var missing: [Int] = []
        state.withLock { state in
            for (index, text) in texts.enumerated() {
                if let id = state.known[TextKey(text: text)] { ids[index] = id } else { missing.append(index) }
            }
        }
        guard !missing.isEmpty else { return ids }
        let stored = try DecisionRow.storeExplanations(missing.map { texts[$0] }, in: tx)
        var learned: [TextKey: Int64] = [:]
        for (index, id) in zip(missing, stored) {
            ids[index] = id
            learned[TextKey(text: texts[index])] = id
        }
        state.withLock { $0.learned = learned }
        return ids
    }

    /// A write (and its transaction) begins: what an earlier one learned is dropped, whatever became of it.
    package func begin() {
        state.withLock { $0.learned = [:] }
    }

    /// The transaction of the write since the last ``begin()`` committed: what it learned is known from now on.
    package func committed() {
        state.withLock { state in
            guard !state.learned.isEmpty else { return }
            if state.known.count + state.learned.count > capacity { state.known = [:] }
            state.known.merge(state.learned) { _, new in new }
            state.learned = [:]
        }
    }

    /// Forgets every id (a new connection, or a cited id the database no longer has).
    package func forget() {
        state.withLock { $0 = ([:], [:]) }
    }

    /// How many ids are known.
    package var count: Int { state.withLock { $0.known.count } }
}

