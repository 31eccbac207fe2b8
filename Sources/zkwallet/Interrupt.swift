import Dispatch
import Foundation
import TerminalUI

/// Ctrl-C (issue 19, point 3): the wallet says what state it leaves things in, on a line of
/// its own (after any progress bar), and exits 130. The payment flow keeps `state` current
/// (`PeerWallet.phase`); before any payment began there is nothing to say but "cancelled".
enum Interrupt {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var state: String?
    nonisolated(unsafe) private static var source: DispatchSourceSignal?

    static func set(_ text: String) { lock.withLock { state = text } }

    /// Replaces the default SIGINT (die mid-line, say nothing) with the report.
    static func install() {
        signal(SIGINT, SIG_IGN)
        // A parent may have started this process with SIGINT blocked; the report needs it.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        let s = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        s.setEventHandler {
            let text = lock.withLock { state }
            // A bar may be drawn in place: end its line first.
            let prefix = Terminal.standardErrorIsTerminal ? "\r\u{1B}[K" : ""
            FileHandle.standardError.write(Data((prefix + "cancelled" + (text.map { ": " + $0 } ?? "") + "\n").utf8))
            exit(ExitStatus.interrupted.rawValue)
        }
        s.resume()
        lock.withLock { source = s }
    }
}
