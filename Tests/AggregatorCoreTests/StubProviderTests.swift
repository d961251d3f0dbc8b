import AggregatorCore
import AggregatorProviders
import AggregatorWire
import Foundation
import Testing

@Suite struct StubProviderTests {
    static let weather = Tool(
        name: "get_weather",
        parameters: .object(JSONObject([
            "type": .string("object"),
            "properties": .object(JSONObject([
                "city": .object(JSONObject(["type": .string("string")])),
                "days": .object(JSONObject(["type": .string("integer")])),
                "ratio": .object(JSONObject(["type": .string("number")])),
                "metric": .object(JSONObject(["type": .string("boolean")])),
                "tags": .object(JSONObject(["type": .array([.string("array"), .string("null")])])),
                "extra": .object(JSONObject(["type": .string("object")])),
                "note": .object(JSONObject(["type": .string("string")])),
            ])),
            "required": .array([.string("city"), .string("days"), .string("ratio"), .string("metric"), .string("tags"), .string("extra")]),
        ])))
    static let time = Tool(name: "get_time")

    static func request(_ messages: [ChatMessage], tools: [Tool]? = nil, choice: ToolChoice? = nil, model: String = "echo") -> ProviderRequest {
        var chat = ChatCompletionRequest(model: model, messages: messages)
        chat.tools = tools
        chat.toolChoice = choice
        return ProviderRequest(chat: chat, requestID: "req_test")
    }

