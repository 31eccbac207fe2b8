import BN254
import Foundation
import Groth16
import Primitives
import Protocol

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
    /// A server's answers as the wallet decodes them (`ServerAnswer`): notes pages, nullifier
    /// pages, subtree nodes, batch headers, the tree, receipts, parameters. The first byte picks the
    /// decoder, the rest is the answer.
    case serverAnswer = "server-answer"

    /// Runs the target on one input; returns normally unless a promise is broken.
    public func run(_ bytes: UnsafeRawBufferPointer) {
        let data = Data(bytes)
        switch self {
        case .proofJSON: Self.proofJSON(data)
        case .verifyingKeyJSON: Self.verifyingKeyJSON(data)
        case .transferBody: Self.transferBody(data)
        case .noteCiphertext: Self.noteCiphertext(Array(bytes))
        case .addressString: Self.addressString(String(decoding: bytes, as: UTF8.self))
        case .serverAnswer: Self.serverAnswer(Array(bytes))
        }
    }

    public func run(_ bytes: [UInt8]) { bytes.withUnsafeBytes { run($0) } }

    /// Whether the target's decoder accepts the input (every seed must be accepted).
    public func accepts(_ bytes: [UInt8]) -> Bool {
        switch self {
        case .proofJSON: return (try? SnarkJS.proof(from: Data(bytes))) != nil
        case .verifyingKeyJSON: return (try? SnarkJS.verifyingKey(from: Data(bytes))) != nil
        case .transferBody: return (try? TransferBody.decode(Data(bytes), voucher: nil)) != nil
        case .noteCiphertext: return Self.noteDecryptor.decrypt(bytes) != nil
        case .addressString:
            let text = String(decoding: bytes, as: UTF8.self)
            return (try? Address(encoded: text)) != nil || (try? ViewingKey(encoded: text)) != nil
                || (try? BackupPhrase.spendingKey(from: text)) != nil || (try? DepositVoucher(text: text)) != nil
        case .serverAnswer: return Self.decodeServerAnswer(bytes) != nil
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
        guard let request = try? TransferBody.decode(data, voucher: nil) else { return }
        checkPoints(request.proof, "transfer body")
        require(request.publicInputs.array.count == TransferPublicInputs.count, "transfer body: wrong number of public inputs accepted")
        // What admission computes next from a decoded body must not trap, whatever it holds.
        _ = try? request.extData.validate()
        _ = request.extData.hash
        _ = request.id
        guard let again = try? TransferBody.decode(TransferBody.encode(request), voucher: nil) else {
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
            if BackupPhrase.isLegacy(text) {
                expect(try? BackupPhrase.spendingKey(from: BackupPhrase.legacyPhrase(for: key)), equals: key, "backup phrase round trip")
            } else {
                let ws = BackupPhrase.words(of: text)
                expect((try? BIP39.entropy(of: ws)).map(BIP39.mnemonic(entropy:)), equals: ws, "BIP-39 phrase round trip")
            }
        }
        // Deposit vouchers (the X-Deposit-Voucher header, `zkwallet deposit --voucher`): one
        // text per voucher (base64url is case-sensitive: no lowercasing here), exact round trip.
        if let voucher = try? DepositVoucher(text: text) {
            let trimmed = String(decoding: u.drop(while: isSpace).reversed().drop(while: isSpace).reversed(), as: UTF8.self)
            require(voucher.text == trimmed, "voucher: accepted a text other than its one encoding")
            expect(try? DepositVoucher(bytes: voucher.bytes), equals: voucher, "voucher bytes round trip")
            require(voucher.amount >= 1 && voucher.amount <= UInt64(Int64.max) && voucher.expiresAt >= 0, "voucher: accepted an out-of-range field")
        }
    }

    /// The decoders of `serverAnswer`, by the input's first byte; each as the wallet calls it
    /// (from position 4, at most 4 entries, the nodes at height 5, batch 2).
    static let answerFrom = 4, answerLimit = 4
    /// A page of one tree (issue 16) is asked of tree 1 of trees of 32 leaves (`answerCapacity`
    /// for the nullifier list, which does not say it), when the input is not a global page.
    static let answerTree = 1, answerCapacity = 32

    enum Answer {
        case notes(ServerAnswer.NotesPage), spends(ServerAnswer.SpendsPage), treeNotes(ServerAnswer.NotesPage), treeSpends(ServerAnswer.SpendsPage), subtrees([Fr], Int), batch(Fr, Int, Int), tree(Fr, Int), receipt(Receipt)
        case params(String, VerifyingKey, [UInt8])
    }

    static func decodeServerAnswer(_ bytes: [UInt8]) -> Answer? {
        guard let kind = bytes.first else { return nil }
        let data = Data(bytes.dropFirst())
        switch kind % 7 {
        case 0: return (try? ServerAnswer.notesPage(data, from: answerFrom, limit: answerLimit)).map(Answer.notes)
            ?? (try? ServerAnswer.treeNotesPage(data, tree: answerTree, from: answerFrom, limit: answerLimit)).map(Answer.treeNotes)
        case 1: return (try? ServerAnswer.spendsPage(data, from: answerFrom, limit: answerLimit)).map(Answer.spends)
            ?? (try? ServerAnswer.spendsPage(data, from: answerFrom, limit: answerLimit, tree: answerTree, capacity: answerCapacity)).map(Answer.treeSpends)
        case 2: return (try? ServerAnswer.subtrees(data, height: 5, from: answerFrom, limit: answerLimit, tree: 0)).map { .subtrees($0.roots, $0.complete) }
        case 3: return (try? ServerAnswer.batch(data, number: 2)).map { .batch($0.root, $0.leafCount, $0.tree) }
        case 4: return (try? TreeAnswer.decode(data)).map { .tree($0.root, $0.leafCount) }
        case 5: return (try? SettlementAnswer.decode(data)).map { .receipt($0.receipt) }
        default: return (try? ServerParameters.decode(data)).map { .params($0.circuitID, $0.verifyingKey, $0.receiptPublicKey) }
        }
    }

    static func serverAnswer(_ bytes: [UInt8]) {
        guard let answer = decodeServerAnswer(bytes) else { return }
        switch answer {
        case .notes(let page):
            require(page.notes.count <= answerLimit && page.next == answerFrom + page.notes.count, "notes page: more than asked, or next out of step")
            require(page.notes.enumerated().allSatisfy { $0.element.leafIndex == answerFrom + $0.offset }, "notes page: a gap or leaves out of order")
            require(page.notes.allSatisfy { $0.batch >= 1 } && page.leafCount >= 0, "notes page: a batch below 1 or a negative count")
            require(ServerAnswer.isTreeCapacity(page.treeCapacity), "notes page: a tree capacity that is not a power of two from 32 to 2^20")
            require((try? ServerAnswer.notesPage(ServerAnswer.encode(page), from: answerFrom, limit: answerLimit)) == page,
                    "notes page: does not re-encode to itself")
        case .spends(let page):
            require(page.spends.count <= answerLimit && page.next == answerFrom + page.spends.count, "nullifier page: more than asked, or next out of step")
            for (k, s) in page.spends.enumerated() {
                require(s.index == answerFrom + k, "nullifier page: positions out of order")
                let digits = Array(s.nullifier.utf8)
                require(!digits.isEmpty && digits.count <= 77 && digits.allSatisfy { $0 >= 48 && $0 <= 57 } && (digits.count == 1 || digits[0] != 48),
                        "nullifier page: a nullifier that is not a canonical decimal")
                require(s.transferID.utf8.count == 64 && Hex.decode(s.transferID) != nil, "nullifier page: a transfer id that is not 32 bytes of hex")
            }
            require((try? ServerAnswer.spendsPage(ServerAnswer.encode(page, from: answerFrom), from: answerFrom, limit: answerLimit)) == page,
                    "nullifier page: does not re-encode to itself")
        case .treeNotes(let page):
            let base = answerTree * page.treeCapacity
            require(page.notes.count <= answerLimit && page.next == answerFrom + page.notes.count && page.next <= page.treeCapacity,
                    "tree notes page: more than asked, next out of step, or past the tree's end")
            require(page.notes.enumerated().allSatisfy { $0.element.leafIndex == base + answerFrom + $0.offset }, "tree notes page: a gap, leaves out of order or of another tree")
            require(page.notes.allSatisfy { $0.batch >= 1 } && (1...ServerAnswer.maxOpenTrees).contains(page.openTrees), "tree notes page: a batch below 1 or an impossible number of open trees")
            require(ServerAnswer.isTreeCapacity(page.treeCapacity), "tree notes page: a tree capacity that is not a power of two from 32 to 2^20")
            require((try? ServerAnswer.treeNotesPage(ServerAnswer.encode(page, tree: answerTree, from: answerFrom), tree: answerTree, from: answerFrom,
                                                     limit: answerLimit)) == page, "tree notes page: does not re-encode to itself")
        case .treeSpends(let page):
            require(page.spends.count <= answerLimit && page.next == answerFrom + page.spends.count && page.next <= answerCapacity,
                    "tree nullifier page: more than asked, next out of step, or past the tree's end")
            require(page.spends.enumerated().allSatisfy { $0.element.index == answerTree * answerCapacity + answerFrom + $0.offset }, "tree nullifier page: positions out of order")
            require((try? ServerAnswer.spendsPage(ServerAnswer.encode(page, from: answerFrom, tree: answerTree), from: answerFrom, limit: answerLimit,
                                                  tree: answerTree, capacity: answerCapacity)) == page, "tree nullifier page: does not re-encode to itself")
        case .subtrees(let roots, let complete):
            require(roots.count <= answerLimit && complete >= answerFrom + roots.count, "subtrees: more than asked, or fewer complete than sent")
        case .batch(_, let leaves, let tree):
            require(leaves >= 0 && leaves <= 1 << 20 && tree >= 0, "batch: a negative or oversized leaf count, or a negative tree")
        case .tree(_, let leaves):
            require(leaves >= 0, "a negative leaf count")
        case .params(let id, let vk, let key):
            require(key.count == 32 && !id.isEmpty && id.utf8.count <= 128, "params: a receipt key that is not 32 bytes, or an unusable circuit id")
            require(!id.contains("/") && id != "." && id != "..", "params: a circuit id that could name another file")
            _ = ParametersFingerprint.hex(circuitID: id, verifyingKey: vk, receiptPublicKey: key)
        case .receipt(let r):
            require(r.transferID.count == 32 && r.signature.count == 64, "receipt: wrong id or signature length")
            require(r.leafIndices.count == 2 && r.leafIndices[1] == r.leafIndices[0] + 1 && r.leafIndices[0] >= 0, "receipt: leaf indices not a pair")
            require(r.tree >= 0, "receipt: a negative tree")
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
            return [Array(SnarkJS.encode(Self.verifyingKeyJSON.exampleKey))]
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
                    Array(BackupPhrase.legacyPhrase(for: key).utf8), Array(BIP39.mnemonic(entropy: [UInt8](repeating: 0x7f, count: 32)).joined(separator: " ").utf8)]
        case .serverAnswer:
            let ct = Data(try! NoteEncryption.encrypt(NotePlaintext(value: 1, blinding: Fr(2), memo: []), to: Self.noteAddress)).base64EncodedString()
            let nf = Fr(987_654_321).decimalString, id = String(repeating: "ab", count: 32)
            let answers: [(UInt8, String)] = [
                (0, #"{"notes":[{"leaf_index":4,"tree":0,"commitment":"5","encrypted_output":"\#(ct)","batch":2},{"leaf_index":5,"tree":0,"commitment":"6","encrypted_output":"","batch":2}],"next":6,"leaf_count":6,"tree_capacity":1048576}"#),
                (1, #"{"from":4,"next":6,"count":6,"nullifiers":["\#(nf)","12"],"transfer_ids":["\#(id)"],"batches":[2],"ext_amounts":["-7"]}"#),
                (0, #"{"tree":1,"from":4,"notes":[{"leaf_index":36,"tree":1,"commitment":"5","encrypted_output":"\#(ct)","batch":3}],"next":5,"leaf_count":40,"tree_capacity":32,"open_trees":2}"#),
                (1, #"{"tree":1,"from":4,"next":6,"count":40,"nullifiers":["\#(nf)","12"],"transfer_ids":["\#(id)"],"batches":[3],"ext_amounts":["0"]}"#),
                (2, #"{"tree":0,"height":5,"from":4,"roots":["1","2"],"complete":6,"leaf_count":192}"#),
                (3, #"{"number":2,"tree":0,"root":"42","leaf_count":4,"hash":"\#(id)"}"#),
                (4, #"{"root":"42","leaf_count":4,"depth":20}"#),
                (5, #"{"status":"settled","receipt":{"transfer_id":"\#(id)","batch":2,"tree":0,"leaf_indices":[2,3],"root":"42","settled_at":1700000000000,"signature":"\#(String(repeating: "cd", count: 64))"}}"#),
            ]
            let vkJSON = String(decoding: SnarkJS.encode(FuzzTarget.verifyingKeyJSON.exampleKey), as: UTF8.self)
            let params = #"{"circuit_id":"\#(String(repeating: "0f", count: 32))","protocol":"zksettle/v1","receipt_public_key":"\#(String(repeating: "11", count: 32))","verifying_key":\#(vkJSON)}"#
            return answers.map { [$0.0] + Array($0.1.utf8) } + [[6] + Array(params.utf8)]
        }
    }

    /// The verifying key of the seeds (vk-json, and params of server-answer).
    var exampleKey: VerifyingKey {
        let g2 = G2Jacobian.generator
        return VerifyingKey(alpha: Self.g1(3), beta: (Fr(5) * g2).affine, gamma: g2.affine, delta: (Fr(7) * g2).affine,
                            ic: (0..<8).map { Self.g1(11 + UInt64($0)) })
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
