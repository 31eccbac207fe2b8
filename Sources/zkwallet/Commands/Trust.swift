import ArgumentParser
import Foundation
import Groth16
import SettlementClient
import Wallet
import TerminalUI

/// `zkwallet trust [--reset [--yes] [--fingerprint FP]]`: the pinned parameters.
struct Trust: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the pinned server parameters fingerprint, or re-pin it on purpose (--reset).",
        discussion: """
            Without --reset: prints the pinned fingerprint (on the last line) and where it came from. \
            With --reset: fetches the server's parameters, shows the old and the new fingerprint, and \
            pins the new one after confirmation (asked on a terminal; --yes confirms in scripts), \
            forgetting the proving keys accepted under the old one. With --reset --fingerprint FP the \
            server must present FP.

            EXAMPLES
              zkwallet trust
              zkwallet trust --reset --fingerprint 3f1c…9a0b
            """)
    @OptionGroup var options: WalletOptions
    @Flag(help: "Forget the pin and pin the server's current parameters.") var reset = false
    @Flag(help: "With --reset: do not ask for confirmation.") var yes = false
    @Option(help: ArgumentHelp("With --reset: the fingerprint the operator published; the server must present it.", valueName: "FINGERPRINT"))
    var fingerprint: String?
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if !reset && (yes || fingerprint != nil) { throw ValidationError("--yes and --fingerprint go with --reset") }
        if let f = fingerprint, ParametersFingerprint.normalize(f) == nil {
            throw ValidationError("--fingerprint takes the 64 hex digits that `zksettle-admin params fingerprint` prints")
        }
    }

    func run() throws {
        try reportingErrors {
            let w = try options.open()
            let old = try w.expectedFingerprint
            if !reset {
                let source = try w.pinSource ?? ""
                let contacted = try w.pinnedParameters() != nil
                let setup = try w.pinnedSetup()
                if output.json {
                    Terminal.printJSON(["fingerprint": old.map { $0 as Any } ?? NSNull(), "source": source, "contacted": contacted,
                                        "setup": Terminal.nullable(setup?.name), "transcript_hash": Terminal.nullable(setup?.transcriptHash)])
                    return
                }
                guard let old else { print("nothing pinned yet: the first contact with a server pins its parameters"); return }
                switch setup {
                case .development?: print("keys: DEVELOPMENT setup (whoever made them can forge proofs; not for real funds)")
                case .ceremony(let h)?: print("keys: ceremony, transcript BLAKE2b-512 \(h)")
                case nil: break
                }
                print(contacted ? "pinned (\(source)):" : "expected at the first contact (\(source)):")
                print(old)
                return
            }
            let new = try w.server.params().fingerprint
            if let f = fingerprint.flatMap(ParametersFingerprint.normalize), f != new {
                throw WalletError("\(w.serverURL) presents the fingerprint \(new), not \(f): nothing was re-pinned")
            }
            if !output.json {
                print("pinned now:  \(old ?? "(nothing)")")
                print("the server:  \(new)")
            }
            if !yes {
                guard isatty(0) == 1 else {
                    throw WalletError("re-pinning needs confirmation: run it on a terminal, or pass --yes after checking the new fingerprint with the operator")
                }
                printToStderr("pin \(new)? Check it against the fingerprint the operator publishes. Type yes to re-pin:")
                guard readLine(strippingNewline: true)?.lowercased() == "yes" else { throw WalletError("not confirmed: nothing was re-pinned") }
            }
            // Expect exactly the fingerprint just confirmed, then pin it from the server (which
            // checks it again, so a server that changed in between is refused).
            try w.expect(fingerprint: new)
            w.forgetProvingKeys()
            _ = try w.params()
            if output.json { Terminal.printJSON(["fingerprint": new, "previous": old.map { $0 as Any } ?? NSNull()]) } else {
                print("re-pinned:")
                print(new)
            }
        }
    }
}
