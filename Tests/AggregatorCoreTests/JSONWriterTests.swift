import AggregatorWire
import Foundation
import Testing

@Suite struct JSONWriterTests {
    private func written(_ body: (inout JSONWriter) -> Void) -> String {
        var writer = JSONWriter()
        body(&writer)
        return writer.string
    }

    @Test func stringsEscapeQuotesBackslashesAndControlBytesAndKeepTheRest() throws {
        #expect(written { $0.string("") } == #""""#)
        #expect(written { $0.string("plain text") } == #""plain text""#)
        #expect(written { $0.string(#""quoted" \ path"#) } == #""\"quoted\" \\ path""#)
        #expect(written { $0.string("a\nb\rc\td\u{08}e\u{0C}f\u{01}g\u{1F}") } == #""a\nb\rc\td\be\ff\u0001g\u001f""#)
        #expect(written { $0.string("\n") } == #""\n""#)
        #expect(written { $0.string("é 🦊 \u{7F}") } == "\"é 🦊 \u{7F}\"")
        // Every byte below 0x20, and the two that must be escaped, read back as they were written.
        let all = String(decoding: (0..<0x20).map { UInt8($0) } + Array(#"x"\y"#.utf8), as: UTF8.self)
        let text = written { $0.object { $0.field("k", all) } }
        let back = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String]
        #expect(back == ["k": all])
    }

    @Test func integersAndWholeDoublesAreWrittenAsDecimalDigits() {
        #expect(written { w in w.array { for v in [0, 7, -1, 1_234_567_890, Int.max, Int.min] { $0.int(v) } } }
            == "[0,7,-1,1234567890,9223372036854775807,-9223372036854775808]")
        #expect(written { $0.int(UInt64.max) } == "18446744073709551615")
        #expect(written { w in w.array { for v in [3.0, -2.0, 0.5, .nan, -0.0] { $0.double(v) } } } == "[3,-2,0.5,null,0]")
    }
}
