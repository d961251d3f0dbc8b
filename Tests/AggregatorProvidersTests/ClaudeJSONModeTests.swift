import AggregatorCore
import AggregatorProviders
import AggregatorWire
import Foundation
import Testing

/// WIRE §5.17: `response_format` on Claude, emulated with a tool the model must call; its input comes back as the
/// message's content with `finish_reason: "stop"`, never as a tool call.
@Suite struct ClaudeJSONModeTests {
    static func lastBody(_ h: ClaudeHarness) throws -> JSONValue {
        let request = try #require(h.upstream.requests.last)
        return try #require(JSONValue(parsing: String(decoding: request.body, as: UTF8.self)))
    }

    static let schema = #"{"type":"object","properties":{"city":{"type":"string"},"temperature_c":{"type":"number"}},"required":["city"]}"#

    @Test func pitfall17_jsonSchemaIsAForcedToolAndTheAnswerIsItsInput() async throws {
        let format = #""response_format":{"type":"json_schema","json_schema":{"name":"weather","description":"The weather.","schema":\#(Self.schema),"strict":true}}"#
        try await ClaudeHarness.run(ClaudeReply.always(try ClaudeReply.json("response_json_tool.json"))) { h in
            let completion = try await h.complete(claudeChat("Weather in Paris?", extra: format))
            #expect(try h.sentBody == ClaudeJSON.canonical(#"""
                {"model":"claude-sonnet-4-5","max_tokens":64000,"messages":[{"role":"user","content":[{"type":"text","text":"Weather in Paris?"}]}],
                 "tools":[{"name":"json_tool_call","description":"The weather.","input_schema":\#(Self.schema)}],
                 "tool_choice":{"type":"tool","name":"json_tool_call"}}
                """#))
            let choice = try #require(completion.choices.first)
            #expect(choice.message.content == #"{"city":"Paris","temperature_c":18}"#)
            #expect(choice.message.toolCalls == nil)
            #expect(choice.finishReason == .stop)
            #expect(completion.usage == Usage(promptTokens: 412, completionTokens: 38, cachedTokens: 0, cacheWriteTokens: 0))
        }
    }

    @Test func jsonObjectAsksForAnyObject() async throws {
        try await ClaudeHarness.run(ClaudeReply.always(try ClaudeReply.json("response_json_tool.json"))) { h in
            _ = try await h.complete(claudeChat(extra: #""response_format":{"type":"json_object"}"#))
            let sent = try Self.lastBody(h)
            #expect(sent["tools"]?.arrayValue?.first?["input_schema"] == .object(JSONObject(["type": .string("object"), "additionalProperties": .bool(true)])))
            #expect(sent["tool_choice"] == .object(JSONObject(["type": .string("tool"), "name": .string("json_tool_call")])))
        }
    }

    @Test func streamedAnswerIsContentFinishedWithStop() async throws {
        try await ClaudeHarness.run(ClaudeReply.always(try ClaudeReply.sse("stream_json_tool.sse"))) { h in
            let chunks = try await h.stream(claudeChat(stream: true, extra: #""response_format":{"type":"json_object"}"#))
            let e = ClaudeExpectedChunks(chunks)
            #expect(chunks == [
                e.role(412, 2), e.text(#"{"city": "Pa"#), e.text(#"ris", "temperature_c": 18}"#), e.finish(.stop), e.usage(412, 38),
            ])
            let text = chunks.compactMap { $0.choices.first?.delta.content }.joined()
            #expect(JSONValue(parsing: text)?["city"] == .string("Paris"))
        }
    }

    @Test func withItsOwnToolsTheModelMayCallThoseInstead() async throws {
        let tools = #""tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{}}}}]"#
        try await ClaudeHarness.run(ClaudeReply.always(try ClaudeReply.json("response_tool_use.json"))) { h in
            let completion = try await h.complete(claudeChat(extra: tools + #","response_format":{"type":"json_object"}"#))
            let sent = try Self.lastBody(h)
            #expect(sent["tools"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["get_weather", "json_tool_call"])
            #expect(sent["tool_choice"] == .object(JSONObject(["type": .string("any")])))
            #expect(completion.choices.first?.message.toolCalls?.first?.function.name == "get_weather")
            #expect(completion.choices.first?.finishReason == .toolCalls)
        }
    }

    @Test(arguments: [
        #""response_format":{"type":"json_schema","json_schema":{"name":"list","schema":{"type":"array","items":{"type":"string"}}}}"#,
        #""response_format":{"type":"json_schema","json_schema":{"name":"none"}}"#,
        #""response_format":{"type":"yaml"}"#,
    ])
    func formatsItCannotHonourAreRefusedBeforeCallingUpstream(_ format: String) async throws {
        try await ClaudeHarness.run(ClaudeReply.always(try ClaudeReply.json("response_json_tool.json"))) { h in
            let error = await #expect(throws: UpstreamError.self) { _ = try await h.complete(claudeChat(extra: format)) }
            guard case .status(400, _, "invalid_request_error", nil, "response_format", nil)? = error else {
                Issue.record("expected a 400 naming response_format, got \(String(describing: error))")
                return
            }
            #expect(h.upstream.requests.isEmpty)
        }
    }
}
