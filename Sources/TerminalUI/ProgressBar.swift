import Foundation

/// A one-line progress bar on standard error: drawn in place on a terminal, and otherwise one
/// line when it starts (through `log`) and one when it ends, so logs stay readable. The one bar
/// of both tools: the wallet's proving and key checks, the admin tool's audits.
public final class ProgressBar: @unchecked Sendable {
    private let lock = NSLock()
    private let log: (String) -> Void
    private let inPlace: Bool
    private let title: String
    private let start = Date()
    private var started = false
    private var lastDrawn = ""

    public init(title: String, inPlace: Bool = Terminal.standardErrorIsTerminal, log: @escaping (String) -> Void = Terminal.note) {
        self.title = title; self.inPlace = inPlace; self.log = log
    }

    /// Shows `fraction` (0…1) done, with a short detail (a stage, or "412/1000").
    public func update(_ fraction: Double, detail: String = "") {
        lock.lock(); defer { lock.unlock() }
        let p = min(1, max(0, fraction))
        let width = 30, filled = Int(p * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let line = "\(title) [\(bar)] \(Int(p * 100))%" + (detail.isEmpty ? "" : " \(detail)")
        if inPlace {
            guard line != lastDrawn else { return }
            lastDrawn = line
            // Clear to the end of the line: a shorter line never leaves the tail of a longer one.
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
        } else if !started {
            log(line)
        }
        started = true
    }

    /// Ends the bar with a summary line (`summary` and the seconds since the bar was made).
    public func finish(_ summary: String) {
        lock.lock(); defer { lock.unlock() }
        let line = "\(summary) " + String(format: "%.2f s", Date().timeIntervalSince(start))
        if inPlace { FileHandle.standardError.write(Data(("\r\u{1B}[K" + line + "\n").utf8)) } else { log(line) }
    }

    /// Clears the bar's line without a summary (the work failed or stopped; its message follows).
    public func abandon() {
        lock.lock(); defer { lock.unlock() }
        if inPlace && started { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
