import BN254
import Foundation
import Groth16
import Primitives

/// The seven public inputs of the transfer statement, in circuit order (`TransferStatement`).
public struct TransferPublicInputs: Sendable, Equatable {
    public var root: Fr
    public var publicAmount: Fr
    public var extDataHash: Fr
    public var nullifiers: Pair<Fr>
    public var commitments: Pair<Fr>

    public static let count = TransferStatement.publicInputCount

    public init(root: Fr, publicAmount: Fr, extDataHash: Fr, nullifiers: Pair<Fr>, commitments: Pair<Fr>) {
        self.root = root; self.publicAmount = publicAmount; self.extDataHash = extDataHash
        self.nullifiers = nullifiers; self.commitments = commitments
    }

    /// From `public.json` order: [root, publicAmount, extDataHash, nf0, nf1, cmOut0, cmOut1].
    public init(_ values: [Fr]) throws(WireError) {
        guard values.count == Self.count else {
            throw .malformed("expected \(Self.count) public inputs [root, publicAmount, extDataHash, nf0, nf1, cmOut0, cmOut1], got \(values.count)")
        }
        self.init(root: values[0], publicAmount: values[1], extDataHash: values[2],
                  nullifiers: Pair(values[3], values[4]), commitments: Pair(values[5], values[6]))
    }

    public var array: [Fr] {
        [root, publicAmount, extDataHash, nullifiers.first, nullifiers.second, commitments.first, commitments.second]
    }
}

/// A transfer's identity: SHA-256 of its seven public inputs (32-byte big-endian each).
/// Proof bytes are not part of it: Groth16 proofs can be re-randomized, so a re-submission
/// with a different proof of the same statement is the same transfer.
public struct TransferID: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init(_ inputs: TransferPublicInputs) {
        bytes = SHA256.hash(inputs.array.flatMap(\.bigEndianBytes))
    }

    public init?(hex: String) {
        guard let bytes = Hex.decode(hex), bytes.count == 32 else { return nil }
        self.bytes = bytes
    }

    public init(bytes: [UInt8]) { precondition(bytes.count == 32); self.bytes = bytes }

    public var hex: String { Hex.encode(bytes) }
    public var description: String { hex }
}

/// A decoded transfer request (the body of `POST /v1/transfers`).
public struct TransferRequest: Sendable {
    public var proof: Proof
    /// Setting them (a test forging a request) hashes the new inputs into `id`.
    public var publicInputs: TransferPublicInputs { didSet { id = TransferID(publicInputs) } }
    public var extData: ExtData
    /// The operator's single-use permission for this deposit; required when extData.extAmount > 0
    /// (it travels beside the body, in the `X-Deposit-Voucher` header).
    public var voucher: DepositVoucher?
    /// The transfer's identity, hashed once here: the pipeline asks for it at every stage
    /// (admission, sequencer, commit, reply), and a SHA-256 each time was a visible cost.
    public private(set) var id: TransferID

    public init(proof: Proof, publicInputs: TransferPublicInputs, extData: ExtData, voucher: DepositVoucher? = nil) {
        self.proof = proof; self.publicInputs = publicInputs; self.extData = extData; self.voucher = voucher
        id = TransferID(publicInputs)
    }
}
