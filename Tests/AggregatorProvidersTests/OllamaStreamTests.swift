import AggregatorCore
import AggregatorProviders
import AggregatorWire
import Foundation
import Testing

/// Streamed calls through `OllamaProvider`: NDJSON lines become OpenAI chunks of the stub's shape (role first,
/// a `delta:{}` finish chunk, a `choices:[]` usage chunk), and a stream is only finished at `done:true`.
@Suite struct OllamaStreamTests {
    static let ask = #"{"model":"llama3.2","messages":[{"role":"user","content":"Why is the sky blue?"}],"stream":true}"#

    func provider(_ harness: UpstreamHarness) -> OllamaProvider {
        OllamaProvider(http: harness.http, baseURL: harness.upstream.baseURL)
    }

    /// Chunks as the provider writes them for request `req-1`; `created` is the stream's own.
    struct Expect {
        var created: Int
        var model = "llama3.2"

        func chunk(_ delta: ChunkDelta, finish: FinishReason? = nil) -> ChatCompletionChunk {
            ChatCompletionChunk(id: "chatcmpl-req-1", created: created, model: model, choices: [ChunkChoice(delta: delta, finishReason: finish)])
        }

        func usage(_ prompt: Int, _ completion: Int) -> ChatCompletionChunk {
            ChatCompletionChunk(
                id: "chatcmpl-req-1", created: created, model: model, choices: [],
                usage: Usage(promptTokens: prompt, completionTokens: completion))
        }

        static func call(_ index: Int, _ id: String, _ name: String, _ arguments: String) -> ToolCallDelta {
            ToolCallDelta(index: index, id: id, type: "function", function: .init(name: name, arguments: arguments))
        }

        static func textChunks(created: Int) -> [ChatCompletionChunk] {
            let e = Expect(created: created)
            return [
                e.chunk(ChunkDelta(role: "assistant", content: "The")),
                e.chunk(ChunkDelta(content: " sky")),
                e.chunk(ChunkDelta(content: " is blue.")),
                e.chunk(ChunkDelta(), finish: .stop),
                e.usage(26, 4),
            ]
        }
    }

    @Test func plainTextStream() async throws {
        let (chunks, error) = try await UpstreamHarness.run({ _ in try! Replay.ndjson("ollama/chat-stream-text.ndjson") }) { harness in
            let result = await drain(try await provider(harness).stream(try providerRequest(Self.ask)))
            #expect(harness.upstream.requests.last?.path == "/api/chat")
            #expect(canonicalJSON(harness.lastBody) == canonicalJSON(
                #"{"model":"llama3.2","messages":[{"role":"user","content":"Why is the sky blue?"}],"stream":true}"#))
            return result
        }
        #expect(error == nil)
        #expect(chunks == Expect.textChunks(created: chunks.first?.created ?? 0))
    }

