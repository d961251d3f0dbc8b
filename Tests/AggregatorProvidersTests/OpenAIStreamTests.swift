import AggregatorCore
import AggregatorProviders
import AggregatorWire
import Foundation
import Testing

/// Streamed calls through `OpenAIProvider`: chunks pass through as OpenAI sent them, and a stream is only
/// finished at `[DONE]`.
@Suite struct OpenAIStreamTests {
    static let ask = #"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello"}],"stream":true}"#

    func provider(_ harness: UpstreamHarness) -> OpenAIProvider {
        OpenAIProvider(http: harness.http, baseURL: harness.upstream.baseURL + "/v1", apiKey: "sk-test-123")
    }

    /// A chunk of the given stream of the fixtures.
    static func chunk(_ id: String, _ created: Int, _ delta: ChunkDelta, finish: FinishReason? = nil) -> ChatCompletionChunk {
        var chunk = ChatCompletionChunk(
            id: id, created: created, model: "gpt-4o-mini-2024-07-18", choices: [ChunkChoice(delta: delta, finishReason: finish)])
        chunk.systemFingerprint = "fp_0aa8d3e20b"
        return chunk
    }

    static func usageChunk(_ id: String, _ created: Int, _ usage: Usage) -> ChatCompletionChunk {
        var chunk = ChatCompletionChunk(id: id, created: created, model: "gpt-4o-mini-2024-07-18", choices: [], usage: usage)
        chunk.systemFingerprint = "fp_0aa8d3e20b"
        return chunk
    }

    static let textChunks: [ChatCompletionChunk] = [
        chunk("chatcmpl-AbC1", 1_730_000_000, ChunkDelta(role: "assistant", content: "")),
        chunk("chatcmpl-AbC1", 1_730_000_000, ChunkDelta(content: "Hello")),
        chunk("chatcmpl-AbC1", 1_730_000_000, ChunkDelta(content: " there")),
        chunk("chatcmpl-AbC1", 1_730_000_000, ChunkDelta(content: "!")),
        chunk("chatcmpl-AbC1", 1_730_000_000, ChunkDelta(), finish: .stop),
        usageChunk("chatcmpl-AbC1", 1_730_000_000, Usage(promptTokens: 12, completionTokens: 3, cachedTokens: 0)),
    ]

    @Test func plainTextStreamWithUsageChunk() async throws {
        let (chunks, error) = try await UpstreamHarness.run({ _ in try! Replay.sse("openai/stream-text.sse") }) { harness in
            let result = await drain(try await provider(harness).stream(try providerRequest(Self.ask)))
            #expect(harness.upstream.requests.last?.path == "/v1/chat/completions")
            #expect(harness.upstream.requests.last?.headers["authorization"] == "Bearer sk-test-123")
            return result
        }
        #expect(error == nil)
        #expect(chunks.typedOnly == Self.textChunks)
    }

