import Foundation
import Protocol
import Testing
import TestSupport

/// Issue 19, point 1: the three tools speak alike. One exit-code table (in each `--help`),
/// one error prefix, "did you mean" for a mistyped subcommand, `--version` everywhere.
@Suite struct ToolConsistencyTests {
    static let tools = ["zkwallet", "zksettle-admin", "zksettle-server"]

    @Test(arguments: tools) func versionAndHelp(_ tool: String) throws {
        let version = try Executables.run(tool, ["--version"])
        #expect(version.status == 0 && version.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == ZKSettleVersion.string, "\(version.stdout)")
        let help = try Executables.run(tool, ["--help"])
        #expect(help.status == 0)
        for line in ["EXIT CODES", "  3    not found", "  64   bad usage", "  130  interrupted"] {
            #expect(help.stdout.contains(line), "\(tool) --help lacks \(line)")
        }
    }

    /// Point 10: help with examples, on every wallet command and each tool; shell completions.
    @Test func helpHasExamplesAndCompletionsAreGenerated() throws {
        let walletCommands = ["init", "address", "viewing-key", "deposit", "send", "withdraw", "request", "sync", "balance",
                              "history", "notes", "status", "trust", "config"]
        for c in walletCommands {
            let help = try Executables.run("zkwallet", [c, "--help"])
            #expect(help.status == 0 && help.stdout.contains("EXAMPLES"), "zkwallet \(c) --help has no EXAMPLES")
        }
        for tool in ["zksettle-admin", "zksettle-server"] {
            #expect(try Executables.run(tool, ["--help"]).stdout.contains("EXAMPLES"), "\(tool) --help has no EXAMPLES")
        }
        for tool in Self.tools {
            let script = try Executables.run(tool, ["--generate-completion-script", "bash"])
            #expect(script.status == 0 && script.stdout.contains("complete") && script.stdout.contains(tool), "\(tool): \(script.stderr)")
        }
    }

    @Test(arguments: tools) func badUsageIs64WithOnePrefix(_ tool: String) throws {
        let r = try Executables.run(tool, ["--no-such-option"])
        #expect(r.status == 64, "\(r.stderr)")
        #expect(r.stderr.hasPrefix("error: ") && !r.stderr.contains("Error:"), "\(r.stderr)")
    }

    @Test func aMistypedSubcommandGetsTheNearestName() throws {
        let cases: [(tool: String, args: [String], hint: String)] = [
            ("zkwallet", ["sedn"], "hint: did you mean `zkwallet send`?"),
            ("zkwallet", ["balnce"], "hint: did you mean `zkwallet balance`?"),
            ("zkwallet", ["recieve"], "hint: to receive, use `zkwallet address`"),
            ("zksettle-admin", ["nullifers"], "hint: did you mean `zksettle-admin nullifiers`?"),
            ("zksettle-admin", ["batches", "lisst"], "hint: did you mean `zksettle-admin batches list`?"),
        ]
        for c in cases {
            let r = try Executables.run(c.tool, c.args)
            #expect(r.status == 64 && r.stderr.contains(c.hint), "\(c.tool) \(c.args): \(r.stderr)")
        }
        // Nothing near: no guess.
        let far = try Executables.run("zkwallet", ["xylophone"])
        #expect(far.status == 64 && !far.stderr.contains("hint:"), "\(far.stderr)")
    }

    @Test func valuesThatCannotBeUsedAre64AndWhatIsMissingIs3() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("zkwallet-none-\(UUID().uuidString)")
        // A wallet that does not exist is not found; a bad address or amount is bad usage,
        // whether or not the wallet exists.
        let missing = try Executables.run("zkwallet", ["balance", "--wallet", dir.path])
        #expect(missing.status == 3 && missing.stderr.hasPrefix("error: no wallet at"), "\(missing.stderr)")
        let badTo = try Executables.run("zkwallet", ["send", "5", "--to", "zks1nope", "--wallet", dir.path])
        #expect(badTo.status == 64 && badTo.stderr.hasPrefix("error: --to:"), "\(badTo.stderr)")
        let badAmount = try Executables.run("zkwallet", ["send", "five", "--to", "zks1nope", "--wallet", dir.path])
        #expect(badAmount.status == 64, "\(badAmount.stderr)")
    }
}
