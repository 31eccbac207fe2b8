import Foundation
import TerminalUI
import Wallet

/// A long step of the wallet drawn in place on the terminal (stderr): the tools' one progress
/// bar (`TerminalUI.ProgressBar`) with the stage for proving and checking the proving key,
/// bytes for downloading it. On an error the line is cleared and the error follows.
final class TerminalStepProgress: StepProgress, @unchecked Sendable {
    private let step: LongStep
    private let bar: TerminalUI.ProgressBar
    private let lock = NSLock()
    private var received = 0
    private var lastPercent = -1

    init(_ step: LongStep) {
        self.step = step
        bar = TerminalUI.ProgressBar(title: step.title, inPlace: true)
    }

    private func draw(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }

    func update(stage: String, fraction: Double) {
        bar.update(LongStep.overall(stage: stage, fraction: fraction), detail: stage)
    }

    func update(received: Int, expected: Int?) {
        lock.lock(); defer { lock.unlock() }
        self.received = received
        let mib = Double(received) / 1_048_576
        if let expected, expected > 0 {
            let percent = min(100, received * 100 / expected)
            if percent == lastPercent { return }
            lastPercent = percent
            draw(String(format: "\r\u{1B}[2Kdownloading %3d%% (%.1f of %.1f MiB)", percent, mib, Double(expected) / 1_048_576))
        } else {
            draw(String(format: "\r\u{1B}[2Kdownloading %.1f MiB", mib))
        }
    }

    func finish() {
        if step == .downloadingProvingKey {
            lock.lock(); let bytes = received; lock.unlock()
            draw("\r\u{1B}[2K")
            Terminal.note(step.summary(seconds: 0, bytes: bytes))
        } else {
            bar.finish(step.finishedTitle)
        }
    }

    func abandon() {
        if step != .downloadingProvingKey { bar.abandon() }
    }
}
