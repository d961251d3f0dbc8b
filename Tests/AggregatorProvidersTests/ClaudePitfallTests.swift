import AggregatorCore
import AggregatorProviders
import AggregatorWire
import Foundation
import Testing

/// One regression test per translation pitfall of WIRE §5 that applies to Claude.
@Suite struct ClaudePitfallTests {
    static let text = ClaudeReply.always((try? ClaudeReply.json("response_text.json")) ?? .json("{}"))

    @Test func pitfall01_maxTokensIsAlwaysSentAndLengthIsHonest() async throws {
        try await ClaudeHarness.run(Self.text) { h in
            _ = try await h.complete(claudeChat())
            #expect(try h.sentBody.contains(#""max_tokens":64000,"#))  // the model's largest output
            _ = try await h.complete(#"{"model":"claude-new-unknown","messages":[{"role":"user","content":"Hi"}]}"#)
            #expect(try h.sentBody.contains(#""max_tokens":4096,"#))
            _ = try await h.complete(claudeChat(extra: #""max_tokens":50,"max_completion_tokens":70"#))
            #expect(try h.sentBody.contains(#""max_tokens":70,"#))
        }
        try await ClaudeHarness.run(defaultMaxTokens: 1000, ClaudeReply.always(try ClaudeReply.json("response_max_tokens.json"))) { h in
            let completion = try await h.complete(claudeChat())
            #expect(try h.sentBody.contains(#""max_tokens":1000,"#))
            #expect(completion.choices.first?.finishReason == .length)
        }
    }

    @Test func pitfall02_emptyTextIsNeverSent() async throws {
        let chat = #"""
            {"model":"claude-sonnet-4-5","max_tokens":10,"messages":[
              {"role":"system","content":""},
              {"role":"user","content":[{"type":"text","text":""},{"type":"text","text":"Time?"}]},
              {"role":"assistant","content":"","tool_calls":[{"id":"toolu_1","type":"function","function":{"name":"get_time","arguments":""}}]},
              {"role":"tool","tool_call_id":"toolu_1","content":"12:00"},
              {"role":"assistant","content":""},
              {"role":"user","content":""}],
             "tools":[{"type":"function","function":{"name":"get_time"}}]}
            """#
        try await ClaudeHarness.run(Self.text) { h in
            _ = try await h.complete(chat)
            #expect(try h.sentBody == ClaudeJSON.canonical(#"""
                {"model":"claude-sonnet-4-5","max_tokens":10,"messages":[
                  {"role":"user","content":[{"type":"text","text":"Time?"}]},
                  {"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"get_time","input":{}}]},
                  {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"12:00"}]}],
                 "tools":[{"name":"get_time","input_schema":{"type":"object","properties":{}}}]}
                """#))
            #expect(try !h.sentBody.contains(#""text":"""#))
        }
    }

    @Test func pitfall03_everyToolUseIsAnsweredInTheNextUserTurn() async throws {
        let chat = #"""
            {"model":"claude-sonnet-4-5","max_tokens":10,"messages":[
              {"role":"user","content":"Weather in Paris and Rome?"},
              {"role":"assistant","content":null,"tool_calls":[
                {"id":"toolu_P","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
                {"id":"toolu_R","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Rome\"}"}}]},
              {"role":"user","content":"Hurry up."},
              {"role":"tool","tool_call_id":"toolu_P","content":"18C"},
              {"role":"tool","tool_call_id":"toolu_OLD","content":"stale"}],
             "tools":[{"type":"function","function":{"name":"get_weather"}}]}
            """#
        try await ClaudeHarness.run(Self.text) { h in
            _ = try await h.complete(chat)
            #expect(try h.sentBody == ClaudeJSON.canonical(#"""
                {"model":"claude-sonnet-4-5","max_tokens":10,"messages":[
                  {"role":"user","content":[{"type":"text","text":"Weather in Paris and Rome?"}]},
                  {"role":"assistant","content":[
                    {"type":"tool_use","id":"toolu_P","name":"get_weather","input":{"city":"Paris"}},
                    {"type":"tool_use","id":"toolu_R","name":"get_weather","input":{"city":"Rome"}}]},
                  {"role":"user","content":[
                    {"type":"tool_result","tool_use_id":"toolu_P","content":"18C"},
                    {"type":"tool_result","tool_use_id":"toolu_R","content":"No result was provided for this tool call.","is_error":true},
                    {"type":"text","text":"Hurry up."},
                    {"type":"text","text":"Result of tool call toolu_OLD: stale"}]}],
                 "tools":[{"name":"get_weather","input_schema":{"type":"object","properties":{}}}]}
                """#))
        }
    }

    @Test func pitfall04_toolCallIndexIsDenseWhenTextPrecedes() async throws {
        try await ClaudeHarness.run(ClaudeReply.always(try ClaudeReply.sse("stream_text_then_two_tools.sse"))) { h in
            let chunks = try await h.stream(claudeChat(stream: true, extra: claudeWeatherTool))
            let indices = chunks.flatMap { $0.choices.flatMap { $0.delta.toolCalls ?? [] } }.map(\.index)
            // Anthropic's block indices are 1 and 2; the client's tool-call indices are 0 and 1.
            #expect(indices == [0, 0, 0, 1, 1, 1])
        }
    }

    @Test func pitfall05_toolCallIdTypeAndNameOnlyInFirstFragment() async throws {
        try await ClaudeHarness.run(ClaudeReply.always(try ClaudeReply.sse("stream_text_then_two_tools.sse"))) { h in
            let fragments = try await h.stream(claudeChat(stream: true, extra: claudeWeatherTool)).flatMap { $0.choices.flatMap { $0.delta.toolCalls ?? [] } }
            for index in [0, 1] {
                let mine = fragments.filter { $0.index == index }
                #expect(mine.first?.id != nil && mine.first?.type == "function" && mine.first?.function?.name == "get_weather")
                #expect(mine.first?.function?.arguments == "")
                #expect(mine.dropFirst().allSatisfy { $0.id == nil && $0.type == nil && $0.function?.name == nil && $0.function?.arguments != nil })
            }
            #expect(fragments.compactMap(\.id) == ["toolu_01Paris", "toolu_01Rome"])
        }
    }

    @Test func pitfall06_emptyToolArgumentsBecomeEmptyObjectsBothWays() async throws {
        try await ClaudeHarness.run(ClaudeReply.always(try ClaudeReply.sse("stream_tool_no_arguments.sse"))) { h in
            let chat = #"""
                {"model":"claude-sonnet-4-5","max_tokens":10,"stream":true,"messages":[
                  {"role":"user","content":"Time?"},
                  {"role":"assistant","content":null,"tool_calls":[
                    {"id":"toolu_A","type":"function","function":{"name":"get_time","arguments":""}},
                    {"id":"toolu_B","type":"function","function":{"name":"get_time","arguments":"{not json"}}]},
                  {"role":"tool","tool_call_id":"toolu_A","content":"12:00"},
                  {"role":"tool","tool_call_id":"toolu_B","content":"12:01"}],
                 "tools":[{"type":"function","function":{"name":"get_time"}}]}
                """#
            let arguments = try await h.stream(chat).flatMap { $0.choices.flatMap { $0.delta.toolCalls ?? [] } }.compactMap(\.function?.arguments)
            #expect(arguments.joined() == "{}")
            #expect(try h.sentBody.contains(#"{"id":"toolu_A","input":{},"name":"get_time","type":"tool_use"},{"id":"toolu_B","input":{},"name":"get_time","type":"tool_use"}"#))
        }
    }

    @Test func pitfall07_streamEndsWithOneUsageChunkCombiningStartAndDelta() async throws {
        try await ClaudeHarness.run(ClaudeReply.always(try ClaudeReply.sse("stream_single_tool.sse"))) { h in
            let chunks = try await h.stream(claudeChat(stream: true))
            let withUsage = chunks.filter { $0.usage != nil }
            #expect(withUsage.count == 1)
            #expect(chunks.last == withUsage.first)
            #expect(chunks.last?.choices == [])
            // input_tokens from message_start, output_tokens from the (cumulative) message_delta.
            #expect(chunks.last?.usage == Usage(promptTokens: 380, completionTokens: 41, cachedTokens: 0, cacheWriteTokens: 0))
        }
    }

    @Test func pitfall09_topPIsDroppedWhenTemperatureIsSet() async throws {
        try await ClaudeHarness.run(Self.text) { h in
            _ = try await h.complete(claudeChat(extra: #""temperature":0.5,"top_p":0.9"#))
            #expect(try h.sentBody.contains(#""temperature":0.5"#))
            #expect(try !h.sentBody.contains("top_p"))
            _ = try await h.complete(claudeChat(extra: #""top_p":0.9"#))
            #expect(try h.sentBody.contains(#""top_p":0.9"#))
        }
    }

    @Test(arguments: [(1.5, "1"), (2.0, "1"), (-0.5, "0"), (0.7, "0.7")])
    func pitfall10_temperatureIsClampedToZeroThroughOne(_ temperature: Double, _ sent: String) async throws {
        try await ClaudeHarness.run(Self.text) { h in
            _ = try await h.complete(claudeChat(extra: #""temperature":\#(temperature)"#))
            let sentBody = try #require(h.upstream.requests.last).bodyText
            #expect(sentBody.contains(#""temperature":\#(sent)"#))
        }
    }
}
