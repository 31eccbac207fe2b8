import BN254
import Foundation
import Groth16
import Protocol
import Settlement

/// The decoders that face the network, as fuzz targets (issue 7).
///
/// Each target takes arbitrary bytes, runs one decoder on them, and checks what the decoder
/// promises about whatever it accepts: a decoded value re-encodes and decodes to itself, points
/// are on their curve and in their subgroup, a decrypted note is well formed. Refusing the input
/// is always fine; trapping, or accepting something that breaks a promise, is a finding
/// (`run` stops the process with `fatalError`, which libFuzzer and the tests both catch).
///
/// The same code runs in three places: the libFuzzer binaries of `Fuzz/` (built with
/// `-sanitize=fuzzer,address`), `FuzzTargetTests` (every seed and every saved regression
/// input, in the ordinary test run), and `FuzzTarget.examples`, which makes the seed corpus.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// snarkjs `proof.json` (the `proof` of a transfer body, `zksettle-admin proof verify`).
    case proofJSON = "proof-json"
    /// snarkjs `verification_key.json` (`/v1/params`, read by wallets and auditors).
    case verifyingKeyJSON = "vk-json"
    /// The body of `POST /v1/transfers`.
    case transferBody = "transfer-body"
    /// An encrypted output from `GET /v1/notes`, trial-decrypted by every wallet.
    case noteCiphertext = "note-ciphertext"
    /// Address, viewing-key and backup-phrase strings typed or pasted by people.
    case addressString = "address-string"

    /// Runs the target on one input; returns normally unless a promise is broken.
    public func run(_ bytes: UnsafeRawBufferPointer) {
        let data = Data(bytes)
        switch self {
        case .proofJSON: Self.proofJSON(data)
        case .verifyingKeyJSON: Self.verifyingKeyJSON(data)
        case .transferBody: Self.transferBody(data)
        case .noteCiphertext: Self.noteCiphertext(Array(bytes))
        case .addressString: Self.addressString(String(decoding: bytes, as: UTF8.self))
        }
    }

    public func run(_ bytes: [UInt8]) { bytes.withUnsafeBytes { run($0) } }

    /// Whether the target's decoder accepts the input (every seed must be accepted).
    public func accepts(_ bytes: [UInt8]) -> Bool {
        switch self {
        case .proofJSON: return (try? SnarkJS.proof(from: Data(bytes))) != nil
        case .verifyingKeyJSON: return (try? SnarkJS.verifyingKey(from: Data(bytes))) != nil
        case .transferBody: return (try? TransferBody.decode(Data(bytes), depositToken: nil)) != nil
        case .noteCiphertext: return Self.noteDecryptor.decrypt(bytes) != nil
        case .addressString:
            let text = String(decoding: bytes, as: UTF8.self)
            return (try? Address(encoded: text)) != nil || (try? ViewingKey(encoded: text)) != nil
                || (try? BackupPhrase.spendingKey(from: text)) != nil
        }
    }

    // MARK: The targets

    static func proofJSON(_ data: Data) {
        guard let proof = try? SnarkJS.proof(from: data) else { return }
        checkPoints(proof, "proof")
        expect(try? SnarkJS.proof(from: SnarkJS.encode(proof)), equals: proof, "proof.json round trip")
    }

    static func verifyingKeyJSON(_ data: Data) {
        guard let vk = try? SnarkJS.verifyingKey(from: data) else { return }
        for p in [vk.alpha] + vk.ic { require(p.isOnCurve, "verifying key: a G1 point off the curve was accepted") }
        for p in [vk.beta, vk.gamma, vk.delta] {
            require(p.isOnCurve && p.isInSubgroup, "verifying key: a G2 point outside G2 was accepted")
        }
        require(vk.publicInputCount >= 0, "verifying key: accepted without IC[0]")
        expect(try? SnarkJS.verifyingKey(from: SnarkJS.encode(vk)), equals: vk, "verification_key.json round trip")
        // Preparing the key (fixed-base tables, e(α, β)) must cope with anything decoding accepts.
        _ = PreparedVerifyingKey(vk)
    }

    static func transferBody(_ data: Data) {
        guard let request = try? TransferBody.decode(data, depositToken: nil) else { return }
        checkPoints(request.proof, "transfer body")
        require(request.publicInputs.array.count == TransferPublicInputs.count, "transfer body: wrong number of public inputs accepted")
        // What admission computes next from a decoded body must not trap, whatever it holds.
        _ = try? request.extData.validate()
        _ = request.extData.hash
        _ = request.id
        guard let again = try? TransferBody.decode(TransferBody.encode(request), depositToken: nil) else {
            fatalError("transfer body: the re-encoding of an accepted body is refused")
        }
        expect(again.proof, equals: request.proof, "transfer body round trip (proof)")
        expect(again.publicInputs, equals: request.publicInputs, "transfer body round trip (public inputs)")
        expect(again.extData, equals: request.extData, "transfer body round trip (ext_data)")
    }

    static func noteCiphertext(_ bytes: [UInt8]) {
        let decryptor = noteDecryptor
        guard let note = decryptor.decrypt(bytes) else { return }
        require(bytes.count == NoteEncryption.ciphertextBytes, "note: a ciphertext of the wrong size decrypted")
        require(note.memo.count <= NoteEncryption.maxMemoBytes, "note: a memo longer than the maximum decrypted")
        require(decryptor.viewTagMatches(bytes), "note: decrypted although its view tag does not match")
    }

    static func addressString(_ text: String) {
        // Decoders ignore surrounding spaces, tabs and line breaks (pasted text); nothing else.
        let isSpace: (UInt8) -> Bool = { $0 == 32 || $0 == 9 || $0 == 10 || $0 == 13 }
        let u = Array(text.utf8)
        let core = String(decoding: u.drop(while: isSpace).reversed().drop(while: isSpace).reversed(), as: UTF8.self).lowercased()
        if let address = try? Address(encoded: text) {
            require(address.encryptionKey.count == 32, "address: accepted with a short encryption key")
            expect(try? Address(encoded: address.encoded), equals: address, "address round trip")
            require(address.encoded == core, "address: accepted a text other than its one encoding (up to case and surrounding space)")
        }
        if let viewingKey = try? ViewingKey(encoded: text) {
            expect(try? ViewingKey(encoded: viewingKey.encoded), equals: viewingKey, "viewing key round trip")
            require(viewingKey.encoded == core, "viewing key: accepted a text other than its one encoding")
        }
        if let key = try? BackupPhrase.spendingKey(from: text) {
            expect(try? BackupPhrase.spendingKey(from: BackupPhrase.phrase(for: key)), equals: key, "backup phrase round trip")
        }
    }

    // MARK: Seeds

    /// The X25519 key the note target decrypts with: fixed, so that seeds can be encrypted to it.
    public static let notePrivateKey = SHA256.hash(Array("zksettle/fuzz/note-ciphertext/v1".utf8))
    /// A decryptor per call: one holds scratch buffers, and tests run targets on several threads.
    static var noteDecryptor: NoteEncryption.Decryptor { NoteEncryption.Decryptor(privateKey: notePrivateKey)! }

    /// Valid inputs for this target, each accepted by its decoder: the fuzzer starts from them
    /// (`Fuzz/Seeds/<target>/`, written by `FuzzTargetTests` when ZKSETTLE_WRITE_FUZZ_SEEDS is set).
    public func examples() -> [[UInt8]] {
        switch self {
        case .proofJSON:
            return [Array(SnarkJS.encode(Self.exampleProof(1))), Array(SnarkJS.encode(Proof(unchecked: .infinity, .infinity, .infinity)))]
        case .verifyingKeyJSON:
            let g2 = G2Jacobian.generator
            let vk = VerifyingKey(alpha: Self.g1(3), beta: (Fr(5) * g2).affine, gamma: g2.affine, delta: (Fr(7) * g2).affine,
                                  ic: (0..<8).map { Self.g1(11 + UInt64($0)) })
            return [Array(SnarkJS.encode(vk))]
        case .transferBody:
            let note = try! NoteEncryption.encrypt(NotePlaintext(value: 5, blinding: Fr(9), memo: Array("lunch".utf8)), to: Self.noteAddress)
            let bodies = [
                ExtData(recipient: "", extAmount: 0, fee: 0, encryptedOutputs: [note, note]),
                ExtData(recipient: "iban:DE00 1234", extAmount: -250, fee: 1, encryptedOutputs: [note, []]),
            ].enumerated().map { i, ext in
                TransferBody.encode(TransferRequest(
                    proof: Self.exampleProof(UInt64(i + 2)),
                    publicInputs: try! TransferPublicInputs((0..<7).map { Fr(UInt64(100 * i + $0)) }),
                    extData: ext))
            }
            return bodies.map { Array($0) }
        case .noteCiphertext:
            return [
                try! NoteEncryption.encrypt(NotePlaintext(value: 42, blinding: Fr(17), memo: Array("thanks".utf8)), to: Self.noteAddress),
                try! NoteEncryption.encrypt(NotePlaintext(value: .max, blinding: -Fr.one, memo: []), to: Self.noteAddress),
            ]
        case .addressString:
            let key = SpendingKey(Fr(123_456_789))
            return [Array(Self.noteAddress.encoded.utf8), Array(key.viewingKey.encoded.utf8),
                    Array(BackupPhrase.phrase(for: key).utf8)]
        }
    }

    static var noteAddress: Address {
        Address(owner: Fr(1), encryptionKey: X25519.publicKey(privateKey: notePrivateKey)!)
    }

    static func g1(_ k: UInt64) -> G1Affine { (Fr(k) * G1Jacobian.generator).affine }

    static func exampleProof(_ k: UInt64) -> Proof {
        Proof(unchecked: g1(k), (Fr(k + 1) * G2Jacobian.generator).affine, g1(k + 2))
    }

    // MARK: Checks

    static func checkPoints(_ proof: Proof, _ what: String) {
        require(proof.a.isOnCurve && proof.c.isOnCurve, "\(what): a G1 point off the curve was accepted")
        require(proof.b.isOnCurve && proof.b.isInSubgroup, "\(what): pi_b outside G2 was accepted")
    }

    static func require(_ condition: Bool, _ finding: @autoclosure () -> String) {
        if !condition { fatalError("fuzz finding: \(finding())") }
    }

    static func expect<T: Equatable>(_ value: T?, equals expected: T, _ what: String) {
        guard let value else { fatalError("fuzz finding: \(what): the re-encoding is refused") }
        if value != expected { fatalError("fuzz finding: \(what): decodes to a different value") }
    }
}
