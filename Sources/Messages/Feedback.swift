import Authority
import Foundation

/// The applicant's rating of a decided dossier's handling (type ``MessageType/rate``, on the department topic of
/// the procedure's owner), taken by a channel (the portal's service key, a one-stop desk official) and signed by
/// it. Once per dossier, after the result. Always signed.
public struct Rating: Codable, Sendable, Hashable {
    /// What the applicant scores, each 1 (very dissatisfied) to 5 (very satisfied).
    public enum Criterion: String, Codable, Sendable, Hashable, CaseIterable {
        /// Thời gian giải quyết.
        case timeliness
        /// Thái độ của cán bộ.
        case attitude
        /// Hướng dẫn, công khai thủ tục.
        case guidance
        /// Kết quả giải quyết.
        case result
    }

    public var commandId: UUID
    public var dossierId: String
    /// Every criterion, 1 to 5.
    public var scores: [String: Int]
    public var at: Date
    public var signature: CommandSignature?

    public init(commandId: UUID, dossierId: String, scores: [Criterion: Int], at: Date) {
        self.commandId = commandId
        self.dossierId = dossierId
        self.scores = Dictionary(uniqueKeysWithValues: scores.map { ($0.key.rawValue, $0.value) })
        self.at = at
    }

    /// Why the scores cannot be recorded, or nil: every criterion once, each 1 to 5, nothing else.
    public var problem: String? {
        let known = Set(Criterion.allCases.map(\.rawValue))
        let unknown = scores.keys.filter { !known.contains($0) }.sorted()
        if !unknown.isEmpty { return "unknown criteria: \(unknown.joined(separator: ", "))" }
        let missing = Criterion.allCases.map(\.rawValue).filter { scores[$0] == nil }
        if !missing.isEmpty { return "every criterion is scored; missing: \(missing.joined(separator: ", "))" }
        if let bad = scores.sorted(by: { $0.key < $1.key }).first(where: { !(1...5).contains($0.value) }) {
            return "\(bad.key) is scored \(bad.value); scores are 1 to 5"
        }
        return nil
    }
}

/// A complaint (phản ánh, kiến nghị) about a dossier's handling, recorded by a channel (type
/// ``MessageType/complain``), signed by it. Its category only — never the complainant's words, which may hold
/// personal data and stay with the channel under `reference`.
public struct Complaint: Codable, Sendable, Hashable {
    public enum Category: String, Codable, Sendable, Hashable, CaseIterable {
        case late
        case attitude
        case fees
        case result
        case other
    }

    public var commandId: UUID
    public var dossierId: String
    public var category: Category
    /// The channel's own reference of the complaint (1–64 of `A–Z a–z 0–9 . _ / -`).
    public var reference: String
    public var at: Date
    public var signature: CommandSignature?

    public init(commandId: UUID, dossierId: String, category: Category, reference: String, at: Date) {
        self.commandId = commandId
        self.dossierId = dossierId
        self.category = category
        self.reference = reference
        self.at = at
    }
}
