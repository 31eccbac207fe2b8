/// Text that came from someone else (a memo, a payout recipient, a server's error message),
/// made safe to show on a terminal.
///
/// A memo is written by the payer and a recipient string by whoever withdrew; a server's
/// message is written by the server. Shown raw, any of them could move the cursor, clear the
/// screen, rewrite an earlier line ("settled … 1000") or reorder what follows with Unicode
/// bidirectional overrides ("Trojan Source", CVE-2021-42574). So every control character
/// (C0, DEL, C1), every bidi embedding/override/isolate and the line/paragraph separators are
/// written as visible escapes, and a backslash as `\\` so that an escape in the output always
/// means an escape was made. JSON output needs none of this: its encoder escapes controls.
public enum DisplayText {
    /// `text` with every character that can change how a terminal shows the rest escaped:
    /// `\n`, `\r`, `\t`, `\\`, `\e` for ESC, and `\u{XXXX}` for the rest.
    public static func escaped(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{1B}": out += "\\e"
            default:
                if isUnsafe(scalar) {
                    out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    /// `escaped` line by line: our own messages keep their line breaks (a server's text inside
    /// them was escaped where it came in), every other control character is made visible.
    public static func escapedLines(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { escaped(String($0)) }.joined(separator: "\n")
    }

    /// Whether `text` shows as written (nothing `escaped` would change but backslashes).
    public static func isPlain(_ text: String) -> Bool {
        !text.unicodeScalars.contains(where: isUnsafe)
    }

    static func isUnsafe(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x00...0x1F, 0x7F...0x9F: return true          // C0, DEL, C1 (CSI is U+009B)
        case 0x200E, 0x200F, 0x061C: return true             // LRM, RLM, ALM
        case 0x202A...0x202E, 0x2066...0x2069: return true   // bidi embeddings, overrides, isolates
        case 0x2028, 0x2029: return true                     // line and paragraph separators
        default: return false
        }
    }
}
