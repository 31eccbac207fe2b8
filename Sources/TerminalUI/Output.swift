import ArgumentParser
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
        if header.contains(where: { !$0.isEmpty }) { print(line(header)) }  // no header: a list of name/value rows
        if rule { print(line(widths.map { String(repeating: "-", count: $0) })) }
        for row in rows { print(line(row)) }
    }

    /// A line on standard error (progress, notes, errors: standard output stays the result).
    public static func note(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Whether standard error is a terminal (progress bars draw in place only there).
    public static var standardErrorIsTerminal: Bool { isatty(2) != 0 }

    /// One CSV field (RFC 4180): quoted, with quotes doubled, when it holds a comma, a quote or
    /// a line break.
    public static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// A JSON value that may be absent: the value, or `null`.
    public static func nullable<T>(_ value: T?) -> Any { value.map { $0 as Any } ?? NSNull() }

    /// A long identifier cut in the middle for a table or a sentence: `zks1q98r…uez5`
    /// (`--wide` shows it whole). Short ones are returned as they are.
    public static func shortened(_ text: String, head: Int = 8, tail: Int = 4) -> String {
        text.count <= head + tail + 3 ? text : String(text.prefix(head)) + "…" + String(text.suffix(tail))
    }

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

/// A time given on the command line: ISO 8601 (`2026-11-22T10:00:00Z`, `2026-11-22`) or a
/// duration back from now (`90s`, `15m`, `2h`, `7d`). Returns Unix milliseconds; anything else
/// is bad usage naming `option`.
public func parseTime(_ text: String, option: String = "--since") throws -> Int64 {
    let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
    if let unit = text.last, let scale = units[unit], let n = Double(text.dropLast()), n >= 0 {
        return Int64((Date().timeIntervalSince1970 - n * scale) * 1000)
    }
    let full = ISO8601DateFormatter()
    if let d = full.date(from: text) { return Int64(d.timeIntervalSince1970 * 1000) }
    let day = ISO8601DateFormatter()
    day.formatOptions = [.withFullDate]
    if let d = day.date(from: text) { return Int64(d.timeIntervalSince1970 * 1000) }
    throw ValidationError("\(option) \(text): expected an ISO 8601 time (2026-11-22T10:00:00Z, 2026-11-22) or a duration back from now (15m, 2h, 7d)")
}
