import AggregatorCore
import AggregatorProviders
import AggregatorWire
import Foundation
import Testing

/// Streamed answers: what the client gets from Anthropic SSE (WIRE §2.9).
@Suite struct ClaudeStreamTests {
    @Test func plainTextStreamBecomesRoleTextFinishAndUsageChunks() async throws {
        try await ClaudeHarness.run(ClaudeReply.always(try ClaudeReply.sse("stream_text.sse"))) { h in
            let chunks = try await h.stream(claudeChat(stream: true))
            let e = ClaudeExpectedChunks(chunks)
            #expect(chunks == [e.role(21, 1), e.text("Hello"), e.text(", world"), e.text("!"), e.finish(.stop), e.usage(21, 6)])
            #expect(e.created > 0)
        }
    }

    @Test func singleToolCallStreamsIdAndNameFirstThenArgumentFragments() async throws {
        try await ClaudeHarness.run(ClaudeReply.always(try ClaudeReply.sse("stream_single_tool.sse"))) { h in
            let chunks = try await h.stream(claudeChat("Weather in Paris?", stream: true, extra: claudeWeatherTool))
            let e = ClaudeExpectedChunks(chunks)
            #expect(chunks == [
                e.role(380, 2), e.start(0, "toolu_01Weather", "get_weather"),
                e.arguments(0, #"{"city": "Pa"#), e.arguments(0, #"ris"}"#),
                e.finish(.toolCalls), e.usage(380, 41),
            ])
        }
    }

    @Test func textThenTwoParallelToolCallsUseDenseIndices() async throws {
        try await ClaudeHarness.run(ClaudeReply.always(try ClaudeReply.sse("stream_text_then_two_tools.sse"))) { h in
            let chunks = try await h.stream(claudeChat("Paris and Rome?", stream: true, extra: claudeWeatherTool))
            let e = ClaudeExpectedChunks(chunks)
            #expect(chunks == [
                e.role(420, 2), e.text("Checking both cities."),
                e.start(0, "toolu_01Paris", "get_weather"), e.arguments(0, #"{"city": "Pa"#), e.arguments(0, #"ris"}"#),
                e.start(1, "toolu_01Rome", "get_weather"), e.arguments(1, #"{"city""#), e.arguments(1, #": "Rome"}"#),
                e.finish(.toolCalls), e.usage(420, 89),
            ])
        }
    }

    @Test func toolCallWithoutInputDeltasGetsEmptyObjectArguments() async throws {
        try await ClaudeHarness.run(ClaudeReply.always(try ClaudeReply.sse("stream_tool_no_arguments.sse"))) { h in
            let chunks = try await h.stream(claudeChat("What time is it?", stream: true))
            let e = ClaudeExpectedChunks(chunks)
            #expect(chunks == [
                e.role(150, 2), e.text("Let me look."), e.start(0, "toolu_01Time", "get_time"), e.arguments(0, "{}"),
                e.finish(.toolCalls), e.usage(150, 33),
            ])
        }
    }

    @Test func cacheTokensCountAsPromptTokensAndReadsAsCached() async throws {
        try await ClaudeHarness.run(ClaudeReply.always(try ClaudeReply.sse("stream_cache_usage.sse"))) { h in
            let chunks = try await h.stream(claudeChat(stream: true))
            let e = ClaudeExpectedChunks(chunks)
            #expect(
                chunks == [
                    e.role(12 + 248 + 1800, 1, cached: 1800, written: 248), e.text("Cached."), e.finish(.stop),
                    e.usage(12 + 248 + 1800, 3, cached: 1800, written: 248),
                ])
        }
    }

    @Test func maxTokensStopIsReportedAsLength() async throws {
        try await ClaudeHarness.run(ClaudeReply.always(try ClaudeReply.sse("stream_max_tokens.sse"))) { h in
            let chunks = try await h.stream(claudeChat(stream: true, extra: #""max_tokens":4"#))
            let e = ClaudeExpectedChunks(chunks)
            #expect(chunks == [e.role(18, 1), e.text("Once upon a"), e.finish(.length), e.usage(18, 4)])
            #expect(try h.sentBody.contains(#""max_tokens":4,"#))
            #expect(try h.sentBody.contains(#""stream":true"#))
        }
    }

    @Test func thinkingBlocksAndUnknownEventsAreSkipped() async throws {
        try await ClaudeHarness.run(ClaudeReply.always(try ClaudeReply.sse("stream_thinking_and_unknown_event.sse"))) { h in
            let chunks = try await h.stream(claudeChat(stream: true))
            let e = ClaudeExpectedChunks(chunks)
            #expect(chunks == [e.role(40, 1), e.text("Hi there."), e.finish(.contentFilter), e.usage(40, 25)])
        }
    }

    @Test func streamCutMidWayThrowsAfterThePartsReceived() async throws {
        // message_start, the text block start, a ping and the first text delta; then the connection drops.
        let events = try Fixture.text("claude/stream_text.sse").components(separatedBy: "\n\n").prefix(4).joined(separator: "\n\n") + "\n\n"
        let cut = FakeUpstream.Reply(headers: ["content-type": "text/event-stream"], parts: [.bytes(Array(events.utf8)), .pause(.milliseconds(100)), .abort])
        try await ClaudeHarness.run(ClaudeReply.always(cut)) { h in
            var received: [ChatCompletionChunk] = []
            let stream = try await h.openStream(claudeChat(stream: true))
            let error = await #expect(throws: UpstreamError.self) {
                for try await chunk in stream { received.append(chunk) }
            }
            guard case .connection? = error else {
                Issue.record("expected a connection error, got \(String(describing: error))")
                return
            }
            let e = ClaudeExpectedChunks(received)
            #expect(received == [e.role(21, 1), e.text("Hello")])
        }
    }

    @Test func streamEndingWithoutMessageStopIsAConnectionError() async throws {
        let text = try Fixture.text("claude/stream_text.sse")
        let cut = try #require(text.range(of: "event: message_delta"))
        let truncated = String(text[..<cut.lowerBound])
        try await ClaudeHarness.run(ClaudeReply.always(.stream(truncated, contentType: "text/event-stream"))) { h in
            var received: [ChatCompletionChunk] = []
            let stream = try await h.openStream(claudeChat(stream: true))
            await #expect(throws: UpstreamError.connection("the claude stream ended before message_stop")) {
                for try await chunk in stream { received.append(chunk) }
            }
            #expect(received.count == 4)
            #expect(!received.contains { $0.choices.first?.finishReason != nil || $0.usage != nil })
        }
    }

    @Test func silentUpstreamTimesOut() async throws {
        try await ClaudeHarness.run(timeout: .milliseconds(300), ClaudeReply.always(try ClaudeReply.sse("stream_text.sse", pause: .seconds(3)))) { h in
            await #expect(throws: UpstreamError.timeout) {
                _ = try await h.stream(claudeChat(stream: true))
            }
        }
    }
}

let claudeWeatherTool = #""tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]"#
