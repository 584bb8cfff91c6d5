import Foundation

extension DeadlinePolicy {
    /// The working days a pause from `since` to `until` counts: from the local day the pause started, inclusive, to
    /// the day it ended, exclusive — as ``WorkingCalendar/dueDate(receivedAt:limit:pauses:)`` counts. Beyond the
    /// loaded calendar: calendar days.
    ///
    /// One calculation for every clock that stops with the step: the step's and the procedure's deadlines, and the
    /// open stage's inside the department (``StageDeadline/moved(byWorkingDays:calendar:)``).
    public static func pausedWorkingDays(since: Date, until: Date, calendar: WorkingCalendar) -> Int {
        let started = localDay(since)
        let ended = localDay(until)
        guard ended > started else { return 0 }
        return (try? calendar.workingDays(from: started.adding(days: -1), to: ended.adding(days: -1)))
            ?? Int(ended.dayNumber - started.dayNumber)
    }

    /// `due` moved later by `workingDays` (a pause's): beyond the loaded calendar, by calendar days.
    public static func moved(_ due: LocalDate, byWorkingDays workingDays: Int, calendar: WorkingCalendar) -> LocalDate {
        (try? calendar.addWorkingDays(workingDays, to: due)) ?? due.adding(days: workingDays)
    }
}
