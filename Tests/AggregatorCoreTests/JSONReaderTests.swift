import AggregatorWire
import Foundation
import Testing

@Suite struct JSONReaderTests {
    static func parse(_ text: String) throws -> JSONValue {
        try JSONReader.decode(JSONValue.self, from: Array(text.utf8))
    }

    /// Foundation's reading of the same text, the reference.
    static func reference(_ text: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    static let valid = [
        #"{}"#, #"[]"#, #"null"#, #"true"#, #"false"#, #"0"#, #"-0"#, #"42"#, #"-17"#, #"9223372036854775807"#,
        #"-9223372036854775808"#, #"1.5"#, #"-0.25"#, #"1e3"#, #"2.5E-3"#, #"1e+2"#, #"12345678901234567890"#,
        #""""#, #""plain""#, #""quote \" backslash \\ slash \/ controls \b\f\n\r\t""#, #""\u00e9\u4e2d\uD83D\uDE00""#,
        #""héllo 中文 😀""#, #" { "a" : [ 1 , 2 , { "b" : null } ] , "c" : "d" } "#,
        #"{"nested":{"deeper":{"deepest":[[[]]]}},"list":[true,false,null,1,-1.5,"x"]}"#,
    ]

    @Test(arguments: valid) func readsWhatFoundationReads(_ text: String) throws {
        #expect(try Self.parse(text) == Self.reference(text))
    }

    static let invalid = [
        "", " ", "{", "[", #"{"a"}"#, #"{"a":}"#, #"{"a":1,}"#, "[1,]", "[1 2]", "01", "1.", ".5", "-", "1e", "+1", "tru", "nul",
        #""unterminated"#, "\"tab\tinside\"", #""bad \x escape""#, #""\u12""#, "NaN", "{} {}", #"{'a':1}"#, "[1]]",
    ]

    @Test(arguments: invalid) func refusesWhatIsNotJSON(_ text: String) {
        #expect(throws: JSONReader.Error.self) { try Self.parse(text) }
    }

    @Test func keepsObjectKeysInTheOrderOfTheText() throws {
        let value = try Self.parse(#"{"zeta":1,"alpha":2,"mid":{"y":1,"b":2}}"#)
        #expect(value.objectValue?.keys == ["zeta", "alpha", "mid"])
        #expect(value["mid"]?.objectValue?.keys == ["y", "b"])
        #expect(value.jsonText == #"{"zeta":1,"alpha":2,"mid":{"y":1,"b":2}}"#)
    }

    @Test func loneSurrogatesAndMalformedUTF8AreRefusedLikeFoundationDoes() throws {
        for text in [#""a\uD800b""#, #""\uDC00""#, #""\uD800\u0041""#] {
            #expect(throws: JSONReader.Error.self) { try Self.parse(text) }
            #expect(throws: DecodingError.self) { try Self.reference(text) }
        }
        for bytes: [UInt8] in [[0x22, 0xFF, 0x22], [0x22, 0x61, 0xC3, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0x5C, 0x6E, 0xFF, 0x22]] {
            #expect(throws: JSONReader.Error.self) { try JSONReader.decode(JSONValue.self, from: bytes) }
        }
        #expect(try JSONReader.decode(JSONValue.self, from: [0x22, 0xC3, 0xA9, 0x5C, 0x6E, 0x22]) == .string("é\n"))
    }

    /// `validate` is the gate in front of `JSONDecoder`: it refuses exactly what the reader refuses, skipping
    /// string contents (escapes checked) without building values.
    @Test(arguments: invalid + [#""\q""#, #"{"a":"\u12G4"}"#, #"{"t":01,"t":1}"#, #"{"n":1e999}"#])
    func validateRefusesWhatIsNotJSON(_ text: String) {
        #expect(throws: JSONReader.Error.self) { try JSONReader.validate(Array(text.utf8)) }
    }

    @Test(arguments: valid) func validateAcceptsJSON(_ text: String) throws {
        try JSONReader.validate(Array(text.utf8))
    }

    @Test func validateSaysWhereAndHonoursItsDepth() throws {
        let trailing = Array(#"{"a":[1,2],}"#.utf8)
        #expect(throws: JSONReader.Error("expected a string at byte 11", offset: 11)) { try JSONReader.validate(trailing) }
        let nested = Array((String(repeating: "[", count: 9) + String(repeating: "]", count: 9)).utf8)
        try JSONReader.validate(nested, maxDepth: 9)
        #expect(throws: JSONReader.Error("nesting deeper than 8 levels at byte 8", offset: 8)) { try JSONReader.validate(nested, maxDepth: 8) }
    }

    @Test func nestingIsBounded() throws {
        let deep = String(repeating: "[", count: JSONReader.maxDepth + 1) + String(repeating: "]", count: JSONReader.maxDepth + 1)
        #expect(throws: JSONReader.Error.self) { try Self.parse(deep) }
        let fine = String(repeating: "[", count: JSONReader.maxDepth) + String(repeating: "]", count: JSONReader.maxDepth)
        #expect(try Self.parse(fine) != .null)
    }

    @Test func integersAcceptWholeNumbersOnly() throws {
        var reader = JSONReader(Array("[3, 4.0, 5e1, 2.5]".utf8))
        var read: [Int] = []
        #expect(throws: JSONReader.Error.self) {
            try reader.readArray { r in read.append(try r.readInt()) }
        }
        #expect(read == [3, 4, 50])
    }

    @Test func completionFixtureReadsWithEveryField() throws {
        let text = try String(contentsOfFile: fixturePath("openai/completion-tool-call.json"), encoding: .utf8)
        let completion = try JSONReader.decode(ChatCompletion.self, from: Array(text.utf8))
        let reference = try Self.reference(text)
        #expect(completion.id == reference["id"]?.stringValue)
        #expect(completion.systemFingerprint == reference["system_fingerprint"]?.stringValue)
        let call = try #require(completion.choices.first?.message.toolCalls?.first)
        let expected = reference["choices"]?.arrayValue?.first?["message"]?["tool_calls"]?.arrayValue?.first
        #expect(call.id == expected?["id"]?.stringValue)
        #expect(call.function.name == expected?["function"]?["name"]?.stringValue)
        #expect(call.function.arguments == expected?["function"]?["arguments"]?.stringValue)
        #expect(completion.choices.first?.finishReason == .toolCalls)
        #expect(reference["usage"]?["prompt_tokens"] == .int(Int64(try #require(completion.usage?.promptTokens))))
    }

    @Test func chunkWithNullChoicesAndCachedUsage() throws {
        let chunk = try JSONReader.decode(
            ChatCompletionChunk.self,
            from: Array(
                #"{"id":"c1","object":"chat.completion.chunk","created":7,"model":"m","choices":null,"usage":{"prompt_tokens":10,"completion_tokens":2,"total_tokens":12,"prompt_tokens_details":{"cached_tokens":8,"audio_tokens":0}},"obfuscation":"x"}"#
                    .utf8))
        #expect(chunk.choices.isEmpty)
        var usage = Usage(promptTokens: 10, completionTokens: 2, cachedTokens: 8)
        usage.promptDetails["audio_tokens"] = .int(0)
        #expect(chunk.usage == usage)
        #expect(chunk.created == 7 && chunk.id == "c1")
        // Members we do not type ride along, and are written back after the typed ones.
        #expect(chunk.extra == JSONObject(["obfuscation": .string("x")]))
        var writer = JSONWriter()
        chunk.write(to: &writer, usageField: true)
        #expect(writer.string == #"{"id":"c1","object":"chat.completion.chunk","created":7,"model":"m","choices":[],"usage":{"prompt_tokens":10,"completion_tokens":2,"total_tokens":12,"prompt_tokens_details":{"cached_tokens":8,"audio_tokens":0}},"obfuscation":"x"}"#)
    }

    @Test func aCompletionWithoutChoicesIsRefused() {
        #expect(throws: JSONReader.Error.self) {
            try JSONReader.decode(ChatCompletion.self, from: Array(#"{"id":"x","created":1,"model":"m"}"#.utf8))
        }
    }
}

/// The path of a file in `Fixtures/`.
func fixturePath(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent(name).path
}
