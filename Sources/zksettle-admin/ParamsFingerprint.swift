import ArgumentParser
import DataDirectory
import Foundation
import Groth16
import Primitives
import Protocol
import TerminalUI
import SettlementClient

struct ParamsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "params", abstract: "The server's public parameters.",
        subcommands: [ParamsFingerprintCommand.self])
}

/// `zksettle-admin params fingerprint [--data DIR | --server URL]`: the fingerprint wallets pin
/// (`ParametersFingerprint`, the same computation as the server's start-up log line and the
/// wallet's), for the operator to publish.
struct ParamsFingerprintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fingerprint",
        abstract: "Print the parameters fingerprint wallets pin (publish it: `zkwallet init --trust` takes it).",
        discussion: """
            SHA-256 over "zksettle/params/v1", the circuit id, the canonical verifying key bytes and \
            the Ed25519 receipt public key (README, "What the wallet trusts"). From the data directory \
            (keys/circuit-id, keys/verification_key.json, receipt.key, read only), or from a running \
            server's GET /v1/params. The fingerprint is the last line of the output.

            It also says which setup made the keys: "development" (the server's first-start setup: \
            whoever ran it can forge proofs, not for real funds) or "ceremony" with the transcript's \
            BLAKE2b-512 (keys/setup.json, written by `ceremony finalize`, checked against the proving \
            key's development flag; from --server, what the server claims). The fingerprint does not \
            cover the setup; wallets pin both.
            """)
    @Option(help: ArgumentHelp("The server's data directory (default ./zksettle-data when --server is not given).", valueName: "dir"))
    var data: String?
    @Option(help: ArgumentHelp("A running server's base URL (its public /v1/params; no token needed).", valueName: "url"))
    var server: String?
    @Flag(help: "Print JSON {fingerprint, circuit_id, receipt_public_key, setup, transcript_hash, source}.") var json = false

    func validate() throws {
        if data != nil && server != nil { throw ValidationError("give --data DIR or --server URL, not both") }
    }

    func run() throws {
        let params: ServerClient.Params
        let source: String
        if let server {
            do { params = try ServerClient(server).params() } catch { throw AdminError("\(error)") }
            source = server
        } else {
            let dir = URL(fileURLWithPath: data ?? "zksettle-data", isDirectory: true)
            params = try Self.read(dir)
            source = dir.path
        }
        let fp = params.fingerprint
        let setup = params.setup
        if json {
            Terminal.printJSON(["fingerprint": fp, "circuit_id": params.circuitID, "receipt_public_key": Hex.encode(params.receiptPublicKey),
                                "setup": setup.name, "transcript_hash": Terminal.nullable(setup.transcriptHash), "source": source])
            return
        }
        switch setup {
        case .development:
            print("keys: DEVELOPMENT setup: whoever ran it can forge proofs and mint money; not for real funds")
            print("      (run a ceremony: `zksettle-admin ceremony finalize FINAL.zkey --data DIR`)")
        case .ceremony(let hash):
            print("keys: ceremony, transcript BLAKE2b-512 \(hash)")
        }
        print("parameters fingerprint of \(source) (circuit \(params.circuitID)):")
        print(fp)
    }

    /// The parameters as the server loads them from its data directory.
    static func read(_ dir: URL) throws -> ServerClient.Params {
        func file(_ name: String) throws -> Data {
            let url = dir.appendingPathComponent(name)
            guard let d = FileManager.default.contents(atPath: url.path) else {
                throw AdminError.usage("cannot read \(url.path): pass --data with the server's data directory (made on its first start), or --server URL")
            }
            return d
        }
        let id = String(decoding: try file("keys/circuit-id"), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let vk: VerifyingKey
        do { vk = try SnarkJS.verifyingKey(from: try file("keys/verification_key.json")) } catch let e as AdminError { throw e } catch {
            throw AdminError("\(dir.appendingPathComponent("keys/verification_key.json").path): \(error)")
        }
        guard let key = Ed25519Key(hex: String(decoding: try file("receipt.key"), as: UTF8.self)) else {
            throw AdminError("\(dir.appendingPathComponent("receipt.key").path) is not a 32-byte hex Ed25519 key")
        }
        var params = ServerClient.Params(circuitID: id, verifyingKey: vk, receiptPublicKey: key.publicKey)
        // keys/setup.json as the server reads it: checked, and against the proving key's flag.
        let setup: KeySetup
        do { setup = try DataDirectory(existing: dir.path).keySetup() } catch { throw AdminError("\(error)") }
        params.setup = setup.transcriptHash.map { .ceremony(transcriptHash: $0) } ?? .development
        return params
    }
}
