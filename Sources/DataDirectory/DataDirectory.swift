import Foundation
import Primitives

/// The server's data directory (`--data`, default `./zksettle-data`):
///
///     ledger.sqlite            the ledger (WAL: also ledger.sqlite-wal, -shm)
///     keys/transfer.zkspk      proving key of the transfer circuit (served to wallets)
///     keys/verification_key.json
///     keys/setup.json          where the keys come from (`KeySetup`): written by a ceremony's
///                              finalize; absent for the development keys of first start
///     receipt.key              Ed25519 private key that signs receipts (hex, mode 0600)
///     deposit.key              Ed25519 private key that signs deposit vouchers (hex, mode 0600)
///     admin-token              bearer token of the admin routes (mode 0600)
///     server.lock              held by the running server (`lockForServer`): one server per directory
///
/// Secrets are made on first start and kept; flags and environment override the files. Every
/// file the server writes here (secrets and the key files) is created with mode 0600 by
/// `writePrivate`, in a directory made 0700.
///
/// The layout is written here once: the server makes and reads it, `zksettle-admin --data`
/// reads it (`DataDirectory(existing:)`, which creates nothing).
public struct DataDirectory: Sendable {
    public let url: URL

    /// The directory at `path`, made (0700, with `keys/`) if it does not exist: the server's.
    public init(path: String) throws {
        url = URL(fileURLWithPath: path, isDirectory: true).standardizedFileURL
        try FileManager.default.createDirectory(at: url.appendingPathComponent("keys"), withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
    }

    /// The directory at `path` as it is, for readers (nothing is created).
    public init(existing path: String) {
        url = URL(fileURLWithPath: path, isDirectory: true).standardizedFileURL
    }

    public var ledgerPath: String { url.appendingPathComponent(Self.ledgerFile).path }
    public var provingKeyURL: URL { url.appendingPathComponent("keys/transfer.zkspk") }
    public var verifyingKeyURL: URL { url.appendingPathComponent("keys/verification_key.json") }
    public var circuitIDURL: URL { url.appendingPathComponent("keys/circuit-id") }
    /// `keys/setup.json`: which setup made the keys (`KeySetup`); absent: the development setup.
    public var setupURL: URL { url.appendingPathComponent("keys/setup.json") }
    public var receiptKeyURL: URL { url.appendingPathComponent(Self.receiptKeyFile) }
    public var depositKeyURL: URL { url.appendingPathComponent(Self.depositKeyFile) }

    public static let ledgerFile = "ledger.sqlite"
    public static let receiptKeyFile = "receipt.key"
    public static let depositKeyFile = "deposit.key"
    public static let adminTokenFile = "admin-token"
    public static let lockFile = "server.lock"

    /// Takes the directory for one server: a second server on it (which would serve the same
    /// SQLite ledger with a state of its own) is refused, naming the holder. The lock lasts as
    /// long as the returned value, or the process. (Nodes sharing a PostgreSQL ledger each have
    /// a copy of the directory, so each has its own lock.)
    public func lockForServer() throws -> FileLock {
        let path = url.appendingPathComponent(Self.lockFile).path
        do { return try FileLock.acquire(path, wait: false) } catch {
            switch error {
            case .held(let pid):
                let who = pid.map { "another zksettle-server (pid \($0))" } ?? "another zksettle-server"
                throw DataDirectoryError("\(who) is already using the data directory \(url.path): stop it first, or give this server a directory of its own with --data")
            case .unavailable(let reason):
                throw DataDirectoryError("cannot lock \(path): \(reason) (check that \(url.path) is writable)")
            }
        }
    }

    /// A secret kept in a 0600 file, made from 32 random bytes (hex) when the file is absent.
    public func secret(_ name: String) throws -> (value: String, created: Bool) {
        let file = url.appendingPathComponent(name)
        if let data = FileManager.default.contents(atPath: file.path) {
            let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty else { throw DataDirectoryError("\(file.path) is empty: delete it to make a new one") }
            return (text, false)
        }
        let value = Hex.encode(SecureRandom.bytes(32))
        try writePrivate(Data((value + "\n").utf8), to: file)
        return (value, true)
    }

    public func receiptKey() throws -> (key: Ed25519Key, created: Bool) { try ed25519Key(Self.receiptKeyFile) }

    /// The key that signs deposit vouchers (`zksettle-admin deposits voucher` reads the same file).
    public func depositKey() throws -> (key: Ed25519Key, created: Bool) { try ed25519Key(Self.depositKeyFile) }

    private func ed25519Key(_ name: String) throws -> (key: Ed25519Key, created: Bool) {
        let (text, created) = try secret(name)
        guard let key = Ed25519Key(hex: text) else {
            throw DataDirectoryError("\(url.appendingPathComponent(name).path) is not a 32-byte hex Ed25519 key")
        }
        return (key, created)
    }

    /// Writes a file readable by its owner only, atomically: the bytes go to a new temporary
    /// file that `open` creates with mode 0600 (`O_CREAT | O_EXCL`: never an existing file,
    /// never a moment with wider permissions, whatever the umask), are synced, and the file is
    /// renamed over `file`. (FileManager's `createFile(attributes:)` creates, then chmods.)
    public func writePrivate(_ data: Data, to file: URL) throws {
        try Self.writePrivate(data, to: file)
    }

    public static func writePrivate(_ data: Data, to file: URL) throws {
        let tmp = file.deletingLastPathComponent()
            .appendingPathComponent(".\(file.lastPathComponent).\(Hex.encode(SecureRandom.bytes(6))).tmp")
        let fd = open(tmp.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw DataDirectoryError("cannot write \(tmp.path): \(String(cString: strerror(errno))) (check that \(file.deletingLastPathComponent().path) is writable)")
        }
        var failure: String?
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = String(cString: strerror(errno)); return
                }
                offset += n
            }
        }
        if failure == nil && fsync(fd) != 0 { failure = String(cString: strerror(errno)) }
        close(fd)
        if let failure {
            unlink(tmp.path)
            throw DataDirectoryError("cannot write \(tmp.path): \(failure)")
        }
        guard rename(tmp.path, file.path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(tmp.path)
            throw DataDirectoryError("cannot write \(file.path): \(reason)")
        }
    }
}

/// A data directory that cannot be read or written; the text says which file and what to do.
public struct DataDirectoryError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}