    /// `reasoning_effort` asks a thinking model to think (`think:true`); `message.thinking` becomes `reasoning_content`,
    /// and the line where the thinking ends and the text begins gives one delta with both, the thinking first in
    /// meaning, so the first word of the text is not lost (LiteLLM #29518).
    @Test func thinkingBecomesReasoningContentAndTheSwitchKeepsBoth() async throws {
        let request = #"{"model":"qwen3:8b","messages":[{"role":"user","content":"Why is the sky blue?"}],"stream":true,"reasoning_effort":"low"}"#
        let (chunks, error) = try await UpstreamHarness.run({ _ in try! Replay.ndjson("ollama/chat-stream-thinking.ndjson") }) { harness in
            let result = await drain(try await provider(harness).stream(try providerRequest(request)))
            #expect(canonicalJSON(harness.lastBody) == canonicalJSON(
                #"{"model":"qwen3:8b","messages":[{"role":"user","content":"Why is the sky blue?"}],"stream":true,"think":true}"#))
            return result
        }
        let e = Expect(created: chunks.first?.created ?? 0, model: "qwen3:8b")
        #expect(error == nil)
        #expect(chunks == [
            e.chunk(ChunkDelta(role: "assistant", reasoningContent: "The")),
            e.chunk(ChunkDelta(reasoningContent: " user asks")),
            e.chunk(ChunkDelta(reasoningContent: " about the sky.")),
            e.chunk(ChunkDelta(content: "The", reasoningContent: " Answer briefly.")),
            e.chunk(ChunkDelta(content: " sky")),
            e.chunk(ChunkDelta(content: " is blue.")),
            e.chunk(ChunkDelta(), finish: .stop),
            e.usage(18, 11),
        ])
    }

    @Test func singleToolCallArrivesWholeWithAMintedId() async throws {
        let (chunks, error) = try await UpstreamHarness.run({ _ in try! Replay.ndjson("ollama/chat-stream-tool-call.ndjson") }) { harness in
            await drain(try await provider(harness).stream(try providerRequest(Self.ask)))
        }
        let e = Expect(created: chunks.first?.created ?? 0)
        let id = chunks.first?.choices.first?.delta.toolCalls?.first?.id ?? ""
        #expect(error == nil)
        #expect(id.wholeMatch(of: /call_[A-Za-z0-9]{24}/) != nil)
        #expect(chunks == [
            e.chunk(ChunkDelta(role: "assistant", toolCalls: [Expect.call(0, id, "get_weather", #"{"city":"Tokyo"}"#)])),
            e.chunk(ChunkDelta(), finish: .toolCalls),
            e.usage(171, 18),
        ])
    }

    @Test func textThenTwoParallelToolCallsWithDenseIndices() async throws {
        let request = #"{"model":"qwen3:8b","messages":[{"role":"user","content":"Weather and time in Paris?"}],"stream":true}"#
        let (chunks, error) = try await UpstreamHarness.run({ _ in try! Replay.ndjson("ollama/chat-stream-parallel-tool-calls.ndjson") }) { harness in
            await drain(try await provider(harness).stream(try providerRequest(request)))
        }
        let e = Expect(created: chunks.first?.created ?? 0, model: "qwen3:8b")
        #expect(error == nil)
        #expect(chunks == [
            e.chunk(ChunkDelta(role: "assistant", content: "Checking both.")),
            e.chunk(ChunkDelta(toolCalls: [Expect.call(0, "call_k3v9xq1r", "get_weather", #"{"city":"Paris"}"#)])),
            e.chunk(ChunkDelta(toolCalls: [Expect.call(1, "call_p0w2mz7d", "get_time", #"{"tz":"Europe/Paris"}"#)])),
            e.chunk(ChunkDelta(), finish: .toolCalls),
            e.usage(240, 52),
        ])
    }

    @Test func doneReasonLengthIsFinishReasonLength() async throws {
        let (chunks, _) = try await UpstreamHarness.run({ _ in try! Replay.ndjson("ollama/chat-stream-length.ndjson") }) { harness in
            await drain(try await provider(harness).stream(try providerRequest(Self.ask)))
        }
        let e = Expect(created: chunks.first?.created ?? 0)
        #expect(chunks == [
            e.chunk(ChunkDelta(role: "assistant", content: "Once upon")),
            e.chunk(ChunkDelta(content: " a time")),
            e.chunk(ChunkDelta(), finish: .length),
            e.usage(9, 4),
        ])
    }

    /// The streamed tool loop: the same translation as a whole call, with `stream:true`.
    @Test func toolLoopHistoryIsSentAsOllamaMessages() async throws {
        let history = #"""
            {"model":"llama3.2","stream":true,"stream_options":{"include_usage":true},"messages":[
              {"role":"user","content":"Weather in Paris?"},
              {"role":"assistant","content":"Let me check.","tool_calls":[{"id":"call_A1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
              {"role":"tool","tool_call_id":"call_A1","content":"18C"}],
             "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]}
            """#
        let expected = #"""
            {"model":"llama3.2","stream":true,"messages":[
              {"role":"user","content":"Weather in Paris?"},
              {"role":"assistant","content":"Let me check.","tool_calls":[{"id":"call_A1","function":{"name":"get_weather","arguments":{"city":"Paris"}}}]},
              {"role":"tool","content":"18C","tool_name":"get_weather","tool_call_id":"call_A1"}],
             "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]}
            """#
        try await UpstreamHarness.run({ _ in try! Replay.ndjson("ollama/chat-stream-text.ndjson") }) { harness in
            _ = await drain(try await provider(harness).stream(try providerRequest(history)))
            #expect(canonicalJSON(harness.lastBody) == canonicalJSON(expected))
        }
    }

    @Test func streamCutMidWayEndsWithAConnectionErrorAfterTheChunksSoFar() async throws {
        let (chunks, error) = try await UpstreamHarness.run({ _ in try! Replay.ndjson("ollama/chat-stream-text.ndjson", abortAfter: 2) }) { harness in
            await drain(try await provider(harness).stream(try providerRequest(Self.ask)))
        }
        #expect(chunks == Array(Expect.textChunks(created: chunks.first?.created ?? 0).prefix(2)))
        #expect(isConnectionError(error), "got \(String(describing: error))")
    }

    /// A body that closes cleanly before the `done:true` line is a broken stream, never a finished one.
    @Test func streamEndingWithoutDoneLineIsAConnectionError() async throws {
        let lines = try Fixture.text("ollama/chat-stream-text.ndjson").split(separator: "\n").prefix(3).joined(separator: "\n") + "\n"
        let (chunks, error) = try await UpstreamHarness.run({ _ in .stream(lines, contentType: "application/x-ndjson") }) { harness in
            await drain(try await provider(harness).stream(try providerRequest(Self.ask)))
        }
        #expect(chunks == Array(Expect.textChunks(created: chunks.first?.created ?? 0).prefix(3)))
        #expect(error as? UpstreamError == .connection("the ollama stream ended before its done line"))
    }

    @Test func stalledStreamTimesOut() async throws {
        // The timeout must also let the first chunks through on a machine busy with the whole suite.
        let (chunks, error) = try await UpstreamHarness.run(
            timeout: .seconds(6),
            { _ in try! Replay.stalling("ollama/chat-stream-text.ndjson", contentType: "application/x-ndjson", after: 1) }
        ) { harness in
            await drain(try await provider(harness).stream(try providerRequest(Self.ask)))
        }
        #expect(chunks == Array(Expect.textChunks(created: chunks.first?.created ?? 0).prefix(1)))
        #expect(error as? UpstreamError == .timeout)
    }
}
