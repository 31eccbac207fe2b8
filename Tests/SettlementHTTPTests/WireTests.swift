import BN254
import Circuits
import Foundation
import Groth16
import Hummingbird
import HummingbirdTesting
import Primitives
import Protocol
import SettlementHTTP
import TestSupport
import Testing

/// The server's answers decode with the wire's decoders (Protocol/Wire), and re-encode with its
/// encoders to the very bytes served: one shape, written once, read the same on both sides.
@Suite struct WireTests {
    @Test func answersDecodeWithTheWireTypesAndReencodeToTheServedBytes() async throws {
        try await TestServer.run { client, server in
            let params = try await client.get("/v1/params")
            let p = try ServerParameters.decode(params.body)
            #expect(p.circuitID == TransferCircuit.circuitID && p.receiptPublicKey == server.receiptKey.publicKey)
            #expect(p.verifyingKey == Keys.verifyingKey)
            #expect(p.encode() == params.body, "\(String(decoding: params.body, as: UTF8.self))")

            let (request, _) = try deposit(10, to: Peer(), root: try await client.root())
            let settled = try await client.post(request)
            #expect(settled.status == 200)
            let answer = try SettlementAnswer.decode(settled.body)
            #expect(answer.checkReceipt(transferID: request.id.hex, receiptKey: server.receiptKey.publicKey))
            #expect(!answer.checkReceipt(transferID: request.id.hex, receiptKey: Ed25519Key.generate().publicKey))
            #expect(answer.publicInputs == request.publicInputs.array && answer.extAmount == 10 && answer.fee == 0)
            #expect(answer.encode() == settled.body)
            #expect(try await client.get("/v1/transfers/\(request.id.hex)").body == settled.body)

            let tree = try await client.get("/v1/tree")
            let t = try TreeAnswer.decode(tree.body)
            #expect(t.leafCount == 2 && t.lastBatch == 1 && t.root == answer.receipt.root)
            #expect(t.encode() == tree.body)

            let path = try await client.get("/v1/tree/path/1")
            let pa = try PathAnswer.decode(path.body)
            #expect(pa.leafIndex == 1 && pa.root == t.root && pa.encode() == path.body)

            let notes = try await client.get("/v1/notes?from=0&limit=10")
            #expect(ServerAnswer.encode(try ServerAnswer.notesPage(notes.body, from: 0, limit: 10)) == notes.body)
            let spends = try await client.get("/v1/nullifiers?from=0&limit=10")
            #expect(ServerAnswer.encode(try ServerAnswer.spendsPage(spends.body, from: 0, limit: 10), from: 0) == spends.body)

            let missing = try await client.get("/v1/batches/99")
            #expect(ErrorEnvelope.decode(missing.body)?.code == "not_found" && missing.status == 404)
            #expect(ErrorEnvelope.decode(missing.body)?.encode() == missing.body)
        }
    }

    /// The transfer body is compact JSON with the proof spliced in from snarkjs's text, and it
    /// decodes to the request it came from.
    @Test func theTransferBodyRoundTrips() async throws {
        let (request, _) = try deposit(10, to: Peer(), root: MerkleTree().root)
        let body = TransferBody.encode(request)
        #expect(!body.contains(UInt8(ascii: "\n")) && !body.contains(UInt8(ascii: " ")))
        let again = try TransferBody.decode(body, voucher: request.voucher?.text)
        #expect(again.proof == request.proof && again.publicInputs == request.publicInputs && again.extData == request.extData)
    }
}
