import BN254
import Foundation
import Groth16
import Primitives
import Protocol
import SettlementClient

/// The wallet's secret: a spending key, or only a viewing key (a watch-only wallet).
public enum WalletSecret: Sendable {
    case spending(SpendingKey)
    case viewing(ViewingKey)

    public var viewingKey: ViewingKey {
        switch self {
        case .spending(let k): return k.viewingKey
        case .viewing(let v): return v
        }
    }

    public var spendingKey: SpendingKey? {
        if case .spending(let k) = self { return k }
        return nil
    }
}

/// `key.json` in the wallet directory, mode 0600, written once by `init`:
///
///     {"version": 1, "kind": "spending" | "viewing", "secret": hex}             plain
///     {"version": 1, "kind": …, "kdf": "scrypt", "log_n": 17, "salt": hex,
///      "ciphertext": hex}                                                     with a passphrase
///
/// The secret is sk (32 bytes, big-endian) or the viewing key (nk ‖ x25519 private, 64 bytes).
/// With a passphrase: key = scrypt(passphrase, salt, N = 2^log_n, r = 8, p = 1), log_n 17 for
/// new files and only 15…20 accepted from a file (a hostile file cannot ask for 2^40), and the
/// ciphertext is ChaCha20-Poly1305(key, nonce 0, aad "zksettle/keyfile/v1" ‖ kind) of the
/// secret, so a wrong passphrase fails the tag instead of yielding a wrong key.
public enum KeyFile {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        init(_ d: String) { description = d }
    }

    static let aad = Array("zksettle/keyfile/v1".utf8)

    public static func write(_ secret: WalletSecret, to url: URL, passphrase: String?) throws {
        let kind: String, raw: [UInt8]
        switch secret {
        case .spending(let k): kind = "spending"; raw = k.sk.bigEndianBytes
        case .viewing(let v): kind = "viewing"; raw = v.nullifierKey.bigEndianBytes + v.encryptionPrivateKey
        }
        var obj: [String: Any] = ["version": 1, "kind": kind]
        if let passphrase {
            let salt = SecureRandom.bytes(16)
            guard let key = Scrypt.derive(passphrase: Array(passphrase.utf8), salt: salt) else {
            throw Failure("scrypt failed (it needs 128 MiB of memory)")
        }
            obj["kdf"] = "scrypt"; obj["log_n"] = Scrypt.defaultLogN; obj["salt"] = Hex.encode(salt)
            obj["ciphertext"] = Hex.encode(ChaCha20Poly1305.seal(key: key, nonce: [UInt8](repeating: 0, count: 12),
                                                                  aad: aad + Array(kind.utf8), plaintext: raw))
        } else {
            obj["secret"] = Hex.encode(raw)
        }
        let data = try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys, .prettyPrinted])
        // Created with mode 0600 from the start: the secret never sits in a world-readable file.
        let fd = open(url.path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw Failure("cannot create \(url.path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let written = data.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        guard written == data.count, fsync(fd) == 0 else { throw Failure("cannot write \(url.path)") }
    }

    public static func isEncrypted(_ url: URL) -> Bool {
        guard let data = FileManager.default.contents(atPath: url.path),
              let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return false }
        return obj["kdf"] != nil
    }

    public static func read(_ url: URL, passphrase: String?) throws -> WalletSecret {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw WalletError("no wallet at \(url.deletingLastPathComponent().path): run `zkwallet init` first (or pass --wallet DIR)", code: "not_found")
        }
        guard let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let kind = obj["kind"] as? String else { throw Failure("\(url.path) is not a zkwallet key file") }
        let raw: [UInt8]
        if let hex = obj["secret"] as? String, let r = Hex.decode(hex) {
            // A passphrase for a plaintext file means the file is not the one its owner made
            // (someone swapped in a key they know): refuse rather than silently use it.
            guard passphrase == nil else {
                throw Failure("\(url.path) is not encrypted, but a passphrase was given: this is not the key file you made with a passphrase; check the wallet directory before using it")
            }
            raw = r
        } else if obj["kdf"] as? String == "scrypt", let salt = (obj["salt"] as? String).flatMap(Hex.decode), salt.count >= 16,
                  let ct = (obj["ciphertext"] as? String).flatMap(Hex.decode) {
            guard let logN = obj["log_n"] as? Int, Scrypt.acceptedLogN.contains(logN) else {
                throw Failure("\(url.path) asks for an scrypt cost outside 2^\(Scrypt.acceptedLogN.lowerBound)…2^\(Scrypt.acceptedLogN.upperBound); refusing it")
            }
            guard let passphrase else {
                throw WalletError("the key file is encrypted and this command needs the key: run it on a terminal to be asked for the passphrase, or pass --passphrase-env VAR with the passphrase in environment variable VAR", code: "usage")
            }
            guard let key = Scrypt.derive(passphrase: Array(passphrase.utf8), salt: salt, logN: logN),
                  let r = ChaCha20Poly1305.open(key: key, nonce: [UInt8](repeating: 0, count: 12), aad: aad + Array(kind.utf8), sealed: ct)
            else { throw Failure("wrong passphrase for \(url.path)") }
            raw = r
        } else {
            throw Failure("\(url.path) is not a zkwallet key file")
        }
        switch (kind, raw.count) {
        case ("spending", 32):
            guard let sk = try? Fr(bigEndian: raw) else { throw Failure("\(url.path) holds an invalid spending key") }
            return .spending(SpendingKey(sk))
        case ("viewing", 64):
            guard let nk = try? Fr(bigEndian: raw[0..<32]) else { throw Failure("\(url.path) holds an invalid viewing key") }
            return .viewing(ViewingKey(nullifierKey: nk, encryptionPrivateKey: Array(raw[32...])))
        default:
            throw Failure("\(url.path) is not a zkwallet key file")
        }
    }
}
