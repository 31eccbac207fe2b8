#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive advisory lock on a file (`flock`), held until `release()` or the process ends:
/// the kernel drops it when the process dies, however it dies, so a crash never leaves a stale
/// lock behind. What one process holds, another `acquire` on the same file cannot take.
///
/// The holder writes its process id into the file, so that a refused process can name it.
/// (The file is a marker: a copy of a locked directory is not locked.)
public final class FileLock: @unchecked Sendable {
    public let path: String
    private var fd: Int32

    /// Why a lock was not taken.
    public enum Failure: Error, Sendable {
        /// Another process holds it; its process id, if it wrote one.
        case held(pid: Int32?)
        /// The file cannot be opened or locked (permissions, a missing directory): strerror's text.
        case unavailable(String)
    }

    private init(path: String, fd: Int32) { self.path = path; self.fd = fd }

    /// Takes the lock on `path` (created, mode 0600, if absent). `wait`: block until the
    /// holder releases it; otherwise fail at once with `.held`.
    public static func acquire(_ path: String, wait: Bool) throws(Failure) -> FileLock {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .unavailable(String(cString: strerror(errno))) }
        while flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0 {
            let e = errno
            if e == EINTR { continue }
            defer { close(fd) }
            if e == EWOULDBLOCK { throw .held(pid: readPID(fd)) }
            throw .unavailable(String(cString: strerror(e)))
        }
        // Ours now: record who holds it.
        let text = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        return FileLock(path: path, fd: fd)
    }

    /// The process id another holder wrote, if the file holds one.
    public static func holder(of path: String) -> Int32? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return readPID(fd)
    }

    private static func readPID(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 31, 0) }
        guard n > 0 else { return nil }
        let digits = buffer[..<n].prefix { $0 >= 0x30 && $0 <= 0x39 }
        return Int32(String(decoding: digits, as: UTF8.self))
    }

    /// Releases the lock (also done when the process ends).
    public func release() {
        guard fd >= 0 else { return }
        _ = flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }

    deinit { release() }
}
