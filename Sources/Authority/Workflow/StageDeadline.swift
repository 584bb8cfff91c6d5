import Foundation

/// When the coordinator escalates an open stage inside its department (issue 20), from the stage's due instant.
///
/// - ``headAt``: the stage is due soon — less than one working day left, from the close of the working day before
///   its due day (``StagePlan/dueSoonInstant(due:calendar:)``): the head of the division is told.
/// - ``directorAt``: the stage is still not handed over one further working day after its due instant — the close of
///   the first working day after its due day: the director is told.
///
/// Outside the loaded calendar, calendar days stand in for working days.
public struct StageDeadline: Sendable, Hashable {
    public var dueAt: Date
    public var headAt: Date
    public var directorAt: Date

    public init(dueAt: Date, headAt: Date, directorAt: Date) {
        self.dueAt = dueAt
        self.headAt = headAt
        self.directorAt = directorAt
    }

    public init(dueAt: Date, calendar: WorkingCalendar) {
        self.dueAt = dueAt
        headAt = (try? StagePlan.dueSoonInstant(due: dueAt, calendar: calendar)) ?? dueAt.addingTimeInterval(-86_400)
        directorAt = (try? Self.nextWorkingClose(after: dueAt, calendar: calendar)) ?? dueAt.addingTimeInterval(86_400)
    }

    /// This deadline after a pause of the step of `workingDays` working days (a supplement, a fee): the due
    /// instant moves to the same hour of the day ``DeadlinePolicy/moved(_:byWorkingDays:calendar:)`` moves its
    /// day to, as the step's due date moves; the escalation instants follow it.
    public func moved(byWorkingDays workingDays: Int, calendar: WorkingCalendar) -> StageDeadline {
        guard workingDays > 0 else { return self }
        return StageDeadline(
            dueAt: Self.moved(dueAt, byWorkingDays: workingDays, calendar: calendar), calendar: calendar)
    }

    /// A stage's due instant `due` after a pause of `workingDays` working days (as the coordinator moves the
    /// stage's deadline and the department's worker the stage's `due_at`): the same hour, on the day
    /// ``DeadlinePolicy/moved(_:byWorkingDays:calendar:)`` moves its day to.
    public static func moved(_ due: Date, byWorkingDays workingDays: Int, calendar: WorkingCalendar) -> Date {
        guard workingDays > 0 else { return due }
        let day = LocalDate(instant: due)
        let movedDay = DeadlinePolicy.moved(day, byWorkingDays: workingDays, calendar: calendar)
        return due.addingTimeInterval(Double(movedDay.dayNumber - day.dayNumber) * 86_400)
    }

    /// The instant `level` fires at.
    public func instant(of level: StageEscalationLevel) -> Date {
        switch level {
        case .head: headAt
        case .director: directorAt
        }
    }

    /// The earliest instant of a level not in `fired` (a bit set of ``StageEscalationLevel/bit``), nil when none.
    public func nextFire(fired: Int) -> Date? {
        StageEscalationLevel.allCases.filter { fired & $0.bit == 0 }.map(instant(of:)).min()
    }

    private static func nextWorkingClose(after due: Date, calendar: WorkingCalendar) throws(CalendarError) -> Date {
        let day = try calendar.addWorkingDays(1, to: LocalDate(instant: due))
        return day.instant(hour: StagePlan.closingHour)
    }
}

/// The two in-department escalation levels of a stage: first the head of the division, then the director.
public enum StageEscalationLevel: String, Sendable, Hashable, CaseIterable {
    case head
    case director

    /// Its bit in `stage_deadlines.fired`.
    public var bit: Int {
        switch self {
        case .head: 1
        case .director: 2
        }
    }

    /// The role told at this level.
    public var recipient: StageRole {
        switch self {
        case .head: .headOfDivision
        case .director: .director
        }
    }

    /// Whether this level is sent for a stage of `role`: only to a leader above the stage's role (a head of
    /// division's stage goes to the director only; a director's stage has nobody above inside the department).
    /// An unknown role (a stage no longer in the workflow) is treated as a specialist's.
    public func applies(to role: StageRole?) -> Bool {
        recipient > (role ?? .specialist)
    }
}
