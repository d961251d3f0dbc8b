import AggregatorCore
import AggregatorProviders
import AggregatorWire
import Foundation
import Testing

/// One regression test per WIRE.md §5 pitfall that applies to the Ollama translation.
@Suite struct OllamaPitfallTests {
    func provider(_ harness: UpstreamHarness) -> OllamaProvider {
        OllamaProvider(http: harness.http, baseURL: harness.upstream.baseURL)
    }

    static let streamed = #"{"model":"llama3.2","messages":[{"role":"user","content":"Weather in Tokyo?"}],"stream":true}"#

    /// §5.5: Ollama sent no id; one is minted once per call, appears only in the call's single fragment, and finds
    /// its way back to a `tool_name` when the client returns the result under it.
    @Test func pitfall05_ollamaMintsOneStableIdPerCallAndMapsItBack() async throws {
        try await UpstreamHarness.run({ _ in try! Replay.ndjson("ollama/chat-stream-tool-call.ndjson") }) { harness in
            let (chunks, _) = await drain(try await provider(harness).stream(try providerRequest(Self.streamed)))
            let fragments = chunks.flatMap { $0.choices.flatMap { $0.delta.toolCalls ?? [] } }
            #expect(fragments.count == 1)
            let id = try #require(fragments.first?.id)
            #expect(id.wholeMatch(of: /call_[A-Za-z0-9]{24}/) != nil)

            let followUp = #"""
                {"model":"llama3.2","stream":true,"messages":[
                  {"role":"user","content":"Weather in Tokyo?"},
                  {"role":"assistant","content":null,"tool_calls":[{"id":"\#(id)","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Tokyo\"}"}}]},
                  {"role":"tool","tool_call_id":"\#(id)","content":"21C"}]}
                """#
            _ = await drain(try await provider(harness).stream(try providerRequest(followUp)))
            let toolMessage = JSONValue(parsing: harness.lastBody)?["messages"]?.arrayValue?.last
            #expect(toolMessage?["tool_name"] == .string("get_weather"))
            #expect(toolMessage?["tool_call_id"] == .string(id))
        }
    }

    /// §5.6: `arguments:""` from a client becomes `{}` for Ollama (which rejects `""`), and a call Ollama made
    /// with `{}` reaches the client as the parseable string `"{}"`.
    @Test func pitfall06_ollamaEmptyArgumentsBothWays() async throws {
        let request = #"""
            {"model":"llama3.2","stream":true,"messages":[
              {"role":"user","content":"Time?"},
              {"role":"assistant","content":"","tool_calls":[{"id":"call_T","type":"function","function":{"name":"get_time","arguments":""}}]},
              {"role":"tool","tool_call_id":"call_T","content":"14:05"},
              {"role":"user","content":"And again?"}]}
            """#
        try await UpstreamHarness.run({ _ in try! Replay.ndjson("ollama/chat-stream-empty-arguments.ndjson") }) { harness in
            let (chunks, _) = await drain(try await provider(harness).stream(try providerRequest(request)))
            let sent = JSONValue(parsing: harness.lastBody)?["messages"]?.arrayValue?[1]["tool_calls"]?.arrayValue?.first
            #expect(sent?["function"]?["arguments"] == .object(JSONObject()))
            let fragment = chunks.first?.choices.first?.delta.toolCalls?.first
            #expect(fragment?.function == .init(name: "get_time", arguments: "{}"))
            #expect(chunks.dropLast().last?.choices.first?.finishReason == .toolCalls)
        }
    }

    /// §5.7: every stream ends with one `choices:[]` usage chunk from Ollama's counts; absent counts are zero.
    @Test func pitfall07_ollamaStreamEndsWithOneUsageChunk() async throws {
        let noCounts = #"{"model":"llama3.2","created_at":"2025-07-07T20:22:19.18Z","message":{"role":"assistant","content":"Hi"},"done":true,"done_reason":"stop"}"# + "\n"
        try await UpstreamHarness.run({ request in
            request.bodyText.contains("counted") ? try! Replay.ndjson("ollama/chat-stream-text.ndjson") : .stream(noCounts, contentType: "application/x-ndjson")
        }) { harness in
            let (counted, _) = await drain(try await provider(harness).stream(
                try providerRequest(#"{"model":"llama3.2","messages":[{"role":"user","content":"counted"}],"stream":true}"#)))
            #expect(counted.filter { $0.usage != nil }.count == 1)
            #expect(counted.last?.choices == [])
            #expect(counted.last?.usage == Usage(promptTokens: 26, completionTokens: 4))

            let (uncounted, _) = await drain(try await provider(harness).stream(try providerRequest(Self.streamed)))
            #expect(uncounted.last?.choices == [])
            #expect(uncounted.last?.usage == Usage(promptTokens: 0, completionTokens: 0))
        }
    }

    /// §5.8: the tool call came in a line before `done:true`, whose `done_reason` is `stop`; the answer still
    /// finishes with `tool_calls`, or agent clients stop their loop.
    @Test func pitfall08_ollamaFinishReasonIsToolCallsWhenToolSeenEarlier() async throws {
        let (chunks, _) = try await UpstreamHarness.run({ _ in try! Replay.ndjson("ollama/chat-stream-tool-call.ndjson") }) { harness in
            await drain(try await provider(harness).stream(try providerRequest(Self.streamed)))
        }
        let finishes = chunks.compactMap { $0.choices.first?.finishReason }
        #expect(finishes == [.toolCalls])
    }

    /// §5.16: `stream` is always sent (Ollama streams by default), and no sampling defaults are invented.
    @Test func pitfall16_ollamaAlwaysSendsStreamAndNoDefaultOptions() async throws {
        let plain = #"{"model":"llama3.2","messages":[{"role":"user","content":"hi"}]}"#
        try await UpstreamHarness.run({ request in
            request.bodyText.contains(#""stream":true"#) ? try! Replay.ndjson("ollama/chat-stream-text.ndjson") : try! Replay.json("ollama/chat-text.json")
        }) { harness in
            _ = try await provider(harness).complete(try providerRequest(plain))
            #expect(canonicalJSON(harness.lastBody) == canonicalJSON(
                #"{"model":"llama3.2","messages":[{"role":"user","content":"hi"}],"stream":false}"#))
            _ = await drain(try await provider(harness).stream(try providerRequest(plain)))
            #expect(canonicalJSON(harness.lastBody) == canonicalJSON(
                #"{"model":"llama3.2","messages":[{"role":"user","content":"hi"}],"stream":true}"#))
        }
    }

    /// §5.18: an `{"error":…}` line after the 200 fails the stream after the chunks before it, with no finish.
    @Test func pitfall18_ollamaMidStreamErrorLineThrows() async throws {
        let (chunks, error) = try await UpstreamHarness.run({ _ in try! Replay.ndjson("ollama/chat-stream-error.ndjson") }) { harness in
            await drain(try await provider(harness).stream(try providerRequest(Self.streamed)))
        }
        #expect(chunks.map { $0.choices.first?.delta } == [ChunkDelta(role: "assistant", content: "Partial")])
        #expect(error as? UpstreamError == .inStream(
            message: "an error was encountered while running the model: unexpected EOF", type: "server_error"))
    }
}
