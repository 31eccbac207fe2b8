import Foundation

/// Where the transfer circuit's keys in `<data>/keys/` come from, as `keys/setup.json` records
/// it (issue 18, point 5). A ceremony's finalize step (`zksettle-admin ceremony finalize F.zkey
/// --data DIR`) writes it, owner-only and atomically:
///
///     {"setup": "ceremony",
///      "transcript_hash": "<128 lowercase hex digits: BLAKE2b-512 of the final .zkey file>",
///      "zkey": "<file name, informational>",
///      "contributions": <integer>}
///
/// No file means `"setup": "development"`: the keys the server makes on first start, whose
/// toxic waste was in one process (anyone who kept it can forge proofs and mint money).
/// A file saying `{"setup": "development"}` means the same. Reading checks every field; keys it
/// does not know are ignored. The server publishes the setup and the transcript hash at
/// `GET /v1/params`; wallets pin them with the parameters.
public struct KeySetup: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        case development, ceremony
    }

    public var kind: Kind
    /// BLAKE2b-512 of the final `.zkey` (128 lowercase hex digits); nil for development keys.
    public var transcriptHash: String?
    /// The final `.zkey`'s file name (informational; nil when not recorded).
    public var zkey: String?
    /// How many contributions the transcript holds (nil when not recorded).
    public var contributions: Int?

    /// The development setup of first start (no `setup.json`).
    public static let development = KeySetup(kind: .development, transcriptHash: nil, zkey: nil, contributions: nil)

    /// A ceremony's keys. `transcriptHash` must be 128 lowercase hex digits (`isTranscriptHash`).
    public static func ceremony(transcriptHash: String, zkey: String? = nil, contributions: Int? = nil) -> KeySetup {
        KeySetup(kind: .ceremony, transcriptHash: transcriptHash, zkey: zkey, contributions: contributions)
    }

    public var isDevelopment: Bool { kind == .development }

    /// 128 lowercase hex digits (a BLAKE2b-512 digest as the ceremony writes it).
    public static func isTranscriptHash(_ s: String) -> Bool {
        s.utf8.count == 128 && s.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }

    /// The setup recorded at `url`: `.development` when the file does not exist. Anything else
    /// that is not a well-formed record throws, naming the file and what to do.
    public static func read(from url: URL) throws -> KeySetup {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            if FileManager.default.fileExists(atPath: url.path) {
                throw DataDirectoryError("cannot read \(url.path): check its permissions")
            }
            return .development
        }
        return try decode(data, file: url.path)
    }

    /// Parses the text of a `setup.json` (`file` names it in errors).
    public static func decode(_ data: Data, file: String) throws -> KeySetup {
        func bad(_ what: String) -> DataDirectoryError {
            DataDirectoryError("\(file): \(what). It records which setup made the keys beside it: write it again with `zksettle-admin ceremony finalize F.zkey --data DIR`, or move keys/ away to start on new development keys")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data), let o = object as? [String: Any] else {
            throw bad("not a JSON object")
        }
        guard let name = o["setup"] as? String else { throw bad("no \"setup\" string (\"ceremony\" or \"development\")") }
        guard let kind = Kind(rawValue: name) else { throw bad("unknown setup \(name.debugDescription) (expected \"ceremony\" or \"development\")") }
        var zkey: String?
        if let value = o["zkey"], !(value is NSNull) {
            guard let text = value as? String else { throw bad("\"zkey\" is not a string") }
            zkey = text
        }
        var contributions: Int?
        if let value = o["contributions"], !(value is NSNull) {
            guard let n = wholeNumber(value), n >= 0 else { throw bad("\"contributions\" is not a whole number ≥ 0") }
            contributions = n
        }
        let hashValue = o["transcript_hash"].flatMap { $0 is NSNull ? nil : $0 }
        switch kind {
        case .development:
            guard hashValue == nil else { throw bad("a development setup has no transcript_hash") }
            return KeySetup(kind: .development, transcriptHash: nil, zkey: zkey, contributions: contributions)
        case .ceremony:
            guard let hashValue else { throw bad("a ceremony's setup needs \"transcript_hash\" (the BLAKE2b-512 of the final .zkey)") }
            guard let hash = hashValue as? String, isTranscriptHash(hash) else {
                throw bad("\"transcript_hash\" is not 128 lowercase hex digits (the BLAKE2b-512 of the final .zkey)")
            }
            return .ceremony(transcriptHash: hash, zkey: zkey, contributions: contributions)
        }
    }

    /// The file's JSON (keys sorted).
    public func encode() -> Data {
        var o: [String: Any] = ["setup": kind.rawValue]
        if let transcriptHash { o["transcript_hash"] = transcriptHash }
        if let zkey { o["zkey"] = zkey }
        if let contributions { o["contributions"] = contributions }
        var data = (try? JSONSerialization.data(withJSONObject: o, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])) ?? Data()
        data.append(0x0A)
        return data
    }

    /// Writes the record to `url`, owner-only (0600) and atomically (`DataDirectory.writePrivate`).
    /// A ceremony's transcript hash must be 128 lowercase hex digits.
    public func write(to url: URL) throws {
        if kind == .ceremony {
            guard let h = transcriptHash, Self.isTranscriptHash(h) else {
                throw DataDirectoryError("a ceremony's transcript hash must be 128 lowercase hex digits (BLAKE2b-512), not \(transcriptHash.map { "\"\($0)\"" } ?? "none")")
            }
        } else if transcriptHash != nil {
            throw DataDirectoryError("a development setup has no transcript hash")
        }
        try DataDirectory.writePrivate(encode(), to: url)
    }

    /// An integer as JSONSerialization gives it (an NSNumber of a C integer type); true/false
    /// (type "c") and fractions ("d") are not.
    private static func wholeNumber(_ value: Any) -> Int? {
        guard let n = value as? NSNumber else { return nil }
        let type = String(cString: n.objCType)
        if "islq".contains(type) { return Int(exactly: n.int64Value) }
        if "ILQS".contains(type) { return Int(exactly: n.uint64Value) }
        return nil
    }
}

