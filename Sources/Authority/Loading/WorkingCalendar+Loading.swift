import Foundation

extension WorkingCalendar {
    /// Loads the `vn-YYYY.yaml` files of a directory (normally `deploy/calendar`), validated against
    /// `calendar.schema.json` when `schemas` is given or found at `<directory>/../../schemas`.
    public static func load(from directory: URL, schemas: URL? = nil) throws(ValidationReport) -> WorkingCalendar {
        var report = ValidationReport()
        let prefix = directory.relativePath
        let schemaDirectory =
            schemas
            ?? directory.appendingPathComponent("..").appendingPathComponent("..").appendingPathComponent("schemas")
        var files: [String: String] = [:]
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        for name in names.sorted() where name.hasSuffix(".yaml") {
            if let text = try? String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8) {
                files["calendar/\(name)"] = text
            } else {
                report.error("\(prefix)/\(name)", 1, "cannot read the file as UTF-8 text")
            }
        }
        var schemaTexts: [String: String]?
        let schemaURL = schemaDirectory.appendingPathComponent("calendar.schema.json")
        if let text = try? String(contentsOf: schemaURL, encoding: .utf8) { schemaTexts = ["calendar": text] }
        let parent = (prefix as NSString).deletingLastPathComponent
        let grandparent = (parent as NSString).deletingLastPathComponent
        let schemaPrefix = schemas?.relativePath ?? (grandparent.isEmpty ? "schemas" : grandparent + "/schemas")
        var loader = BundleLoader(prefix: parent.isEmpty ? "." : parent, schemaPrefix: schemaPrefix, report: report)
        return try loader.loadCalendarOnly(files: files, schemas: schemaTexts)
    }
}
