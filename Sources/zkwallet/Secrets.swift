import Foundation
import Protocol
import SettlementClient
import Wallet

/// Secrets reach the wallet from a terminal prompt, a file or the environment, never from the
/// command line (where `ps` and shell history show them to others).
enum Secrets {
    /// Reads one line from the controlling terminal with echo off; nil when there is no
    /// terminal. Ctrl-C while typing restores echo before the process ends.
    static func readHidden(_ prompt: String) throws -> String? {
        let fd = open("/dev/tty", O_RDWR | O_NOCTTY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var saved = termios()
        guard tcgetattr(fd, &saved) == 0 else { return nil }
        var quiet = saved
        quiet.c_lflag &= ~tcflag_t(ECHO)
        quiet.c_lflag |= tcflag_t(ECHONL)
        _ = prompt.withCString { write(fd, $0, strlen($0)) }
        guard tcsetattr(fd, TCSAFLUSH, &quiet) == 0 else { return nil }
        TerminalRestore.arm(fd: fd, saved: saved)
        defer { TerminalRestore.disarm(); _ = tcsetattr(fd, TCSAFLUSH, &saved) }
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while read(fd, &byte, 1) == 1, byte != UInt8(ascii: "\n") {
            line.append(byte)
            if line.count > 4096 { throw WalletError("the passphrase is longer than 4096 bytes") }
        }
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        return String(decoding: line, as: UTF8.self)
    }

    /// Asks a yes/no question on the terminal; true only for "y" or "yes".
    static func confirm(_ prompt: String) -> Bool {
        let fd = open("/dev/tty", O_RDWR | O_NOCTTY)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        _ = prompt.withCString { write(fd, $0, strlen($0)) }
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while read(fd, &byte, 1) == 1, byte != UInt8(ascii: "\n"), line.count < 64 { line.append(byte) }
        let answer = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespaces).lowercased()
        return answer == "y" || answer == "yes"
    }

    /// Whether a person is at the keyboard (standard input and error are a terminal).
    static var interactive: Bool { isatty(0) == 1 && isatty(2) == 1 }

    /// A new key file's passphrase, asked twice on a terminal; "" means none.
    static func newPassphrase() throws -> String {
        while true {
            guard let first = try readHidden("passphrase for the new key file (empty for none): ") else { return "" }
            if first.isEmpty { return "" }
            guard let second = try readHidden("the same passphrase again: ") else { return "" }
            if first == second { return first }
            printToStderr("the two passphrases differ; try again (Ctrl-C to stop)")
        }
    }

    /// The secret given by `--NAME-file FILE` or the environment variable `env`, in that order.
    /// A file's trailing newline is dropped; a file others can read draws a warning.
    static func fromFileOrEnvironment(file: String?, env: String, option: String) throws -> String? {
        if let file {
            let url = URL(fileURLWithPath: file)
            guard let data = FileManager.default.contents(atPath: url.path) else {
                throw WalletError("\(option) \(file): cannot read the file")
            }
            var st = stat()
            if stat(url.path, &st) == 0, st.st_mode & 0o077 != 0 {
                printToStderr("warning: \(file) can be read by other users (chmod 600 it)")
            }
            let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty else { throw WalletError("\(option) \(file): the file is empty") }
            return text
        }
        if let v = ProcessInfo.processInfo.environment[env], !v.isEmpty { return v }
        return nil
    }
}

/// Restores the terminal's echo if the process is interrupted while a passphrase is typed.
private enum TerminalRestore {
    nonisolated(unsafe) static var fd: Int32 = -1
    nonisolated(unsafe) static var saved = termios()

    /// The SIGINT disposition before `arm` (the wallet's own `Interrupt` report), put back by `disarm`.
    nonisolated(unsafe) static var previous: sighandler_t?

    static func arm(fd: Int32, saved: termios) {
        Self.saved = saved
        Self.fd = fd
        previous = signal(SIGINT) { _ in
            if TerminalRestore.fd >= 0 { _ = tcsetattr(TerminalRestore.fd, TCSANOW, &TerminalRestore.saved) }
            _ = write(2, "\ncancelled\n", 11)
            _exit(130)
        }
    }

    static func disarm() {
        signal(SIGINT, previous ?? SIG_DFL)
        fd = -1
    }
}
