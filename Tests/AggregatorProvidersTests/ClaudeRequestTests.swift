import AggregatorCore
import AggregatorProviders
import AggregatorWire
import Foundation
import Testing

/// What the provider sends to Anthropic (WIRE §2.1, §2.2, §2.7).
@Suite struct ClaudeRequestTests {
    static let toolLoop = #"""
        {"model":"claude-sonnet-4-5","messages":[
          {"role":"system","content":"Be brief."},
          {"role":"user","content":"Weather in Paris?"},
          {"role":"assistant","content":"","tool_calls":[{"id":"toolu_01Q","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
          {"role":"tool","tool_call_id":"toolu_01Q","content":"18C, cloudy"},
          {"role":"user","content":"And in °F?"}],
         "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}],
         "tool_choice":"auto"}
        """#

    static let toolLoopSent = #"""
        {"model":"claude-sonnet-4-5","max_tokens":64000,
         "system":[{"type":"text","text":"Be brief."}],
         "messages":[
          {"role":"user","content":[{"type":"text","text":"Weather in Paris?"}]},
          {"role":"assistant","content":[{"type":"tool_use","id":"toolu_01Q","name":"get_weather","input":{"city":"Paris"}}]},
          {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_01Q","content":"18C, cloudy"},
                                    {"type":"text","text":"And in °F?"}]}],
         "tools":[{"name":"get_weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}],
         "tool_choice":{"type":"auto"}}
        """#

    @Test func toolLoopHistoryIsSentInAnthropicShape() async throws {
        try await ClaudeHarness.run(ClaudeReply.always(try ClaudeReply.json("response_text.json"))) { h in
            _ = try await h.complete(Self.toolLoop)
            #expect(try h.sentBody == ClaudeJSON.canonical(Self.toolLoopSent))
        }
    }

    @Test func streamedToolLoopSendsTheSameBodyWithStreamTrue() async throws {
        try await ClaudeHarness.run(ClaudeReply.always(try ClaudeReply.sse("stream_text.sse"))) { h in
            _ = try await h.stream(Self.toolLoop.replacingOccurrences(of: #""tool_choice":"auto"}"#, with: #""tool_choice":"auto","stream":true}"#))
            let expected = Self.toolLoopSent.replacingOccurrences(of: #""tool_choice":{"type":"auto"}}"#, with: #""tool_choice":{"type":"auto"},"stream":true}"#)
            #expect(try h.sentBody == ClaudeJSON.canonical(expected))
        }
    }

    @Test func sendsKeyVersionAndJSONToMessagesEndpoint() async throws {
        try await ClaudeHarness.run(ClaudeReply.always(try ClaudeReply.json("response_text.json"))) { h in
            _ = try await h.complete(claudeChat())
            let sent = try #require(h.upstream.requests.last)
            #expect(sent.method == "POST")
            #expect(sent.path == "/v1/messages")
            #expect(sent.headers["x-api-key"] == ClaudeHarness.apiKey)
            #expect(sent.headers["anthropic-version"] == "2023-06-01")
            #expect(sent.headers["content-type"] == "application/json")
            #expect(sent.headers["authorization"] == nil)
        }
    }

    @Test func imagesBecomeBase64OrURLSources() async throws {
        let chat = #"""
            {"model":"claude-sonnet-4-5","max_tokens":100,"messages":[{"role":"user","content":[
              {"type":"text","text":"Compare"},
              {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"high"}},
              {"type":"image_url","image_url":"https://example.com/cat.jpg"}]}]}
            """#
        let sent = #"""
            {"model":"claude-sonnet-4-5","max_tokens":100,"messages":[{"role":"user","content":[
              {"type":"text","text":"Compare"},
              {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}},
              {"type":"image","source":{"type":"url","url":"https://example.com/cat.jpg"}}]}]}
            """#
        try await ClaudeHarness.run(ClaudeReply.always(try ClaudeReply.json("response_text.json"))) { h in
            _ = try await h.complete(chat)
            #expect(try h.sentBody == ClaudeJSON.canonical(sent))
        }
    }

    @Test(arguments: [
        (#""tool_choice":"none""#, #"{"type":"none"}"#),
        (#""tool_choice":"auto""#, #"{"type":"auto"}"#),
        (#""tool_choice":"required""#, #"{"type":"any"}"#),
        (#""tool_choice":{"type":"function","function":{"name":"get_weather"}}"#, #"{"type":"tool","name":"get_weather"}"#),
        (#""tool_choice":"required","parallel_tool_calls":false"#, #"{"type":"any","disable_parallel_tool_use":true}"#),
        (#""parallel_tool_calls":false"#, #"{"type":"auto","disable_parallel_tool_use":true}"#),
        (#""tool_choice":"none","parallel_tool_calls":false"#, #"{"type":"none"}"#),
        (#""parallel_tool_calls":true"#, "null"),
    ])
    func toolChoiceIsMapped(_ openAI: String, _ anthropic: String) async throws {
        try await ClaudeHarness.run(ClaudeReply.always(try ClaudeReply.json("response_text.json"))) { h in
            _ = try await h.complete(claudeChat(extra: claudeWeatherTool + "," + openAI))
            let sent = try #require(h.upstream.requests.last)
            let body = try #require(try JSONSerialization.jsonObject(with: Data(sent.body)) as? [String: Any])
            let choice = try body["tool_choice"].map { try JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys]) }
            let expected = anthropic == "null" ? "null" : try ClaudeJSON.canonical(anthropic)
            #expect((choice.map { String(decoding: $0, as: UTF8.self) } ?? "null") == expected)
        }
    }

    @Test func allowedToolsFilterTheToolList() async throws {
        let tools = #""tools":[{"type":"function","function":{"name":"a"}},{"type":"function","function":{"name":"b"}}],"tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"required","tools":[{"type":"function","function":{"name":"b"}}]}}"#
        try await ClaudeHarness.run(ClaudeReply.always(try ClaudeReply.json("response_text.json"))) { h in
            _ = try await h.complete(claudeChat(extra: tools))
            #expect(try h.sentBody.contains(#""tool_choice":{"type":"any"},"tools":[{"input_schema":{"properties":{},"type":"object"},"name":"b"}]"#))
        }
    }

    @Test func stopSequencesUserAndWhitespaceOnlyStops() async throws {
        try await ClaudeHarness.run(ClaudeReply.always(try ClaudeReply.json("response_text.json"))) { h in
            _ = try await h.complete(claudeChat(extra: #""stop":["END","  ","\n"],"user":"tenant-7","max_tokens":10"#))
            #expect(try h.sentBody == ClaudeJSON.canonical(#"""
                {"model":"claude-sonnet-4-5","max_tokens":10,"messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}],
                 "stop_sequences":["END"],"metadata":{"user_id":"tenant-7"}}
                """#))
        }
    }

    @Test func finalAssistantPrefillLosesTrailingWhitespaceAndLeadingAssistantGetsAUserTurn() async throws {
        let chat = #"{"model":"claude-sonnet-4-5","max_tokens":10,"messages":[{"role":"assistant","content":"Hello."},{"role":"user","content":"Go on"},{"role":"assistant","content":"Sure: \n "}]}"#
        try await ClaudeHarness.run(ClaudeReply.always(try ClaudeReply.json("response_text.json"))) { h in
            _ = try await h.complete(chat)
            #expect(try h.sentBody == ClaudeJSON.canonical(#"""
                {"model":"claude-sonnet-4-5","max_tokens":10,"messages":[
                 {"role":"user","content":[{"type":"text","text":"(empty)"}]},
                 {"role":"assistant","content":[{"type":"text","text":"Hello."}]},
                 {"role":"user","content":[{"type":"text","text":"Go on"}]},
                 {"role":"assistant","content":[{"type":"text","text":"Sure:"}]}]}
                """#))
        }
    }

    @Test(arguments: [
        (#""n":2"#, "n"),
        (#""response_format":{"type":"xml"}"#, "response_format"),
    ])
    func unsupportedFieldsAreRejectedBeforeCallingUpstream(_ extra: String, _ param: String) async throws {
        try await ClaudeHarness.run(ClaudeReply.always(try ClaudeReply.json("response_text.json"))) { h in
            let error = await #expect(throws: UpstreamError.self) { _ = try await h.complete(claudeChat(extra: extra)) }
            guard case .status(400, _, "invalid_request_error", nil, let p, nil)? = error else {
                Issue.record("expected a 400, got \(String(describing: error))")
                return
            }
            #expect(p == param)
            #expect(h.upstream.requests.isEmpty)
        }
    }

    @Test func audioPartsAreRejected() async throws {
        let chat = #"{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}}]}]}"#
        try await ClaudeHarness.run(ClaudeReply.always(try ClaudeReply.json("response_text.json"))) { h in
            await #expect(throws: UpstreamError.status(
                status: 400, message: "Content parts of type 'input_audio' in user messages are not supported by the claude provider.",
                type: "invalid_request_error", code: nil, param: "messages", retryAfter: nil)) { _ = try await h.complete(chat) }
        }
    }
}
