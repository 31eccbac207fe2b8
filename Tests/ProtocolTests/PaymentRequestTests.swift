import BN254
import Foundation
import Protocol
import Testing

/// `zks:` payment requests (issue 19, point 9): a round trip, and every check refusing something.
@Suite struct PaymentRequestTests {
    static let address = ViewingKey(nullifierKey: Fr(UInt64(7)), encryptionPrivateKey: [UInt8](repeating: 9, count: 32)).address

    @Test func roundTrips() throws {
        for (amount, memo) in [(UInt64?(30), String?("lunch on friday, 12:30 & co ✓")), (nil, nil), (1, ""), (UInt64(Int64.max), "x")] {
            let r = PaymentRequest(address: Self.address, amount: amount, memo: memo)
            let back = try PaymentRequest(uri: r.uri)
            #expect(back.address == Self.address && back.amount == amount && (back.memo ?? "") == (memo ?? ""), "\(r.uri)")
            #expect(r.uri.hasPrefix("zks:zks1") && !r.uri.contains(" "))
        }
        // Upper-case scheme and surrounding whitespace, as pasted.
        #expect(try PaymentRequest(uri: "  ZKS:\(Self.address.encoded)?amount=5\n").amount == 5)
    }

    @Test func refusesWhatItCannotReadExactly() {
        let a = Self.address.encoded
        let bad = [
            "zcash:\(a)?amount=5", "\(a)?amount=5", "zks:zks1notanaddress?amount=5",
            "zks:\(a)?amount=0", "zks:\(a)?amount=-5", "zks:\(a)?amount=1.5", "zks:\(a)?amount=9223372036854775808",
            "zks:\(a)?amount=%35%35", "zks:\(a)?amount=5&amount=6", "zks:\(a)?memo=a&memo=b", "zks:\(a)?amount",
            "zks:\(a)?label=x", "zks:\(a)?req-fee=1", "zks:\(a)?memo=" + String(repeating: "m", count: 129),
            "zks:\(a)?memo=%FF", "zks:" + String(repeating: "a", count: 3000),
        ]
        for uri in bad {
            #expect(throws: PaymentRequest.Failure.self, "\(uri.prefix(80))") { try PaymentRequest(uri: uri) }
        }
    }
}