/// The first bytes of `keys/transfer.zkspk` (`ProvingKey` in Groth16Prover, whose documentation
/// holds the format): "ZKSPK\0", u16 version, u16 flags, bit 0 set for a development key, all
/// little-endian. Read here so that the server and `zksettle-admin` check a `setup.json` against
/// the key it describes without linking the prover. Only the header is read; the key itself is
/// checked by whoever loads it (the wallet checks it in full before its first use).
public enum ProvingKeyHeader {
    public static let magic = Array("ZKSPK\0".utf8)

    /// Whether the proving key at `url` says it is a development key.
    public static func isDevelopmentKey(at url: URL) throws -> Bool {
        guard let handle = FileHandle(forReadingAtPath: url.path) else {
            throw DataDirectoryError("cannot read \(url.path): check that it exists and its permissions")
        }
        defer { try? handle.close() }
        let head = [UInt8]((try? handle.read(upToCount: 10)) ?? Data())
        guard head.count == 10, Array(head[0..<6]) == magic else {
            throw DataDirectoryError("\(url.path) is not a ZKSettle proving key (no ZKSPK header): move keys/ away to make new development keys, or finalize a ceremony into this directory again")
        }
        let flags = UInt16(head[8]) | UInt16(head[9]) << 8
        return flags & 1 == 1
    }
}

extension DataDirectory {
    /// The setup the keys come from (`keys/setup.json`, absent: development), checked against the
    /// proving key's header: a record saying "ceremony" beside a proving key flagged as a
    /// development key is refused (a ceremony's finalize writes both; a development key under a
    /// ceremony's name would make wallets trust what they should not).
    public func keySetup() throws -> KeySetup {
        let setup = try KeySetup.read(from: setupURL)
        guard setup.kind == .ceremony else { return setup }
        let fm = FileManager.default
        guard fm.fileExists(atPath: provingKeyURL.path), fm.fileExists(atPath: verifyingKeyURL.path) else {
            throw DataDirectoryError("\(setupURL.path) says the keys come from a ceremony, but keys/ has no transfer.zkspk or verification_key.json beside it: finalize the ceremony into this directory again (`zksettle-admin ceremony finalize F.zkey --data \(url.path)`)")
        }
        if try ProvingKeyHeader.isDevelopmentKey(at: provingKeyURL) {
            throw DataDirectoryError("\(setupURL.path) says the keys come from a ceremony (transcript \(setup.transcriptHash?.prefix(16) ?? "")…), but \(provingKeyURL.path) is flagged as a development key: the two do not belong together. Finalize the ceremony into this directory again (`zksettle-admin ceremony finalize F.zkey --data \(url.path)`), or delete setup.json to serve these keys as the development keys they are")
        }
        return setup
    }
}
