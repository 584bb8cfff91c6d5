import Authority
import Foundation

/// Small helpers for the server-rendered pages: escaping, the page frame and local times.
///
/// Every piece of text that goes into a page goes through ``escape(_:)``; the pages build no markup from input
/// any other way.
public enum HTML {
    /// Escapes text for HTML element content and quoted attribute values.
    public static func escape(_ text: some StringProtocol) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    /// A whole page: UTF-8, phone viewport, a small style sheet, and a refresh every `refreshSeconds` if given.
    /// `title` is text (escaped here); `body` is markup the caller built with escaped text.
    public static func page(title: String, refreshSeconds: Int? = nil, body: String) -> String {
        var head = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">

            """
        if let refreshSeconds { head += "<meta http-equiv=\"refresh\" content=\"\(refreshSeconds)\">\n" }
        head += "<title>\(escape(title))</title>\n<style>\(style)</style>\n</head>\n<body>\n"
        return head + body + "\n</body>\n</html>\n"
    }

    /// Readable from 320 px up: system font, tables that shrink (compact cells, wrapped headers) and scroll
    /// sideways inside their box rather than widening the page.
    static let style = """
        body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;padding:10px;max-width:960px;\
        color:#1b1f23;background:#fff;line-height:1.4;font-size:15px}
        h1{font-size:1.3em;margin:.2em 0 .4em}h2{font-size:1.1em;margin:1.2em 0 .4em}
        p.meta{color:#57606a;font-size:.85em;margin:.2em 0}
        .scroll{overflow-x:auto;max-width:100%}
        table{border-collapse:collapse;width:100%;font-size:.8em}
        th,td{border-bottom:1px solid #d0d7de;padding:4px 2px;text-align:right;vertical-align:top}
        th{background:#f6f8fa;font-weight:600;white-space:normal}
        th:first-child,td:first-child{text-align:left;padding-right:4px}
        @media (max-width:420px){body{padding:8px;font-size:14px}table{font-size:.78em}}
        td.num{font-variant-numeric:tabular-nums;white-space:nowrap}
        tfoot td{font-weight:600}
        dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 12px;margin:0}
        dt{color:#57606a}dd{margin:0;word-break:break-word}
        .late{color:#b42318;font-weight:600}.ok{color:#1a7f37}
        ol.timeline{padding-left:1.2em}ol.timeline li{margin:.2em 0}
        code{font-size:.95em}
        """

    /// `2026-11-27 09:30` in Hanoi time (UTC+7, no daylight saving).
    public static func localTime(_ instant: Date) -> String {
        LocalDateTime(instant: instant).minuteText
    }

    /// ISO-8601 with the Hanoi offset: `2026-11-27T09:30:00+07:00`.
    public static func localISO(_ instant: Date) -> String {
        ISO8601Instant.formatLocal(instant)
    }
}
