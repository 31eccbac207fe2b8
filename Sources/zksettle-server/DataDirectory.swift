import Foundation
import Groth16
import Protocol

/// The server's data directory (`--data`, default `./zksettle-data`):
///
///     ledger.sqlite            the ledger (WAL: also ledger.sqlite-wal, -shm)
///     keys/transfer.zkspk      proving key of the transfer circuit (served to wallets)
///     keys/verification_key.json
///     receipt.key              Ed25519 private key that signs receipts (hex, mode 0600)
///     deposit-token            operator's deposit credential (mode 0600)
///     admin-token              bearer token of the admin routes (mode 0600)
///
/// Secrets are made on first start and kept; flags and environment override the files.
struct DataDirectory {
    let url: URL

    init(path: String) throws {
        url = URL(fileURLWithPath: path, isDirectory: true).standardizedFileURL
        try FileManager.default.createDirectory(at: url.appendingPathComponent("keys"), withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
    }

    var ledgerPath: String { url.appendingPathComponent("ledger.sqlite").path }
    var provingKeyURL: URL { url.appendingPathComponent("keys/transfer.zkspk") }
    var verifyingKeyURL: URL { url.appendingPathComponent("keys/verification_key.json") }

    /// A secret kept in a 0600 file, made from 32 random bytes (hex) when the file is absent.
    func secret(_ name: String) throws -> (value: String, created: Bool) {
        let file = url.appendingPathComponent(name)
        if let data = FileManager.default.contents(atPath: file.path) {
            let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty else { throw ServerError("\(file.path) is empty: delete it to make a new one") }
            return (text, false)
        }
        let value = Hex.encode(SecureRandom.bytes(32))
        try writePrivate(Data((value + "\n").utf8), to: file)
        return (value, true)
    }

    func receiptKey() throws -> (key: Ed25519Key, created: Bool) {
        let (text, created) = try secret("receipt.key")
        guard let bytes = Hex.decode(text), bytes.count == 32, let key = try? Ed25519Key(privateKey: bytes) else {
            throw ServerError("\(url.appendingPathComponent("receipt.key").path) is not a 32-byte hex Ed25519 key")
        }
        return (key, created)
    }

    /// Writes a file readable by its owner only, atomically (write then rename).
    func writePrivate(_ data: Data, to file: URL) throws {
        let tmp = file.appendingPathExtension("tmp")
        guard FileManager.default.createFile(atPath: tmp.path, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw ServerError("cannot write \(tmp.path): check that \(file.deletingLastPathComponent().path) is writable")
        }
        guard rename(tmp.path, file.path) == 0 else { throw ServerError("cannot write \(file.path): \(String(cString: strerror(errno)))") }
    }
}

struct ServerError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
