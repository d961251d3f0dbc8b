import AggregatorCore
import AggregatorProviders
import AggregatorWire
import Foundation
import Testing

extension ClaudePitfallTests {
    @Test func pitfall11_toolNamesAndIdsAreSanitizedReversibly() async throws {
        let chat = #"""
            {"model":"claude-sonnet-4-5","max_tokens":10,"messages":[
              {"role":"user","content":"Read it"},
              {"role":"assistant","content":null,"tool_calls":[{"id":"call:abc.1","type":"function","function":{"name":"fs.read/file","arguments":"{}"}}]},
              {"role":"tool","tool_call_id":"call:abc.1","content":"data"}],
             "tools":[{"type":"function","function":{"name":"fs.read/file"}},{"type":"function","function":{"name":"fs_read_file"}}],
             "tool_choice":{"type":"function","function":{"name":"fs.read/file"}}}
            """#
        let answer = #"{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[{"type":"tool_use","id":"toolu_9","name":"fs_read_file_2","input":{"path":"/a"}},{"type":"tool_use","id":"toolu_10","name":"fs_read_file","input":{}}],"stop_reason":"tool_use","usage":{"input_tokens":5,"output_tokens":5}}"#
        try await ClaudeHarness.run(ClaudeReply.always(.json(answer))) { h in
            let completion = try await h.complete(chat)
            // The valid name keeps its spelling; the other one steps aside, and both come back as the client wrote them.
            #expect(completion.choices.first?.message.toolCalls?.map(\.function.name) == ["fs.read/file", "fs_read_file"])
            #expect(try h.sentBody == ClaudeJSON.canonical(#"""
                {"model":"claude-sonnet-4-5","max_tokens":10,"messages":[
                  {"role":"user","content":[{"type":"text","text":"Read it"}]},
                  {"role":"assistant","content":[{"type":"tool_use","id":"call_abc_1","name":"fs_read_file_2","input":{}}]},
                  {"role":"user","content":[{"type":"tool_result","tool_use_id":"call_abc_1","content":"data"}]}],
                 "tools":[{"name":"fs_read_file_2","input_schema":{"type":"object","properties":{}}},
                          {"name":"fs_read_file","input_schema":{"type":"object","properties":{}}}],
                 "tool_choice":{"type":"tool","name":"fs_read_file_2"}}
                """#))
        }
        let stream = try Fixture.text("claude/stream_single_tool.sse").replacingOccurrences(of: #""name":"get_weather""#, with: #""name":"weather_v2_get""#)
        try await ClaudeHarness.run(ClaudeReply.always(.stream(stream, contentType: "text/event-stream"))) { h in
            let chunks = try await h.stream(claudeChat(stream: true, extra: #""tools":[{"type":"function","function":{"name":"weather.v2.get"}}]"#))
            let names = chunks.flatMap { $0.choices.flatMap { $0.delta.toolCalls ?? [] } }.compactMap(\.function?.name)
            #expect(names == ["weather.v2.get"])
        }
    }

    @Test func pitfall12_toolHistoryWithoutToolsDeclaresThemWithChoiceNone() async throws {
        let chat = #"""
            {"model":"claude-sonnet-4-5","max_tokens":10,"messages":[
              {"role":"user","content":"Weather?"},
              {"role":"assistant","content":null,"tool_calls":[{"id":"toolu_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
              {"role":"tool","tool_call_id":"toolu_1","content":"18C"},
              {"role":"user","content":"Summarise our chat."}]}
            """#
        try await ClaudeHarness.run(Self.text) { h in
            _ = try await h.complete(chat)
            let body = try h.sentBody
            #expect(body.contains(#""tool_choice":{"type":"none"}"#))
            #expect(body.contains(#""tools":[{"description":"Used earlier in this conversation; not available now.","input_schema":{"type":"object"},"name":"get_weather"}]"#))
        }
    }

    @Test func pitfall13_systemAndDeveloperMessagesAreHoistedInOrder() async throws {
        let chat = #"""
            {"model":"claude-sonnet-4-5","max_tokens":10,"messages":[
              {"role":"system","content":"First."},
              {"role":"user","content":"Hi"},
              {"role":"developer","content":[{"type":"text","text":"Second."},{"type":"text","text":"Third."}]},
              {"role":"assistant","content":"Hello"},
              {"role":"system","content":"Fourth."},
              {"role":"user","content":"Bye"}]}
            """#
        try await ClaudeHarness.run(Self.text) { h in
            _ = try await h.complete(chat)
            #expect(try h.sentBody == ClaudeJSON.canonical(#"""
                {"model":"claude-sonnet-4-5","max_tokens":10,
                 "system":[{"type":"text","text":"First."},{"type":"text","text":"Second."},{"type":"text","text":"Third."},{"type":"text","text":"Fourth."}],
                 "messages":[
                  {"role":"user","content":[{"type":"text","text":"Hi"}]},
                  {"role":"assistant","content":[{"type":"text","text":"Hello"}]},
                  {"role":"user","content":[{"type":"text","text":"Bye"}]}]}
                """#))
        }
    }

    @Test func pitfall14_consecutiveSameRoleMessagesAreMerged() async throws {
        let chat = #"""
            {"model":"claude-sonnet-4-5","max_tokens":10,"messages":[
              {"role":"user","content":"One."},
              {"role":"user","content":[{"type":"text","text":"Two."}]},
              {"role":"assistant","content":"Three."},
              {"role":"system","content":"Between."},
              {"role":"assistant","content":"Four."},
              {"role":"user","content":"Five."}]}
            """#
        try await ClaudeHarness.run(Self.text) { h in
            _ = try await h.complete(chat)
            #expect(try h.sentBody == ClaudeJSON.canonical(#"""
                {"model":"claude-sonnet-4-5","max_tokens":10,
                 "system":[{"type":"text","text":"Between."}],
                 "messages":[
                  {"role":"user","content":[{"type":"text","text":"One."},{"type":"text","text":"Two."}]},
                  {"role":"assistant","content":[{"type":"text","text":"Three."},{"type":"text","text":"Four."}]},
                  {"role":"user","content":[{"type":"text","text":"Five."}]}]}
                """#))
        }
    }

    @Test func pitfall18_midStreamErrorNeverLooksLikeSuccess() async throws {
        try await ClaudeHarness.run(ClaudeReply.always(try ClaudeReply.sse("stream_overloaded_error.sse"))) { h in
            var received: [ChatCompletionChunk] = []
            let stream = try await h.openStream(claudeChat(stream: true))
            await #expect(throws: UpstreamError.inStream(message: "Overloaded", type: "overloaded_error")) {
                for try await chunk in stream { received.append(chunk) }
            }
            // What came before the error is delivered; no finish chunk, no usage chunk.
            let e = ClaudeExpectedChunks(received)
            #expect(received == [e.role(30, 1), e.text("Partial")])
        }
    }

    @Test func pitfall19_overloadKeepsItsTypeAndRetryAfter() async throws {
        try await ClaudeHarness.run(ClaudeReply.always(try ClaudeReply.json("error_529.json", status: 529, headers: ["retry-after": "30"]))) { h in
            let expected = UpstreamError.status(status: 529, message: "Overloaded", type: "overloaded_error", code: nil, param: nil, retryAfter: "30")
            await #expect(throws: expected) { _ = try await h.complete(claudeChat()) }
            #expect(expected.allowsFallback)
        }
        // Some overloads arrive as 429: the type still says what happened.
        try await ClaudeHarness.run(ClaudeReply.always(try ClaudeReply.json("error_529.json", status: 429, headers: ["retry-after": "2"]))) { h in
            await #expect(throws: UpstreamError.status(status: 429, message: "Overloaded", type: "overloaded_error", code: nil, param: nil, retryAfter: "2")) {
                _ = try await h.openStream(claudeChat(stream: true))
            }
        }
    }

    @Test func pitfall20_promptTokensIncludeCacheReadsAndWrites() async throws {
        try await ClaudeHarness.run(ClaudeReply.always(try ClaudeReply.json("response_two_tools.json"))) { h in
            let usage = try await h.complete(claudeChat()).usage
            #expect(usage == Usage(promptTokens: 420 + 100 + 2000, completionTokens: 89, cachedTokens: 2000, cacheWriteTokens: 100))
            #expect(usage?.totalTokens == 2609)
        }
        try await ClaudeHarness.run(ClaudeReply.always(try ClaudeReply.sse("stream_cache_usage.sse"))) { h in
            let usage = try await h.stream(claudeChat(stream: true)).last?.usage
            #expect(usage == Usage(promptTokens: 2060, completionTokens: 3, cachedTokens: 1800, cacheWriteTokens: 248))
        }
    }
}
