import Foundation

/// Compact JSON with sorted keys, written by hand: every settlement answers with one, and
/// Foundation's JSONSerialization was about 9% of the server's time under load (perf). The
/// encoders of the v1 shapes (`Wire/`) write through it, so the server's bytes come from one
/// writer. Takes strings, integers, doubles, booleans, null (`NSNull`), arrays, objects, and
/// `JSONWriter.Raw` (JSON text spliced in as it is, e.g. a proof or a verifying key).
public enum JSONWriter {
    /// JSON text that is already encoded (compact), written as it is.
    public struct Raw: Sendable {
        public let text: String
        public init(_ text: String) { self.text = text }

        /// `json` with the whitespace between tokens removed (strings are kept as they are):
        /// snarkjs's indented layout as compact text, without parsing it into objects.
        public static func compacting(_ json: Data) -> Raw {
            var out = [UInt8]()
            out.reserveCapacity(json.count)
            var inString = false, escaped = false
            for byte in json {
                if inString {
                    out.append(byte)
                    if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                } else if byte == UInt8(ascii: "\"") {
                    inString = true
                    out.append(byte)
                } else if byte != 0x20 && byte != 0x0A && byte != 0x0D && byte != 0x09 {
                    out.append(byte)
                }
            }
            return Raw(String(decoding: out, as: UTF8.self))
        }
    }

    public static func encode(_ object: [String: Any]) -> Data {
        var out = ""
        out.reserveCapacity(512)
        write(object, into: &out)
        return Data(out.utf8)
    }

    /// Containers and `Raw` are tried before the scalar casts: a failed cast of a Swift
    /// dictionary or array to `NSNull` or `NSNumber` bridges the whole container to Foundation
    /// first (an allocation and a copy per level), which made this writer 7% of the server's
    /// CPU under load (perf, `scripts/load.sh`). Bool stays before the integers, as before.
    public static func write(_ value: Any, into out: inout String) {
        switch value {
        case let s as String: writeString(s, into: &out)
        case let o as [String: Any]:
            out += "{"
            for (i, key) in o.keys.sorted().enumerated() {
                if i > 0 { out += "," }
                writeString(key, into: &out)
                out += ":"
                write(o[key]!, into: &out)
            }
            out += "}"
        case let a as [Any]:
            out += "["
            for (i, item) in a.enumerated() {
                if i > 0 { out += "," }
                write(item, into: &out)
            }
            out += "]"
        case let r as Raw: out += r.text
        case let b as Bool: out += b ? "true" : "false"
        case let i as Int: out += String(i)
        case let i as Int64: out += String(i)
        case let i as Int32: out += String(i)
        case let u as UInt64: out += String(u)
        case let u as UInt: out += String(u)
        case let d as Double: out += d.isFinite ? "\(d)" : "null"
        case is NSNull: out += "null"
        case let n as NSNumber: out += n.stringValue
        default: writeString("\(value)", into: &out)
        }
    }

    public static func writeString(_ s: String, into out: inout String) {
        // Most strings (hex, decimal field elements, keys) need no escape: one scan of the
        // UTF-8 bytes and one append, instead of a scalar at a time.
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out += "\""
            out += s
            out += "\""
            return
        }
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let c where c.value < 0x20:
                let hex = String(c.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
