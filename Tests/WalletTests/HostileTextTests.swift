import Foundation
import Testing
import TestSupport
import Wallet

/// A payer's memo is the payer's text: through the real server and the real `zkwallet`, a memo
/// made of terminal escapes shows escaped in `history` and `notes` tables, and arrives intact
/// in `--json`. Secrets come from files and the environment, not from the command line.
@Suite(.serialized) struct HostileTextTests {
    @Test func memosAreShownEscapedAndSecretsComeFromFiles() async throws {
        try await offCooperativePool {
            let server = try EndToEndTests.Server()
            defer { server.stop() }
            let a = server.data.appendingPathComponent("alice"), b = server.data.appendingPathComponent("bob")
            let watch = server.data.appendingPathComponent("bob-watch")
            EndToEndTests.ok(try EndToEndTests.zkwallet(["init"], wallet: a, server: server), "init A")
            EndToEndTests.ok(try EndToEndTests.zkwallet(["init"], wallet: b, server: server), "init B")
            let addressB = try EndToEndTests.zkwallet(["address"], wallet: b, server: server).lastLine

            EndToEndTests.ok(try EndToEndTests.zkwallet(["deposit", "20", "--voucher", try server.voucher(20)], wallet: a, server: server), "deposit")

            // Clear the line, go back to its start and print a fake line; set the window title.
            let memo = "hi\u{1B}[2K\rreceived 1000000\u{1B}]0;pwned\u{7}"
            EndToEndTests.ok(try EndToEndTests.zkwallet(["send", "7", "--to", addressB, "--memo", memo], wallet: a, server: server), "send")

            EndToEndTests.ok(try EndToEndTests.zkwallet(["sync"], wallet: b, server: server), "sync")
            // --wide: the whole memo (the default table cuts long ones to fit 100 columns).
            let cut = try EndToEndTests.zkwallet(["history"], wallet: b, server: server)
            #expect(!cut.stdout.contains("\u{1B}") && !cut.stdout.contains("\u{7}") && cut.stdout.contains("…"), "\(cut.stdout.debugDescription)")
            let table = try EndToEndTests.zkwallet(["history", "--wide"], wallet: b, server: server)
            EndToEndTests.ok(table, "history")
            #expect(!table.stdout.contains("\u{1B}") && !table.stdout.contains("\u{7}"), "\(table.stdout.debugDescription)")
            #expect(table.stdout.contains("hi\\e[2K\\rreceived 1000000\\e]0;pwned\\u{7}"), "\(table.stdout)")
            let notes = try EndToEndTests.zkwallet(["notes"], wallet: b, server: server)
            #expect(!notes.stdout.contains("\u{1B}") && notes.stdout.contains("\\e[2K"))
            let json = try EndToEndTests.zkwallet(["history", "--json"], wallet: b, server: server)
            #expect((json.json as? [[String: Any]])?.contains { $0["memo"] as? String == memo } == true)

            // A watch-only wallet from a viewing key in a file.
            let vk = try EndToEndTests.zkwallet(["viewing-key"], wallet: b, server: server).lastLine
            let vkFile = server.data.appendingPathComponent("vk")
            try Data(vk.utf8).write(to: vkFile)
            chmod(vkFile.path, 0o600)
            EndToEndTests.ok(try EndToEndTests.zkwallet(["init", "--viewing-key-file", vkFile.path], wallet: watch, server: server), "init watch-only")
            let balance = try EndToEndTests.zkwallet(["balance", "--json"], wallet: watch, server: server)
            #expect((balance.object["spendable"] as? NSNumber)?.intValue == 7)
            #expect(balance.object["watch_only"] as? Bool == true)
            // A file that does not exist is an error that names the option, and makes no wallet.
            let missing = server.data.appendingPathComponent("nowhere")
            let refused = try EndToEndTests.zkwallet(["init", "--viewing-key-file", missing.path], wallet: server.data.appendingPathComponent("w2"), server: server)
            #expect(refused.status == 1 && refused.stderr.contains("--viewing-key-file"))
            #expect(!FileManager.default.fileExists(atPath: server.data.appendingPathComponent("w2/key.json").path))
        }
    }
}
