import AggregatorWire
import Foundation
import Testing

@Suite struct ServerSentEventTests {
    @Test func framesDataAndNamedEvents() {
        #expect(String(decoding: ServerSentEvent.dataFrame(Array(#"{"a":1}"#.utf8)), as: UTF8.self) == "data: {\"a\":1}\n\n")
        #expect(String(decoding: ServerSentEvent(event: "token", data: "x\ny").bytes, as: UTF8.self) == "event: token\ndata: x\ndata: y\n\n")
        #expect(String(decoding: ServerSentEvent.done, as: UTF8.self) == "data: [DONE]\n\n")
    }

    static let stream = "event: message_start\ndata: {\"a\":1}\n\n: comment\n\nevent: ping\ndata: {}\r\n\r\ndata: line1\ndata: line2\n\ndata:no-space\n\n"

    @Test(arguments: [1, 2, 3, 7, 1000])
    func parsesAcrossAnySplit(pieceSize: Int) throws {
        var parser = ServerSentEventParser()
        var events: [ServerSentEvent] = []
        let bytes = Array(Self.stream.utf8)
        for start in stride(from: 0, to: bytes.count, by: pieceSize) {
            events += try parser.feed(bytes[start..<min(start + pieceSize, bytes.count)])
        }
        if let last = parser.finish() { events.append(last) }
        #expect(events == [
            ServerSentEvent(event: "message_start", data: "{\"a\":1}"),
            ServerSentEvent(event: "ping", data: "{}"),
            ServerSentEvent(event: nil, data: "line1\nline2"),
            ServerSentEvent(event: nil, data: "no-space"),
        ])
    }

    /// A field without a colon, an empty first data line, an unknown field, a body ending in a lone CR.
    @Test func fieldEdgeCases() throws {
        var parser = ServerSentEventParser()
        #expect(try parser.feed(Array("data\n\ndata:\ndata: x\nretry: 5\n\nevent: é\ndata: ü\r".utf8)) == [
            ServerSentEvent(event: nil, data: ""),
            ServerSentEvent(event: nil, data: "\nx"),
        ])
        #expect(parser.finish() == ServerSentEvent(event: "é", data: "ü"))
        #expect(parser.finish() == nil)
    }

    @Test func boundsAnEndlessLine() {
        var parser = ServerSentEventParser(maxLineBytes: 16)
        #expect(throws: ServerSentEventParser.ParseError.lineTooLong) { try parser.feed(Array(repeating: UInt8(ascii: "x"), count: 17)) }
    }

    @Test func splitsNDJSONLines() throws {
        var splitter = LineSplitter()
        #expect(try splitter.feed(Array("{\"a\":1}\n{\"b\"".utf8)) == [Array("{\"a\":1}".utf8)])
        #expect(try splitter.feed(Array(":2}\r\n\n{\"c\":3}".utf8)) == [Array("{\"b\":2}".utf8)])
        #expect(splitter.finish() == Array("{\"c\":3}".utf8))
    }
}

@Suite struct ChatRequestWireTests {
    static let full = """
        {"model":"gpt-4o-mini","messages":[
          {"role":"developer","content":[{"type":"text","text":"Be brief."}]},
          {"role":"user","content":[{"type":"text","text":"What is this?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA","detail":"low"}},{"type":"input_audio","input_audio":{"data":"UklG","format":"wav"}}]},
          {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"look","arguments":"{}"}}]},
          {"role":"tool","tool_call_id":"call_1","content":"a cat"}],
         "tools":[{"type":"function","function":{"name":"look","description":"Look","parameters":{"type":"object","properties":{}},"strict":true}}],
         "tool_choice":{"type":"function","function":{"name":"look"}},"parallel_tool_calls":false,"temperature":0.5,"top_p":1,
         "max_tokens":100,"max_completion_tokens":200,"stop":"END","n":1,"stream":true,"stream_options":{"include_usage":true},
         "response_format":{"type":"json_object"},"seed":42,"user":"u1","logprobs":true,"top_logprobs":2,
         "frequency_penalty":0.1,"presence_penalty":-0.2,"logit_bias":{"50256":-100},
         "metadata":{"k":"v"},"store":false,"service_tier":"auto","reasoning_effort":"low"}
        """

    @Test func decodesEveryDocumentedField() throws {
        let r = try JSONDecoder().decode(ChatCompletionRequest.self, from: Data(Self.full.utf8))
        #expect(r.model == "gpt-4o-mini")
        #expect(r.messages.map(\.role) == [.developer, .user, .assistant, .tool])
        #expect(r.messages[0].text == "Be brief.")
        #expect(r.messages[1].content == .parts([
            .text("What is this?"), .imageURL(url: "data:image/png;base64,AAAA", detail: "low"),
            .other(.object(JSONObject(["type": .string("input_audio"), "input_audio": .object(JSONObject(["data": .string("UklG"), "format": .string("wav")]))]))),
        ]))
        #expect(r.messages[2].toolCalls == [ToolCall(id: "call_1", function: FunctionCall(name: "look", arguments: "{}"))])
        #expect(r.messages[3].toolCallID == "call_1")
        #expect(r.tools?.first?.name == "look" && r.tools?.first?.strict == true)
        #expect(r.toolChoice == .function(name: "look"))
        #expect(r.parallelToolCalls == false && r.temperature == 0.5 && r.topP == 1)
        #expect(r.maxTokens == 100 && r.maxCompletionTokens == 200 && r.outputTokenLimit == 200)
        #expect(r.stop == ["END"] && r.n == 1 && r.isStreaming && r.wantsStreamUsage)
        #expect(r.seed == 42 && r.user == "u1" && r.logprobs == true && r.topLogprobs == 2)
        #expect(r.frequencyPenalty == 0.1 && r.presencePenalty == -0.2)
        #expect(Set(r.extra.keys) == ["metadata", "store", "service_tier", "reasoning_effort"])
    }

    @Test func writesBackWhatItRead() throws {
        let r = try JSONDecoder().decode(ChatCompletionRequest.self, from: Data(Self.full.utf8))
        let again = try JSONDecoder().decode(ChatCompletionRequest.self, from: Data(r.jsonBytes))
        #expect(again == r)
    }

    @Test func acceptsImageURLAsBareString() throws {
        let body = #"{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":"https://x/y.png"}]}]}"#
        let r = try JSONDecoder().decode(ChatCompletionRequest.self, from: Data(body.utf8))
        #expect(r.messages[0].content == .parts([.imageURL(url: "https://x/y.png", detail: nil)]))
    }

    @Test func writesResponsesWithOpenAIsKeyOrderAndNulls() {
        let completion = ChatCompletion(
            id: "chatcmpl-1", created: 1_730_000_000, model: "m",
            choices: [ChatChoice(message: AssistantMessage(content: nil, toolCalls: [ToolCall(id: "call_A", function: FunctionCall(name: "f", arguments: "{}"))]), finishReason: .toolCalls)],
            usage: Usage(promptTokens: 3, completionTokens: 2, cachedTokens: 1))
        #expect(completion.jsonString == #"{"id":"chatcmpl-1","object":"chat.completion","created":1730000000,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":null,"tool_calls":[{"id":"call_A","type":"function","function":{"name":"f","arguments":"{}"}}]},"logprobs":null,"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5,"prompt_tokens_details":{"cached_tokens":1}}}"#)
        let error = APIErrorBody(message: "a \"quoted\"\nline", type: "invalid_request_error")
        #expect(error.jsonString == #"{"error":{"message":"a \"quoted\"\nline","type":"invalid_request_error","param":null,"code":null}}"#)
    }
}
