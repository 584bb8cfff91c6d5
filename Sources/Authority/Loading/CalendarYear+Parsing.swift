extension CalendarYear {
    /// Reads a calendar file already validated against its schema; semantic problems go to `report`.
    static func parse(_ root: YAMLNode, file: String, report: inout ValidationReport) -> CalendarYear? {
        guard let yearValue = root["year"]?.int else {
            report.error(file, root.line, "missing year")
            return nil
        }
        let year = Int(yearValue)
        if let name = file.split(separator: "/").last, name != "vn-\(year).yaml" {
            report.error(
                file, root["year"]?.line ?? 1, "year \(year) does not match the file name (expected vn-\(year).yaml)")
        }
        if let tz = root["timezone"]?.string, tz != "Asia/Ho_Chi_Minh" {
            report.error(file, root["timezone"]?.line ?? 1, "timezone must be Asia/Ho_Chi_Minh, got \"\(tz)\"")
        }
        func date(_ node: YAMLNode?, _ what: String, line: Int) -> LocalDate? {
            guard let node else { return nil }
            guard let text = node.string, let d = LocalDate(text) else {
                report.error(file, node.line, "\(what): expected a date YYYY-MM-DD, got \(node.brief)")
                return nil
            }
            if d.year != year {
                report.error(file, node.line, "\(what) \(d) is outside the calendar's year \(year)")
                return nil
            }
            return d
        }
        /// Whether an entry is applied. One marked `verified: false` (its instrument was not found) is applied only
        /// with the operator's `confirmed` (date, by, basis): a day off exists by law, and one that may not exist
        /// must not lengthen the time the administration has by law (deploy/README-data.md, "Calendars"). Either
        /// way `rules check` warns.
        func applies(_ entry: YAMLNode, _ what: String, counted: String, otherwise: String) -> Bool {
            guard entry["verified"]?.bool == false else { return true }
            let instrument = entry["instrument"]?["number"]?.string ?? "no instrument"
            if let confirmed = entry["confirmed"] {
                report.warning(
                    file, entry.line,
                    "\(what) is not verified against its instrument (\(instrument)); \(counted) on the operator's confirmation of "
                        + "\(confirmed["date"]?.string ?? "?") by \(confirmed["by"]?.string ?? "?")")
                return true
            }
            report.warning(
                file, entry.line,
                "\(what) is not verified against its instrument (\(instrument)) and not confirmed: \(otherwise); confirm it "
                    + "(`confirmed: {date, by, basis}`) once its instrument is found, or remove it")
            return false
        }
        let sourceNode = root["source"]
        let source = Source(
            notice: sourceNode?["notice"]?.string ?? "",
            date: sourceNode?["date"]?.string.flatMap { LocalDate($0) } ?? LocalDate(dayNumber: 0),
            issuer: sourceNode?["issuer"]?.string ?? "")
        var holidays: [Holiday] = []
        var daysOff: [LocalDate: Int] = [:]
        for entry in root["holidays"]?.array ?? [] {
            let name = entry["name"]?.string ?? ""
            let kind = entry["kind"]?.string.flatMap(Holiday.Kind.init(rawValue:)) ?? .holiday
            let from: LocalDate?
            let to: LocalDate?
            if entry["date"] != nil {
                from = date(entry["date"], "holiday date", line: entry.line)
                to = from
            } else {
                from = date(entry["from"], "holiday start", line: entry.line)
                to = date(entry["to"], "holiday end", line: entry.line)
            }
            guard let from, let to else { continue }
            let days = from == to ? "\(from)" : "\(from)–\(to)"
            guard applies(entry, "day off \"\(name)\" (\(days))", counted: "counted as a day off",
                          otherwise: "counted as a working day: due dates run over it")
            else { continue }
            if to < from {
                report.error(file, entry.line, "holiday \"\(name)\" ends (\(to)) before it starts (\(from))")
                continue
            }
            for n in from.dayNumber...to.dayNumber {
                let day = LocalDate(dayNumber: n)
                if let previous = daysOff[day] {
                    report.error(file, entry.line, "\(day) is already a day off (line \(previous))")
                }
                daysOff[day] = entry.line
            }
            if kind == .compensatory,
                (from.dayNumber...to.dayNumber).contains(where: { LocalDate(dayNumber: $0).isWeekend })
            {
                report.error(
                    file, entry.line,
                    "compensatory day off \"\(name)\" falls on a weekend: compensatory days are Monday–Friday")
            }
            holidays.append(Holiday(from: from, to: to, name: name, kind: kind))
        }
        var saturdays: [WorkingSaturday] = []
        var seenSaturdays = Set<LocalDate>()
        for entry in root["workingSaturdays"]?.array ?? [] {
            guard let day = date(entry["date"], "working Saturday", line: entry.line) else { continue }
            guard applies(entry, "the swap of working Saturday \(day)", counted: "made",
                          otherwise: "not made: \(day) stays a day off and the weekday it replaces a working day")
            else { continue }
            if day.weekday != 6 {
                report.error(file, entry.line, "working Saturday \(day) is not a Saturday")
            }
            if daysOff[day] != nil {
                report.error(file, entry.line, "working Saturday \(day) is also listed as a day off")
            }
            if !seenSaturdays.insert(day).inserted {
                report.error(file, entry.line, "working Saturday \(day) is listed twice")
            }
            var replaces: LocalDate?
            if let node = entry["replaces"], let text = node.string, let r = LocalDate(text) {
                replaces = r
                if r.isWeekend {
                    report.error(file, node.line, "\(day) replaces \(r), which is a weekend day")
                }
            }
            saturdays.append(WorkingSaturday(date: day, replaces: replaces))
        }
        return CalendarYear(year: year, source: source, holidays: holidays, workingSaturdays: saturdays)
    }
}