    @Test func singleToolCallFragments() async throws {
        let (chunks, error) = try await UpstreamHarness.run({ _ in try! Replay.sse("openai/stream-tool-call.sse") }) { harness in
            await drain(try await provider(harness).stream(try providerRequest(Self.ask)))
        }
        let id = "chatcmpl-AbC2", created = 1_730_000_001
        #expect(error == nil)
        #expect(chunks.typedOnly == [
            Self.chunk(id, created, ChunkDelta(role: "assistant", toolCalls: [.start(index: 0, id: "call_7QxWeather", name: "get_weather")])),
            Self.chunk(id, created, ChunkDelta(toolCalls: [.arguments(index: 0, #"{"city":"#)])),
            Self.chunk(id, created, ChunkDelta(toolCalls: [.arguments(index: 0, #""Paris"}"#)])),
            Self.chunk(id, created, ChunkDelta(), finish: .toolCalls),
            Self.usageChunk(id, created, Usage(promptTokens: 80, completionTokens: 17, cachedTokens: 64)),
        ])
    }

    @Test func twoParallelToolCallsKeepDenseIndices() async throws {
        let (chunks, error) = try await UpstreamHarness.run({ _ in try! Replay.sse("openai/stream-parallel-tool-calls.sse") }) { harness in
            await drain(try await provider(harness).stream(try providerRequest(Self.ask)))
        }
        let id = "chatcmpl-AbC3", created = 1_730_000_002
        #expect(error == nil)
        #expect(chunks.typedOnly == [
            Self.chunk(id, created, ChunkDelta(role: "assistant", toolCalls: [.start(index: 0, id: "call_A1", name: "get_weather")])),
            Self.chunk(id, created, ChunkDelta(toolCalls: [.arguments(index: 0, #"{"ci"#)])),
            Self.chunk(id, created, ChunkDelta(toolCalls: [.arguments(index: 0, #"ty": "Paris"}"#)])),
            Self.chunk(id, created, ChunkDelta(toolCalls: [.start(index: 1, id: "call_B2", name: "get_time")])),
            Self.chunk(id, created, ChunkDelta(toolCalls: [.arguments(index: 1, #"{"tz": "Europe/Paris"}"#)])),
            Self.chunk(id, created, ChunkDelta(), finish: .toolCalls),
            Self.usageChunk(id, created, Usage(promptTokens: 95, completionTokens: 41, cachedTokens: 0)),
        ])
    }

    /// The streamed request is the client's, with `stream_options.include_usage` forced on.
    @Test func toolLoopHistoryIsPassedThroughWithUsageRequested() async throws {
        let history = #"""
            {"model":"gpt-4o-mini","stream":true,"messages":[
              {"role":"user","content":"Weather in Paris?"},
              {"role":"assistant","content":"","tool_calls":[{"id":"call_7QxWeather","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
              {"role":"tool","tool_call_id":"call_7QxWeather","content":"{\"temp_c\":18}"}],
             "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}],
             "tool_choice":{"type":"function","function":{"name":"get_weather"}},"stop":["\n\n"],"seed":7,"user":"u-1"}
            """#
        let expected = #"""
            {"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[
              {"role":"user","content":"Weather in Paris?"},
              {"role":"assistant","content":"","tool_calls":[{"id":"call_7QxWeather","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
              {"role":"tool","tool_call_id":"call_7QxWeather","content":"{\"temp_c\":18}"}],
             "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}],
             "tool_choice":{"type":"function","function":{"name":"get_weather"}},"stop":["\n\n"],"seed":7,"user":"u-1"}
            """#
        try await UpstreamHarness.run({ _ in try! Replay.sse("openai/stream-text.sse") }) { harness in
            _ = await drain(try await provider(harness).stream(try providerRequest(history)))
            #expect(canonicalJSON(harness.lastBody) == canonicalJSON(expected))
        }
    }

    /// Empty tool arguments in history are the client's business with OpenAI: passed on as they are.
    @Test func emptyArgumentsInHistoryPassThroughUnchanged() async throws {
        let history = #"""
            {"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[
              {"role":"user","content":"What time is it?"},
              {"role":"assistant","content":null,"tool_calls":[{"id":"call_T","type":"function","function":{"name":"get_time","arguments":""}}]},
              {"role":"tool","tool_call_id":"call_T","content":"14:05"}]}
            """#
        try await UpstreamHarness.run({ _ in try! Replay.sse("openai/stream-text.sse") }) { harness in
            _ = await drain(try await provider(harness).stream(try providerRequest(history)))
            #expect(canonicalJSON(harness.lastBody) == canonicalJSON(history))
        }
    }

    @Test func streamCutMidWayEndsWithAConnectionErrorAfterTheChunksSoFar() async throws {
        let (chunks, error) = try await UpstreamHarness.run({ _ in try! Replay.sse("openai/stream-text.sse", abortAfter: 3) }) { harness in
            await drain(try await provider(harness).stream(try providerRequest(Self.ask)))
        }
        #expect(chunks.typedOnly == Array(Self.textChunks.prefix(3)))
        #expect(isConnectionError(error), "got \(String(describing: error))")
    }

    /// A body that closes cleanly but never said `[DONE]` is still a broken stream, not a finished one.
    @Test func streamEndingWithoutDoneIsAConnectionError() async throws {
        let cut = try Fixture.text("openai/stream-text.sse").components(separatedBy: "\n\n").prefix(4).joined(separator: "\n\n") + "\n\n"
        let (chunks, error) = try await UpstreamHarness.run({ _ in .stream(cut, contentType: "text/event-stream") }) { harness in
            await drain(try await provider(harness).stream(try providerRequest(Self.ask)))
        }
        #expect(chunks.typedOnly == Array(Self.textChunks.prefix(4)))
        #expect(chunks.allSatisfy { $0.choices.allSatisfy { $0.finishReason == nil } })
        #expect(error as? UpstreamError == .connection("the openai stream ended before [DONE]"))
    }

    @Test func stalledStreamTimesOut() async throws {
        // The timeout must also let the first chunks through on a machine busy with the whole suite.
        let (chunks, error) = try await UpstreamHarness.run(
            timeout: .seconds(6),
            { _ in try! Replay.stalling("openai/stream-text.sse", contentType: "text/event-stream", after: 2) }
        ) { harness in
            await drain(try await provider(harness).stream(try providerRequest(Self.ask)))
        }
        #expect(chunks.typedOnly == Array(Self.textChunks.prefix(2)))
        #expect(error as? UpstreamError == .timeout)
    }
}