    static func user(_ text: String) -> ChatMessage { ChatMessage(role: .user, content: .text(text)) }

    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var last: String
        var tools: [Tool]?
        var choice: ToolChoice?
        var calls: String?
        var description: String { name }
    }

    static let toolCases: [Case] = [
        Case(name: "no tools: echo", last: "get_weather now", tools: nil, choice: nil, calls: nil),
        Case(name: "named in text", last: "please get_time", tools: [weather, time], choice: nil, calls: "get_time"),
        Case(name: "first named in tool order", last: "get_time or get_weather", tools: [weather, time], choice: .auto, calls: "get_weather"),
        Case(name: "auto and not named: echo", last: "hello", tools: [weather, time], choice: .auto, calls: nil),
        Case(name: "required: first tool", last: "hello", tools: [weather, time], choice: .required, calls: "get_weather"),
        Case(name: "named choice wins", last: "get_weather", tools: [weather, time], choice: .function(name: "get_time"), calls: "get_time"),
        Case(name: "none: never", last: "get_weather", tools: [weather, time], choice: ChoiceNone.value, calls: nil),
    ]

    enum ChoiceNone { static let value = ToolChoice.none }

    @Test(arguments: toolCases)
    func decidesWhetherToCallATool(c: Case) async throws {
        let r = try await StubProvider().complete(Self.request([Self.user(c.last)], tools: c.tools, choice: c.choice))
        let choice = try #require(r.choices.first)
        if let name = c.calls {
            #expect(choice.finishReason == .toolCalls)
            #expect(choice.message.content == nil)
            #expect(choice.message.toolCalls?.map(\.function.name) == [name])
        } else {
            #expect(choice.finishReason == .stop)
            #expect(choice.message.content == c.last)
            #expect(choice.message.toolCalls == nil)
        }
    }

    @Test func argumentsSetEveryRequiredParameterByType() async throws {
        let r = try await StubProvider().complete(Self.request([Self.user("get_weather")], tools: [Self.weather]))
        let call = try #require(r.choices.first?.message.toolCalls?.first)
        #expect(call.function.arguments == #"{"city":"stub","days":0,"ratio":0,"metric":false,"tags":[],"extra":{}}"#)
        #expect(call.id.wholeMatch(of: /call_[0-9a-f]{24}/) != nil && call.type == "function")
        let again = try await StubProvider().complete(Self.request([Self.user("get_weather")], tools: [Self.weather]))
        #expect(again.choices.first?.message.toolCalls?.first?.id != call.id)
        #expect(r.usage == Usage(promptTokens: 3, completionTokens: (call.function.arguments.utf8.count + 3) / 4))
    }

    @Test func structuredOutputIsBuiltFromTheSchema() async throws {
        let schema = try JSONReader.decode(
            JSONValue.self,
            from: Array(
                #"""
                {"type":"object","required":["name","age","ok","tags","address","nick","kind","unit"],
                 "properties":{"name":{"type":"string"},"age":{"type":"integer"},"ok":{"type":"boolean"},
                  "tags":{"type":"array","items":{"type":"string"}},"address":{"$ref":"#/$defs/Address"},
                  "nick":{"anyOf":[{"type":"null"},{"type":"string"}]},"kind":{"enum":["b","a"]},"unit":{"const":"kg"}},
                 "$defs":{"Address":{"type":"object","required":["street","inner"],
                  "properties":{"street":{"type":"string"},"inner":{"type":"object","properties":{"n":{"type":"number"}},"required":["n"]}}}}}
                """#.utf8))
        var request = Self.request([Self.user("anything")])
        request.chat.responseFormat = .object(JSONObject(["type": .string("json_schema"), "json_schema": .object(JSONObject(["name": .string("P"), "schema": schema]))]))
        let answer = try await StubProvider().complete(request)
        #expect(
            answer.choices.first?.message.content
                == #"{"name":"stub","age":0,"ok":false,"tags":[],"address":{"street":"stub","inner":{"n":0}},"nick":"stub","kind":"b","unit":"kg"}"#)
        // A schema whose union names itself ends in null at the depth bound instead of recursing for ever.
        let circular = try JSONReader.decode(
            JSONValue.self,
            from: Array(##"{"$ref":"#/$defs/A","$defs":{"A":{"type":"object","required":["a"],"properties":{"a":{"anyOf":[{"$ref":"#/$defs/A"}]}}}}}"##.utf8))
        request.chat.responseFormat = .object(JSONObject(["type": .string("json_schema"), "json_schema": .object(JSONObject(["schema": circular]))]))
        let nestedNulls = try await StubProvider().complete(request).choices.first?.message.content
        #expect(nestedNulls == String(repeating: #"{"a":"#, count: 5) + "null" + String(repeating: "}", count: 5))
        request.chat.responseFormat = .object(JSONObject(["type": .string("json_object")]))
        #expect(try await StubProvider().complete(request).choices.first?.message.content == "{}")
        request.chat.responseFormat = .object(JSONObject(["type": .string("text")]))
        #expect(try await StubProvider().complete(request).choices.first?.message.content == "anything")
    }

    @Test func answersToolResults() async throws {
        let messages = [
            Self.user("get_weather"),
            ChatMessage(role: .assistant, content: nil, toolCalls: [ToolCall(id: "call_stub_0", function: FunctionCall(name: "get_weather", arguments: "{}"))]),
            ChatMessage(role: .tool, content: .text("sunny"), toolCallID: "call_stub_0"),
        ]
        let r = try await StubProvider().complete(Self.request(messages, tools: [Self.weather]))
        #expect(r.choices.first?.message.content == "Tool result: sunny")
        #expect(r.choices.first?.finishReason == .stop)
        // 3 + 1 (no text, at least 1) + 2 tokens in; "Tool result: sunny" is 18 bytes = 5 tokens out.
        #expect(r.usage == Usage(promptTokens: 6, completionTokens: 5))
    }

    @Test(arguments: [
        ("", 1), ("a", 1), ("abcd", 1), ("abcde", 2), ("héllo", 2), ("日本語のテキスト", 6),
    ])
    func countsCeilOfBytesOverFour(text: String, expected: Int) {
        #expect(TokenEstimator.tokens(text) == expected)
    }

    @Test func streamsOneChunkPerWordThenFinishThenUsage() async throws {
        var deltas: [String] = []
        var chunks: [ChatCompletionChunk] = []
        for try await chunk in try await StubProvider().stream(Self.request([Self.user("  Hello big\n world ")])) {
            chunks.append(chunk)
            if let content = chunk.choices.first?.delta.content { deltas.append(content) }
        }
        #expect(deltas == ["", "  Hello ", "big\n ", "world "])
        #expect(chunks.first?.choices.first?.delta.role == "assistant")
        #expect(chunks[chunks.count - 2].choices.first?.finishReason == .stop)
        #expect(chunks[chunks.count - 2].choices.first?.delta.isEmpty == true)
        #expect(chunks.last?.choices.isEmpty == true)
        #expect(chunks.last?.usage == Usage(promptTokens: 5, completionTokens: 5))
        #expect(Set(chunks.map(\.id)) == ["chatcmpl-req_test"])
    }

    @Test func streamsToolArgumentsInAtLeastTwoFragments() async throws {
        var fragments: [ToolCallDelta] = []
        var finish: FinishReason?
        for try await chunk in try await StubProvider().stream(Self.request([Self.user("x")], tools: [Self.time], choice: .required)) {
            fragments += chunk.choices.first?.delta.toolCalls ?? []
            if let f = chunk.choices.first?.finishReason { finish = f }
        }
        let id = try #require(fragments.first?.id)
        #expect(id.wholeMatch(of: /call_[0-9a-f]{24}/) != nil)
        #expect(fragments.first == .start(index: 0, id: id, name: "get_time"))
        let argumentPieces = fragments.dropFirst().compactMap(\.function?.arguments)
        #expect(argumentPieces.count >= 2)
        #expect(argumentPieces.joined() == "{}")
        #expect(fragments.dropFirst().allSatisfy { $0.id == nil && $0.function?.name == nil && $0.index == 0 })
        #expect(finish == .toolCalls)
    }

    struct StopCase: Sendable, CustomStringConvertible {
        var stop: [String]
        var text: String
        var matched: String?
        var description: String { "\(stop) → \(text)" }
    }

    static let stopCases: [StopCase] = [
        StopCase(stop: ["END"], text: "one two ", matched: "END"),
        // The earliest occurrence wins, whatever the order of the list.
        StopCase(stop: ["four", "two"], text: "one ", matched: "two"),
        // Two starting at the same place: the longer.
        StopCase(stop: ["tw", "two END"], text: "one ", matched: "two END"),
        StopCase(stop: ["absent", ""], text: "one two END three four", matched: nil),
    ]

    /// OpenAI's `stop`: the answer ends before the earliest stop sequence, which is not included; the usage counts
    /// the text returned; the matched sequence is known (for Anthropic's `stop_sequence`), plain and streamed alike.
    @Test(arguments: stopCases)
    func stopSequencesCutTheAnswer(c: StopCase) async throws {
        var request = Self.request([Self.user("one two END three four")])
        request.chat.stop = c.stop
        let plain = try await StubProvider().complete(request)
        let choice = try #require(plain.choices.first)
        #expect(choice.message.content == c.text)
        #expect(choice.finishReason == .stop)
        #expect(choice.stopSequence == c.matched)
        #expect(plain.usage == Usage(promptTokens: 6, completionTokens: TokenEstimator.tokens(c.text)))

        var text = ""
        var finishing: ChunkChoice?
        var usage: Usage?
        for try await chunk in try await StubProvider().stream(request) {
            text += chunk.choices.first?.delta.content ?? ""
            if let choice = chunk.choices.first, choice.finishReason != nil { finishing = choice }
            if let u = chunk.usage { usage = u }
        }
        #expect(text == c.text)
        #expect(finishing?.finishReason == .stop && finishing?.stopSequence == c.matched)
        #expect(usage == plain.usage)
    }

    @Test func unknownModelIsNotFound() async {
        await #expect(throws: UpstreamError.self) { try await StubProvider().complete(Self.request([Self.user("x")], model: "nope")) }
    }
}
