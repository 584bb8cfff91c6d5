import Authority
import Foundation
import Postgres

/// The processing-control slip (form 06 of Circular 03/2025/TT-VPCP) of a dossier, as `motcua slip` prints it and
/// the officials' page `/dossiers/{code}/slip` shows it: every hand-over inside the departments, across
/// departments for interconnected procedures, with the verdict against the quota of the stage left.
public enum ProcessingSlip {
    public struct Line: Codable, Sendable, Hashable {
        public var step: Int
        public var round: Int
        public var line: Int
        public var department: String
        public var division: String
        public var action: String
        public var fromStage: String?
        public var fromOfficial: String?
        public var toStage: String?
        public var toOfficial: String?
        public var actedAs: String?
        public var reason: String?
        public var at: Date
        public var stageEnteredAt: Date?
        public var stageDueAt: Date?
        public var verdict: String?
    }

    /// The slip's lines of dossier `dossierId`, in order (step, round, line).
    public static func lines(of dossierId: String, in connection: PostgresConnection) throws -> [Line] {
        try StageStore.slip(dossierId, in: connection).map {
            Line(
                step: $0.step, round: $0.round, line: $0.line, department: $0.department.rawValue, division: $0.division,
                action: $0.action, fromStage: $0.fromStage, fromOfficial: $0.fromOfficial, toStage: $0.toStage,
                toOfficial: $0.toOfficial, actedAs: $0.actedAs, reason: $0.reason, at: $0.at,
                stageEnteredAt: $0.stageEnteredAt, stageDueAt: $0.stageDueAt, verdict: $0.verdict?.rawValue)
        }
    }

    /// "department / division name" (the division's id when the workflows do not name it).
    public static func unit(_ line: Line, workflows: [DepartmentID: DepartmentWorkflow]) -> String {
        let division = workflows[DepartmentID(line.department)]?.divisions.first { $0.id == line.division }
        return "\(line.department) / \(division?.name ?? line.division)"
    }

    /// How many stages finished late.
    public static func lateCount(_ lines: [Line]) -> Int {
        lines.filter { $0.verdict == StageVerdict.late.rawValue }.count
    }
}
