import BN254
import Foundation
import Groth16
import Primitives
import Protocol
import Testing
import Wallet

/// The key file at rest: scrypt's cost for new files, the bounds on costs read from a file, and
/// the refusals that keep a swapped-in file from being used.
@Suite struct KeyFileTests {
    static func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("zkwallet-keyfile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    static func object(_ url: URL) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] ?? [:]
    }

    /// Writes `obj` as a key file (0600, as the wallet would).
    static func write(_ obj: [String: Any], to url: URL) throws {
        try JSONSerialization.data(withJSONObject: obj).write(to: url)
        chmod(url.path, 0o600)
    }

    @Test func newFilesUseScryptAtTwoToTheSeventeen() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let key = SpendingKey(SecureRandom.scalar())
        let url = dir.appendingPathComponent("key.json")
        try KeyFile.write(.spending(key), to: url, passphrase: "tr0ub4dor&3")
        let obj = try Self.object(url)
        #expect(obj["kdf"] as? String == "scrypt")
        #expect((obj["log_n"] as? Int ?? 0) >= 17)
        #expect((obj["salt"] as? String)?.count == 32)
        #expect(try KeyFile.read(url, passphrase: "tr0ub4dor&3").spendingKey == key)
    }

    @Test func costsOutsideTheBoundsAreRefusedBeforeAnyWork() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let key = SpendingKey(SecureRandom.scalar())
        let url = dir.appendingPathComponent("key.json")
        try KeyFile.write(.spending(key), to: url, passphrase: "pw")
        var obj = try Self.object(url)
        // 2^40 would ask for 128 TiB; 2^10 would make guessing cheap; a string is no number.
        for bad: Any in [40, 10, 14, 21, "17"] {
            obj["log_n"] = bad
            let hostile = dir.appendingPathComponent("hostile-\(bad).json")
            try Self.write(obj, to: hostile)
            #expect(throws: KeyFile.Failure.self) { try KeyFile.read(hostile, passphrase: "pw") }
            do { _ = try KeyFile.read(hostile, passphrase: "pw") } catch let e as KeyFile.Failure {
                #expect(e.description.contains("scrypt cost"), "\(e.description)")
            }
        }
        // An older file at 2^15 still opens.
        let old = dir.appendingPathComponent("old.json")
        let salt = SecureRandom.bytes(16)
        let derived = try #require(Scrypt.derive(passphrase: Array("pw".utf8), salt: salt, logN: 15))
        let ct = ChaCha20Poly1305.seal(key: derived, nonce: [UInt8](repeating: 0, count: 12),
                                       aad: Array("zksettle/keyfile/v1".utf8) + Array("spending".utf8), plaintext: key.sk.bigEndianBytes)
        try Self.write(["version": 1, "kind": "spending", "kdf": "scrypt", "log_n": 15, "salt": Hex.encode(salt), "ciphertext": Hex.encode(ct)], to: old)
        #expect(try KeyFile.read(old, passphrase: "pw").spendingKey == key)
        // scrypt itself refuses a cost outside the bounds.
        #expect(Scrypt.derive(passphrase: [1], salt: salt, logN: 30) == nil)
    }

    @Test func aPlaintextFileIsRefusedWhenAPassphraseIsGiven() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("key.json")
        try KeyFile.write(.spending(SpendingKey(SecureRandom.scalar())), to: url, passphrase: nil)
        do {
            _ = try KeyFile.read(url, passphrase: "the owner's passphrase")
            Issue.record("a plaintext key file was accepted with a passphrase")
        } catch let e as KeyFile.Failure {
            #expect(e.description.contains("not encrypted"))
        }
    }
}
