import AggregatorCore
import AggregatorProviders
import AggregatorWire
import Foundation
import Testing

/// One regression test per WIRE.md §5 pitfall that applies to the OpenAI pass-through.
@Suite struct OpenAIPitfallTests {
    func provider(_ harness: UpstreamHarness) -> OpenAIProvider {
        OpenAIProvider(http: harness.http, baseURL: harness.upstream.baseURL, apiKey: "sk-test")
    }

    static let streamed = #"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"stream":true}"#

    /// §5.5: id, type and name only in a call's first fragment; later fragments only add arguments.
    @Test func pitfall05_openAIToolCallIdAndNameOnlyInFirstFragment() async throws {
        let (chunks, _) = try await UpstreamHarness.run({ _ in try! Replay.sse("openai/stream-parallel-tool-calls.sse") }) { harness in
            await drain(try await provider(harness).stream(try providerRequest(Self.streamed)))
        }
        let fragments = chunks.flatMap { $0.choices.flatMap { $0.delta.toolCalls ?? [] } }
        #expect(fragments.filter { $0.id != nil }.map(\.index) == [0, 1])
        #expect(fragments.filter { $0.function?.name != nil }.map(\.index) == [0, 1])
        for index in [0, 1] {
            let first = try #require(fragments.first { $0.index == index })
            #expect(first.id != nil && first.type == "function" && first.function?.name != nil)
        }
    }

    /// §5.7: usage is always requested upstream, even when the client did not ask, so every stream can be metered.
    @Test func pitfall07_openAIAlwaysRequestsStreamUsage() async throws {
        let (chunks, _) = try await UpstreamHarness.run({ _ in try! Replay.sse("openai/stream-text.sse") }) { harness in
            let result = await drain(try await provider(harness).stream(try providerRequest(Self.streamed)))
            let sent = JSONValue(parsing: harness.lastBody)
            #expect(sent?["stream"] == .bool(true))
            #expect(sent?["stream_options"] == .object(JSONObject(["include_usage": .bool(true)])))
            return result
        }
        #expect(chunks.last?.choices == [])
        #expect(chunks.last?.usage?.counts == Usage(promptTokens: 12, completionTokens: 3, cachedTokens: 0))
    }

    /// §5.7: a usage chunk with `choices:null` (some OpenAI-compatible servers) is read, not rejected.
    @Test func pitfall07_openAIUsageChunkWithNullChoicesIsRead() async throws {
        let (chunks, error) = try await UpstreamHarness.run({ _ in try! Replay.sse("openai/stream-usage-choices-null.sse") }) { harness in
            await drain(try await provider(harness).stream(try providerRequest(Self.streamed)))
        }
        #expect(error == nil)
        #expect(chunks.map(\.choices.count) == [1, 1, 0])
        #expect(chunks.last?.usage == Usage(promptTokens: 5, completionTokens: 1))
    }

    /// §5.15: `stream_options` without `stream:true` makes OpenAI answer 400, so a whole-answer call drops it.
    @Test func pitfall15_openAIStripsStreamOptionsWhenNotStreaming() async throws {
        let request = #"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"stream":false,"stream_options":{"include_usage":true}}"#
        try await UpstreamHarness.run({ _ in try! Replay.json("openai/completion-text.json") }) { harness in
            _ = try await provider(harness).complete(try providerRequest(request))
            #expect(canonicalJSON(harness.lastBody) == canonicalJSON(#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"stream":false}"#))
        }
    }

    /// §5.18: an error event after the 200 fails the stream after the chunks before it; it never looks finished.
    @Test func pitfall18_openAIMidStreamErrorThrowsInsteadOfFinishing() async throws {
        let (chunks, error) = try await UpstreamHarness.run({ _ in try! Replay.sse("openai/stream-error.sse") }) { harness in
            await drain(try await provider(harness).stream(try providerRequest(Self.streamed)))
        }
        #expect(chunks.map { $0.choices.first?.delta.content } == ["", "Partial"])
        #expect(chunks.allSatisfy { $0.choices.allSatisfy { $0.finishReason == nil } })
        #expect(error as? UpstreamError == .inStream(
            message: "The server had an error while processing your request. Sorry about that!", type: "server_error"))
    }

    /// §5.18, the other shapes servers send: a bare string, and an error whose other members are not a chunk's.
    @Test(arguments: [
        (#"{"error":"Model overloaded"}"#, UpstreamError.inStream(message: "Model overloaded", type: "server_error")),
        (#"{"id":7,"choices":"none","error":{"message":"Upstream died","type":"overloaded_error"}}"#,
         UpstreamError.inStream(message: "Upstream died", type: "overloaded_error")),
    ])
    func pitfall18_openAIMidStreamErrorShapes(payload: String, expected: UpstreamError) async throws {
        let first = try Fixture.text("openai/stream-text.sse").components(separatedBy: "\n\n").prefix(2).joined(separator: "\n\n")
        let body = first + "\n\ndata: " + payload + "\n\ndata: [DONE]\n\n"
        let (chunks, error) = try await UpstreamHarness.run({ _ in .stream(body, contentType: "text/event-stream") }) { harness in
            await drain(try await provider(harness).stream(try providerRequest(Self.streamed)))
        }
        #expect(chunks.count == 2)
        #expect(error as? UpstreamError == expected)
    }
}
