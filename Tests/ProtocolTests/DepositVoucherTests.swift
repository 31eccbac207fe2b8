import Foundation
import Primitives
import Protocol
import Testing

/// Deposit vouchers (issue 14, point 5): the text form round-trips, the signature binds every
/// field and the key, and the parser refuses every malformed text with a reason.
@Suite struct DepositVoucherTests {
    let key = Ed25519Key.generate()

    @Test func aVoucherRoundTripsAndVerifiesUnderItsKeyOnly() throws {
        let v = DepositVoucher.issue(amount: 1234, expiresAt: 2_000_000_000, key: key)
        #expect(v.text.hasPrefix("zkv1") && v.text.count == DepositVoucher.textLength && DepositVoucher.textLength == 155)
        #expect(try DepositVoucher(text: v.text) == v)
        #expect(try DepositVoucher(text: "  \(v.text)\n") == v, "pasted with spaces and a line break")
        #expect(try DepositVoucher(bytes: v.bytes) == v)
        #expect(v.isSigned(by: key.publicKey))
        #expect(!v.isSigned(by: Ed25519Key.generate().publicKey))
        #expect(v.id == Hex.encode(v.nonce) && v.nonce.count == 16)
        // Two vouchers for the same amount and expiry differ (fresh nonces).
        #expect(DepositVoucher.issue(amount: 1234, expiresAt: 2_000_000_000, key: key).nonce != v.nonce)
    }

    @Test func theSignatureCoversTheFieldsAndTheTagCoversEveryByte() throws {
        let v = DepositVoucher.issue(amount: 50, expiresAt: 2_000_000_000, key: key)
        let macKey = DepositVoucher.macKey(for: key)
        #expect(v.hasValidTag(macKey: macKey))
        #expect(!v.hasValidTag(macKey: DepositVoucher.macKey(for: Ed25519Key.generate())), "another key's tag")
        #expect(macKey != key.privateKey && macKey.count == 32)
        // Flip one bit anywhere after the version byte: it still parses (or not), its tag never
        // checks, and its signature does not either unless the bit was in the tag.
        for i in 1..<DepositVoucher.byteCount {
            var b = v.bytes
            b[i] ^= 1
            if let changed = try? DepositVoucher(bytes: b) {
                #expect(!changed.hasValidTag(macKey: macKey), "byte \(i)")
                #expect(changed.isSigned(by: key.publicKey) == (i >= 97), "byte \(i)")
            }
        }
    }

    @Test func checkRefusesWrongAmountExpiryAndKeyInThatSense() throws {
        let v = DepositVoucher.issue(amount: 10, expiresAt: 1_000, key: key)
        #expect(throws: Never.self) { try v.check(publicKey: key.publicKey, depositAmount: 10, now: 999) }
        #expect(throws: DepositVoucher.Failure.expired(at: 1_000)) { try v.check(publicKey: key.publicKey, depositAmount: 10, now: 1_000) }
        #expect(throws: DepositVoucher.Failure.wrongAmount(voucher: 10, deposit: 11)) { try v.check(publicKey: key.publicKey, depositAmount: 11, now: 0) }
        #expect(throws: DepositVoucher.Failure.badSignature) { try v.check(publicKey: Ed25519Key.generate().publicKey, depositAmount: 10, now: 0) }
    }

    @Test func malformedTextsAreRefusedWithAReason() throws {
        let v = DepositVoucher.issue(amount: 7, expiresAt: 2_000_000_000, key: key)
        var version2 = v.bytes; version2[0] = 2
        var zeroAmount = v.bytes; for i in 1...8 { zeroAmount[i] = 0 }
        var hugeAmount = v.bytes; hugeAmount[1] = 0x80
        let body = String(v.text.dropFirst(4))
        let cases: [(String, String)] = [
            ("", "does not start with zkv1"),
            ("zkv2" + body, "does not start with zkv1"),
            ("ZKV1" + body, "does not start with zkv1"),
            (String(v.text.dropLast()), "characters where a voucher has 155"),
            (v.text + "A", "characters where a voucher has 155"),
            ("zkv1" + String(body.dropLast()) + "+", "not base64url"),
            ("zkv1" + String(body.dropLast()) + "=", "not base64url"),
            ("zkv1" + String(body.dropLast()) + "é", "characters where a voucher has 155"),
            ("zkv1" + Base64URL.encode(version2), "version 2"),
            ("zkv1" + Base64URL.encode(zeroAmount), "amount 0 is out of range"),
            ("zkv1" + Base64URL.encode(hugeAmount), "out of range"),
            ("\u{85}" + v.text, "does not start with zkv1"),
        ]
        for (text, reason) in cases {
            do {
                _ = try DepositVoucher(text: text)
                Issue.record("accepted \(text.debugDescription)")
            } catch {
                #expect(error.description.contains(reason), "\(text.debugDescription): \(error.description)")
            }
        }
    }

    /// Against Foundation's base64 (RFC 4648 section 4), with the URL alphabet's two
    /// substitutions and the padding removed, for every length 0…100.
    @Test func base64URLAgreesWithFoundationsBase64() {
        for n in 0...100 {
            let bytes = (0..<n).map { _ in UInt8.random(in: 0...255) }
            let reference = Data(bytes).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            #expect(Base64URL.encode(bytes) == reference, "length \(n)")
            #expect(Base64URL.decode(reference) == bytes, "length \(n)")
        }
        #expect(Base64URL.decode("A") == nil && Base64URL.decode("AAAAA") == nil, "a length no byte string has")
        #expect(Base64URL.decode("AA==") == nil && Base64URL.decode("A A") == nil && Base64URL.decode("é") == nil)
    }

    @Test func base64URLIsCanonical() {
        // 113 bytes leave 2 unused low bits in the last character: only one text per voucher.
        let bytes = [UInt8](repeating: 0xAB, count: 113)
        let text = Base64URL.encode(bytes)
        #expect(Base64URL.decode(text) == bytes)
        let last = text.last!
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        let i = alphabet.firstIndex(of: last)!
        let sibling = String(text.dropLast()) + String(alphabet[i ^ 1])
        #expect(Base64URL.decode(sibling) == nil, "a non-zero unused bit is refused")
    }
}
