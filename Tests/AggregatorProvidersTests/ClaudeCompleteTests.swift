import AggregatorCore
import AggregatorProviders
import AggregatorWire
import Foundation
import Testing

/// Non-streamed answers (WIRE §2.8).
@Suite struct ClaudeCompleteTests {
    @Test func plainTextAnswer() async throws {
        try await ClaudeHarness.run(ClaudeReply.always(try ClaudeReply.json("response_text.json"))) { h in
            let completion = try await h.complete(claudeChat())
            #expect(completion.id == ClaudeHarness.chatID)
            #expect(completion.model == "claude-sonnet-4-5")
            #expect(completion.choices == [ChatChoice(message: AssistantMessage(content: "Hello, world!"), finishReason: .stop)])
            #expect(completion.usage == Usage(promptTokens: 21, completionTokens: 6, cachedTokens: 0, cacheWriteTokens: 0))
        }
    }

    @Test func singleToolCallAnswerHasNullContentAndArgumentsAsText() async throws {
        try await ClaudeHarness.run(ClaudeReply.always(try ClaudeReply.json("response_tool_use.json"))) { h in
            let completion = try await h.complete(claudeChat("Weather in Paris?", extra: claudeWeatherTool))
            let call = ToolCall(id: "toolu_01Weather", function: FunctionCall(name: "get_weather", arguments: #"{"city":"Paris"}"#))
            #expect(completion.choices == [ChatChoice(message: AssistantMessage(content: nil, toolCalls: [call]), finishReason: .toolCalls)])
            #expect(completion.jsonString.contains(#""message":{"role":"assistant","content":null,"refusal":null,"tool_calls":[{"id":"toolu_01Weather","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]}"#))
        }
    }

    @Test func textAndTwoParallelToolCalls() async throws {
        try await ClaudeHarness.run(ClaudeReply.always(try ClaudeReply.json("response_two_tools.json"))) { h in
            let completion = try await h.complete(claudeChat("Paris and Rome?", extra: claudeWeatherTool))
            #expect(completion.choices.first?.message == AssistantMessage(content: "Checking both cities.", toolCalls: [
                ToolCall(id: "toolu_01Paris", function: FunctionCall(name: "get_weather", arguments: #"{"city":"Paris"}"#)),
                ToolCall(id: "toolu_01Rome", function: FunctionCall(name: "get_weather", arguments: #"{"city":"Rome"}"#)),
            ]))
            #expect(completion.choices.first?.finishReason == .toolCalls)
            #expect(completion.usage == Usage(promptTokens: 420 + 100 + 2000, completionTokens: 89, cachedTokens: 2000, cacheWriteTokens: 100))
        }
    }

    @Test func toolCallWithEmptyInputHasEmptyObjectArguments() async throws {
        try await ClaudeHarness.run(ClaudeReply.always(try ClaudeReply.json("response_tool_no_arguments.json"))) { h in
            let completion = try await h.complete(claudeChat("What time is it?"))
            #expect(completion.choices.first?.message.toolCalls == [ToolCall(id: "toolu_01Time", function: FunctionCall(name: "get_time", arguments: "{}"))])
        }
    }

    @Test func maxTokensAnswerFinishesWithLength() async throws {
        try await ClaudeHarness.run(ClaudeReply.always(try ClaudeReply.json("response_max_tokens.json"))) { h in
            let completion = try await h.complete(claudeChat(extra: #""max_completion_tokens":4"#))
            #expect(completion.choices == [ChatChoice(message: AssistantMessage(content: "Once upon a"), finishReason: .length)])
            #expect(try h.sentBody.contains(#""max_tokens":4,"#))
        }
    }

    @Test func thinkingBlocksAreDroppedAndTextBlocksJoined() async throws {
        try await ClaudeHarness.run(ClaudeReply.always(try ClaudeReply.json("response_thinking_and_text.json"))) { h in
            let completion = try await h.complete(claudeChat(extra: #""stop":"END""#))
            #expect(completion.choices == [ChatChoice(message: AssistantMessage(content: "Hi there."), finishReason: .stop)])
            #expect(completion.usage == Usage(promptTokens: 40, completionTokens: 25))
        }
    }

    @Test func unreadableAnswerIsAProtocolError() async throws {
        try await ClaudeHarness.run(ClaudeReply.always(.json("<html>Bad gateway</html>"))) { h in
            await #expect(throws: UpstreamError.protocolError("unreadable answer from claude")) {
                _ = try await h.complete(claudeChat())
            }
        }
    }

    @Test func silentUpstreamTimesOut() async throws {
        let slow = FakeUpstream.Reply(parts: [.pause(.seconds(3)), .bytes(Array(try Fixture.text("claude/response_text.json").utf8))])
        try await ClaudeHarness.run(timeout: .milliseconds(300), ClaudeReply.always(slow)) { h in
            await #expect(throws: UpstreamError.timeout) {
                _ = try await h.complete(claudeChat())
            }
        }
    }
}
