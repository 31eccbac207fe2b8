import Foundation
import Protocol
import Testing

/// The server's JSON writer: exact bytes for every kind of value it takes, so that reordering
/// its casts (for speed) cannot change what a client reads.
@Suite struct JSONWriterTests {
    @Test func writesEveryKindOfValueCompactlyWithSortedKeys() {
        let object: [String: Any] = [
            "z": [1, "two", true, NSNull(), ["k": Int64(-3)] as [String: Any], [] as [Any]] as [Any],
            "a": ["nested": ["deep": UInt64.max] as [String: Any], "empty": [String: Any]()] as [String: Any],
            "b": false,
            "c": 2.5,
            "d": Double.nan,
            "e": JSONWriter.Raw("{\"pi\":[\"1\",\"2\"]}"),
            "f": "quote \" backslash \\ newline \n tab \t bell \u{07} é",
            "g": Int32(7),
            "h": UInt(9),
            "i": NSNumber(value: 12),
            "j": [String: String]() as Any,
            "k": ["x": "y"],
        ]
        let text = String(decoding: JSONWriter.encode(object), as: UTF8.self)
        #expect(text == #"{"a":{"empty":{},"nested":{"deep":18446744073709551615}},"b":false,"c":2.5,"d":null,"e":{"pi":["1","2"]},"f":"quote \" backslash \\ newline \n tab \t bell \u0007 é","g":7,"h":9,"i":12,"j":{},"k":{"x":"y"},"z":[1,"two",true,null,{"k":-3},[]]}"#)
        // What it writes is JSON that Foundation reads back to the same values.
        let back = try? JSONSerialization.jsonObject(with: JSONWriter.encode(object)) as? [String: Any]
        #expect((back?["z"] as? [Any])?.count == 6)
        #expect((back?["f"] as? String) == object["f"] as? String)
    }

    @Test func compactingRemovesWhitespaceOutsideStringsOnly() {
        let raw = JSONWriter.Raw.compacting(Data("{\n  \"a b\": [ 1, \"x\\\" y\" ]\t}\r\n".utf8))
        #expect(raw.text == #"{"a b":[1,"x\" y"]}"#)
    }
}
