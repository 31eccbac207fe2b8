import ArgumentParser
import Foundation
import Protocol

/// The exit codes of `zkwallet`, `zksettle-admin` and `zksettle-server`: one table, stated
/// here once and printed in each tool's `--help` (`ExitStatus.table`) and in the README.
public enum ExitStatus: Int32, Sendable {
    /// Done. (`proof verify`: the proof is valid; `db verify`: no fault.)
    case success = 0
    /// Refused or not done; the message says why and what to do. (`proof verify`: the proof is
    /// invalid; `db verify`: the ledger has a fault.)
    case failure = 1
    /// What was named does not exist: the wallet, a transfer, batch, payout or nullifier.
    case notFound = 3
    /// Bad usage: an unknown command or option, or a value that cannot be used (an amount, an
    /// address, a URL, a file). ArgumentParser's own code (EX_USAGE), kept for every such case.
    case usage = 64
    /// Interrupted (Ctrl-C).
    case interrupted = 130

    public static let table = """
        EXIT CODES (the same for zkwallet, zksettle-admin and zksettle-server)
          0    done (proof verify: the proof is valid; db verify: no fault)
          1    failed: refused or not done; the message says why and what to do
               (proof verify: the proof is invalid; db verify: the ledger has a fault)
          3    not found: the wallet, transfer, batch, payout or nullifier named does not exist
          64   bad usage: an unknown command or option, or a value that cannot be used
          130  interrupted (Ctrl-C)
        """
}

/// An error that knows its exit code (`ToolMain` asks; any other error is `.failure`).
public protocol ExitStatusError: Error, CustomStringConvertible {
    var exitStatus: ExitStatus { get }
}

/// A failure already reported on standard error, leaving with its code.
public struct ReportedFailure: Error, Sendable {
    public let status: ExitStatus
    public init(_ status: ExitStatus) { self.status = status }
}

/// The `main` of each tool: parses, runs, and turns every error into one line
/// `error: …` on standard error and a code of `ExitStatus`. Usage errors keep
/// ArgumentParser's usage text and gain a "did you mean" for a mistyped subcommand.
public enum ToolMain {
    /// `hints`: words people type for a subcommand that has another name (`receive` → `address`).
    public static func run(_ root: any ParsableCommand.Type, hints: [String: String] = [:],
                           classify: (Error) -> ExitStatus? = { _ in nil }) -> Never {
        let arguments = Array(CommandLine.arguments.dropFirst())
        do {
            var command = try root.parseAsRoot(arguments)
            try command.run()
            exit(0)
        } catch {
            fail(error, root: root, arguments: arguments, hints: hints, classify: classify)
        }
    }

    public static func runAsync(_ root: any AsyncParsableCommand.Type, classify: (Error) -> ExitStatus? = { _ in nil }) async -> Never {
        let arguments = Array(CommandLine.arguments.dropFirst())
        do {
            var command = try root.parseAsRoot(arguments)
            if var async = command as? any AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
            exit(0)
        } catch {
            fail(error, root: root, arguments: arguments, hints: [:], classify: classify)
        }
    }

    /// Reports `error` (unless already reported) and exits with its code.
    public static func fail(_ error: Error, root: any ParsableCommand.Type, arguments: [String], hints: [String: String],
                            classify: (Error) -> ExitStatus?) -> Never {
        if let reported = error as? ReportedFailure { exit(reported.status.rawValue) }
        if let code = error as? ExitCode { exit(code.rawValue) }
        if let status = classify(error) ?? (error as? ExitStatusError)?.exitStatus {
            Terminal.note("error: " + DisplayText.escapedLines("\(error)"))
            exit(status.rawValue)
        }
        let code = root.exitCode(for: error)
        let message = root.fullMessage(for: error)
        if code == .success {  // --help, --version
            print(message)
            exit(0)
        }
        if code == .validationFailure {
            var text = message.hasPrefix("Error: ") ? "error: " + message.dropFirst(7) : message
            if let suggestion = suggestion(for: message, root: root, arguments: arguments, hints: hints) {
                text = text.replacingOccurrences(of: "\n", with: "\n\(suggestion)\n", options: [], range: text.range(of: "\n"))
            }
            Terminal.note(DisplayText.escapedLines(text))
            exit(ExitStatus.usage.rawValue)
        }
        Terminal.note("error: " + DisplayText.escapedLines(message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message))
        exit(ExitStatus.failure.rawValue)
    }

    /// "did you mean …" for an unexpected word where a subcommand was expected: the nearest
    /// subcommand name of the command the words before it chose (at most two edits away), or
    /// a hint's target.
    static func suggestion(for message: String, root: any ParsableCommand.Type, arguments: [String], hints: [String: String]) -> String? {
        guard let match = message.firstMatch(of: /Unexpected argument '([^']+)'/) else { return nil }
        let word = String(match.1)
        guard !word.hasPrefix("-") else { return nil }
        var command: any ParsableCommand.Type = root
        var path = [root._commandName]
        for arg in arguments {
            if arg == word { break }
            if let sub = command.configuration.subcommands.first(where: { $0._commandName == arg }) { command = sub; path.append(arg) }
        }
        let names = command.configuration.subcommands.map { $0._commandName }
        guard !names.isEmpty else { return nil }
        let lowered = word.lowercased()
        if path.count == 1 {
            for (typed, target) in hints where editDistance(lowered, typed) <= 2 {
                return "hint: to \(typed), use `\(root._commandName) \(target)`"
            }
        }
        let best = names.map { ($0, editDistance(lowered, $0)) }.min { $0.1 < $1.1 }
        guard let (name, distance) = best, distance <= min(2, max(1, name.count / 2)) else { return nil }
        return "hint: did you mean `\((path + [name]).joined(separator: " "))`?"
    }

    /// Edits (insert, delete, substitute, swap two neighbours) from `a` to `b`.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
            }
        }
        return d[a.count][b.count]
    }
}
