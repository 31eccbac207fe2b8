import Foundation
import Protocol

/// What the command-line tools (`zkwallet`, `zksettle-admin`) print, written once: JSON with
/// sorted keys, plain text tables, times, messages on standard error. Text that others wrote
/// (memos, recipients, anything a server sent) goes through `DisplayText` before it reaches a
/// terminal; JSON carries it intact.
public enum Terminal {
    /// One JSON value on standard output: sorted keys, indented, slashes unescaped.
    public static func printJSON(_ value: Any) {
        let data = (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]))
            ?? Data("{}".utf8)
        print(String(decoding: data, as: UTF8.self))
    }

    /// A plain text table: a header row (and a rule under it when `rule`), columns padded to
    /// their widest cell, the columns in `numeric` right-aligned. Cells are shown through
    /// `DisplayText.escaped`: a memo or a recipient cannot move the cursor, rewrite a line or
    /// reorder the row.
    public static func printTable(_ header: [String], _ rawRows: [[String]], numeric: Set<Int> = [], rule: Bool = false) {
        let rows = rawRows.map { $0.map(DisplayText.escaped) }
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in
                let pad = String(repeating: " ", count: max(0, widths[i] - c.count))
                return numeric.contains(i) ? pad + c : c + pad
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        print(line(header))
        if rule { print(line(widths.map { String(repeating: "-", count: $0) })) }
        for row in rows { print(line(row)) }
    }

    /// A line on standard error (progress, notes, errors: standard output stays the result).
    public static func note(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Whether standard error is a terminal (progress bars draw in place only there).
    public static var standardErrorIsTerminal: Bool { isatty(2) != 0 }

    /// Unix milliseconds as UTC, to the second: `2026-12-05 03:10:00`.
    public static func utcTime(_ ms: Int64) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.dateFormat = "yyyy-MM-dd HH:mm:ss"
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    /// Unix milliseconds as UTC ISO 8601, to the second: `2026-12-05T03:10:00Z`.
    public static func isoTime(_ ms: Int64) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }
}
