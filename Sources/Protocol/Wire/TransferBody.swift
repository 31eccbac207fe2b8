import BN254
import Foundation
import Groth16


/// The body of `POST /v1/transfers`, version 1:
///
///     {
///       "proof":         { snarkjs proof.json: pi_a, pi_b, pi_c, protocol, curve },
///       "public_inputs": [root, publicAmount, extDataHash, nf0, nf1, cmOut0, cmOut1],
///       "ext_data": {
///         "recipient":         "",            // withdrawal target; empty otherwise
///         "ext_amount":        "-250",        // signed decimal string (or JSON integer)
///         "fee":               "0",           // decimal string (or JSON integer)
///         "encrypted_outputs": ["base64", "base64"]
///       }
///     }
///
/// Field elements are canonical decimal strings (< r), as in snarkjs's `public.json`. Unknown
/// keys are refused so that a misspelt field is an error, not a silently ignored value.
///
/// It lives in the settlement domain, not the HTTP layer, so that the wallet and the load
/// generator can encode requests (and the fuzzers decode them) without linking the server.
public enum TransferBody {
    public static let maxBytes = 64 * 1024
    /// The request header that carries a deposit's voucher (`ext_amount` > 0): `zkv1…`
    /// (`DepositVoucher`). Not in the body: the body is the transfer, the voucher pays for it.
    public static let voucherHeader = "X-Deposit-Voucher"

    /// Decodes a body and, when given, the text of its `X-Deposit-Voucher` header. A voucher
    /// that does not parse is `unauthorized` with the reason; a voucher beside a transfer that
    /// deposits nothing is `malformed` (it would be spent for nothing, or be a mistake).
    public static func decode(_ data: Data, voucher voucherText: String?) throws(WireError) -> TransferRequest {
        let parsed: Any
        do { parsed = try JSONSerialization.jsonObject(with: data) } catch {
            throw .malformed("the body is not JSON: \((error as NSError).userInfo[NSDebugDescriptionErrorKey] ?? error.localizedDescription)")
        }
        guard let obj = parsed as? [String: Any] else { throw .malformed("the body must be a JSON object with proof, public_inputs and ext_data") }
        try onlyKeys(obj, ["proof", "public_inputs", "ext_data"], in: "body")

        guard let proofObj = obj["proof"] as? [String: Any] else { throw .malformed("proof: expected a snarkjs proof.json object") }
        let proof: Proof
        do { proof = try SnarkJS.proof(proofObj) } catch { throw .malformed("proof: \(error.description)") }

        guard let inputs = obj["public_inputs"] as? [Any] else {
            throw .malformed("public_inputs: expected an array of 7 decimal strings")
        }
        let values: [Fr]
        do { values = try SnarkJS.publicInputs(inputs) } catch { throw .malformed(error.description) }
        let publicInputs = try TransferPublicInputs(values)

        guard let ext = obj["ext_data"] as? [String: Any] else { throw .malformed("ext_data: expected an object") }
        let extData = try decodeExtData(ext)
        var voucher: DepositVoucher?
        if let voucherText {
            guard extData.extAmount > 0 else {
                throw .malformed("a deposit voucher came with a transfer that deposits nothing (ext_amount \(extData.extAmount)): send it only with a deposit")
            }
            do { voucher = try DepositVoucher(text: voucherText) } catch { throw .unauthorized(error.description) }
        }
        return TransferRequest(proof: proof, publicInputs: publicInputs, extData: extData, voucher: voucher)
    }

    public static func decodeExtData(_ ext: [String: Any]) throws(WireError) -> ExtData {
        try onlyKeys(ext, ["recipient", "ext_amount", "fee", "encrypted_outputs"], in: "ext_data")
        let recipient: String
        switch ext["recipient"] {
        case nil, is NSNull: recipient = ""
        case let s as String: recipient = s
        default: throw .malformed("ext_data.recipient: expected a string")
        }
        guard let extAmount = integer(ext["ext_amount"], Int64.self) else {
            throw .malformed("ext_data.ext_amount: expected a signed 64-bit integer as a decimal string, e.g. \"-250\"")
        }
        guard let fee = integer(ext["fee"] ?? "0", UInt64.self) else {
            throw .malformed("ext_data.fee: expected an unsigned 64-bit integer as a decimal string")
        }
        guard let outs = ext["encrypted_outputs"] as? [Any] else {
            throw .malformed("ext_data.encrypted_outputs: expected an array of 2 base64 strings")
        }
        var outputs: [[UInt8]] = []
        for (i, o) in outs.enumerated() {
            guard let s = o as? String, let bytes = Data(base64Encoded: s) else {
                throw .malformed("ext_data.encrypted_outputs[\(i)]: expected standard base64")
            }
            outputs.append(Array(bytes))
        }
        return ExtData(recipient: recipient, extAmount: extAmount, fee: fee, encryptedOutputs: outputs)
    }

    /// A JSON value as an integer: a decimal string (preferred: JSON numbers lose precision
    /// past 2^53 in many clients) or an integral JSON number.
    public static func integer<T: FixedWidthInteger>(_ v: Any?, _: T.Type) -> T? {
        if let s = v as? String {
            let digits = s.hasPrefix("-") ? s.dropFirst() : Substring(s)
            guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
                  digits.count == 1 || digits.first != "0" else { return nil }
            return T(s)
        }
        // JSONSerialization gives integers as NSNumber of a C integer type; true/false are
        // type "c" and fractions "d": both refused. Numbers from 2^63 on come as unsigned
        // ("Q"): read as unsigned, never through int64Value, which would wrap 2^63 to -2^63.
        if let n = v as? NSNumber {
            let type = String(cString: n.objCType)
            if "ILQS".contains(type) { return T(exactly: n.uint64Value) }
            if "islq".contains(type) { return T(exactly: n.int64Value) }
        }
        return nil
    }

    static func onlyKeys(_ obj: [String: Any], _ allowed: Set<String>, in what: String) throws(WireError) {
        if let extra = obj.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw .malformed("\(what): unknown field \"\(extra)\" (allowed: \(allowed.sorted().joined(separator: ", ")))")
        }
    }

    /// The body a client posts for `request` (used by the load generator, the wallet and tests):
    /// compact, keys sorted, the proof as snarkjs writes it made compact and spliced in (no
    /// proof → JSON → object → JSON).
    public static func encode(_ request: TransferRequest) -> Data {
        JSONWriter.encode([
            "proof": JSONWriter.Raw.compacting(SnarkJS.encode(request.proof)),
            "public_inputs": request.publicInputs.array.map(\.decimalString),
            "ext_data": [
                "recipient": request.extData.recipient,
                "ext_amount": String(request.extData.extAmount),
                "fee": String(request.extData.fee),
                "encrypted_outputs": request.extData.encryptedOutputs.map { Data($0).base64EncodedString() },
            ] as [String: Any],
        ])
    }
}
