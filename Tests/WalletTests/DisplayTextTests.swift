import Protocol
import Testing

/// What the tools show of other people's text.
@Suite struct DisplayTextTests {
    @Test func controlsAndBidiOverridesBecomeVisible() {
        // Clear the line, return, and print a fake "settled" line; a CSI in its one-byte C1 form;
        // a right-to-left override that would reorder the rest of the row.
        #expect(DisplayText.escaped("hi\u{1B}[2K\rsettled 1000") == "hi\\e[2K\\rsettled 1000")
        #expect(DisplayText.escaped("a\u{9B}31mred") == "a\\u{9B}31mred")
        #expect(DisplayText.escaped("pay \u{202E}0001") == "pay \\u{202E}0001")
        #expect(DisplayText.escaped("tab\tnew\nline\u{7F}\u{0}") == "tab\\tnew\\nline\\u{7F}\\u{0}")
        #expect(DisplayText.escaped("back\\slash") == "back\\\\slash")
        // Ordinary text, emoji and other scripts are shown as they are.
        for plain in ["lunch 🍜 on Friday", "Zürich", "東京", "שלום", "iban:DE00 1234"] {
            #expect(DisplayText.escaped(plain) == plain)
            #expect(DisplayText.isPlain(plain))
        }
        #expect(!DisplayText.isPlain("x\u{1B}"))
        // Line by line keeps our own line breaks and nothing else.
        #expect(DisplayText.escapedLines("one\u{1B}]0;t\u{7}\ntwo") == "one\\e]0;t\\u{7}\ntwo")
    }

    @Test func everyEscapedStringIsFreeOfControls() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let scalars = (0..<Int.random(in: 0...24, using: &rng)).compactMap { _ -> Unicode.Scalar? in
                Unicode.Scalar(UInt32.random(in: 0...0x2100, using: &rng))
            }
            var s = ""
            s.unicodeScalars.append(contentsOf: scalars)
            let e = DisplayText.escaped(s)
            #expect(DisplayText.isPlain(e), "\(Array(e.unicodeScalars))")
        }
    }
}
