/// Stored text made safe to print on an operator's terminal: no control sequence (ESC, OSC, CSI, BEL, carriage
/// return, backspace, a new line that fakes another row) and no bidirectional override reaches it. Each such
/// character is shown as a visible escape (`\u{1B}`), so nothing is hidden either.
public enum TerminalText {
    public static func escape(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isUnsafe) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if isUnsafe(scalar) {
                out.append(contentsOf: "\\u{\(String(scalar.value, radix: 16, uppercase: true))}".unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// C0 and C1 control characters (tab and new line included: a printed field stays on its line) and the Unicode
    /// directional formatting characters (embeddings, overrides, isolates, marks).
    static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: true
        case 0x200E, 0x200F, 0x061C, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }
}
