import AggregatorCore
import AggregatorProviders
import AggregatorWire
import Foundation
import Testing

/// Non-streamed calls through `OpenAIProvider`: what goes upstream and what comes back.
@Suite struct OpenAIProviderTests {
    static let ask = #"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello"}]}"#

    func provider(_ harness: UpstreamHarness) -> OpenAIProvider {
        OpenAIProvider(http: harness.http, baseURL: harness.upstream.baseURL + "/v1/", apiKey: "sk-test-123")
    }

    @Test func plainTextAnswerComesBackAsOpenAISentIt() async throws {
        let completion = try await UpstreamHarness.run({ _ in try! Replay.json("openai/completion-text.json") }) { harness in
            let completion = try await provider(harness).complete(try providerRequest(Self.ask))
            let sent = try #require(harness.upstream.requests.last)
            #expect(sent.method == "POST")
            #expect(sent.path == "/v1/chat/completions")
            #expect(sent.headers["authorization"] == "Bearer sk-test-123")
            #expect(canonicalJSON(sent.bodyText) == canonicalJSON(Self.ask))
            return completion
        }
        var expected = ChatCompletion(
            id: "chatcmpl-AbC5", created: 1_730_000_005, model: "gpt-4o-mini-2024-07-18",
            choices: [ChatChoice(message: AssistantMessage(content: "Hello there!"), finishReason: .stop)],
            usage: Usage(promptTokens: 12, completionTokens: 3, cachedTokens: 0))
        expected.systemFingerprint = "fp_0aa8d3e20b"
        expected.serviceTier = "default"
        // What we do not type comes back too: the message's annotations and every token detail.
        expected.choices[0].message.extra = JSONObject(["annotations": .array([])])
        expected.usage?.promptDetails = JSONObject(["audio_tokens": .int(0)])
        expected.usage?.extra = JSONObject([
            "completion_tokens_details": .object(JSONObject([
                "reasoning_tokens": .int(0), "audio_tokens": .int(0), "accepted_prediction_tokens": .int(0), "rejected_prediction_tokens": .int(0),
            ]))
        ])
        #expect(completion == expected)
    }

    @Test func singleToolCall() async throws {
        let completion = try await UpstreamHarness.run({ _ in try! Replay.json("openai/completion-tool-call.json") }) { harness in
            try await provider(harness).complete(try providerRequest(Self.ask))
        }
        let choice = try #require(completion.choices.first)
        #expect(choice.finishReason == .toolCalls)
        #expect(choice.message.content == nil)
        #expect(choice.message.toolCalls == [
            ToolCall(id: "call_7QxWeather", function: FunctionCall(name: "get_weather", arguments: #"{"city":"Paris"}"#)),
        ])
        #expect(completion.usage?.counts == Usage(promptTokens: 82, completionTokens: 17, cachedTokens: 0))
    }

    @Test func twoParallelToolCallsKeepTheirOrderAndIds() async throws {
        let completion = try await UpstreamHarness.run({ _ in try! Replay.json("openai/completion-parallel-tool-calls.json") }) { harness in
            try await provider(harness).complete(try providerRequest(Self.ask))
        }
        #expect(completion.choices.first?.message.toolCalls == [
            ToolCall(id: "call_A1", function: FunctionCall(name: "get_weather", arguments: #"{"city": "Paris"}"#)),
            ToolCall(id: "call_B2", function: FunctionCall(name: "get_time", arguments: #"{"tz": "Europe/Paris"}"#)),
        ])
        #expect(completion.choices.first?.finishReason == .toolCalls)
    }

    /// A whole tool loop replayed as history goes upstream unchanged, unknown fields included.
    @Test func toolLoopHistoryIsPassedThroughExactly() async throws {
        let history = #"""
            {"model":"gpt-4o-mini","messages":[
              {"role":"developer","content":"You are terse."},
              {"role":"user","content":[{"type":"text","text":"Weather in Paris and the time there?"}]},
              {"role":"assistant","content":null,"tool_calls":[
                {"id":"call_A1","type":"function","function":{"name":"get_weather","arguments":"{\"city\": \"Paris\"}"}},
                {"id":"call_B2","type":"function","function":{"name":"get_time","arguments":""}}]},
              {"role":"tool","tool_call_id":"call_A1","content":"{\"temp_c\":18}"},
              {"role":"tool","tool_call_id":"call_B2","content":[{"type":"text","text":"14:05"}]}],
             "tools":[{"type":"function","function":{"name":"get_weather","description":"Current weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]},"strict":true}},
                      {"type":"function","function":{"name":"get_time"}}],
             "tool_choice":"auto","parallel_tool_calls":true,"temperature":0.2,"max_completion_tokens":300,
             "metadata":{"trace":"t-1"},"service_tier":"auto","x_vendor_flag":{"nested":[1,2.5,"x"]}}
            """#
        try await UpstreamHarness.run({ _ in try! Replay.json("openai/completion-text.json") }) { harness in
            _ = try await provider(harness).complete(try providerRequest(history))
            #expect(canonicalJSON(harness.lastBody) == canonicalJSON(history))
        }
    }

    @Test func listModelsReadsIdsFromModels() async throws {
        let models = try await UpstreamHarness.run({ _ in try! Replay.json("openai/models.json") }) { harness in
            let models = try await provider(harness).listModels()
            #expect(harness.upstream.requests.last?.method == "GET")
            #expect(harness.upstream.requests.last?.path == "/v1/models")
            #expect(harness.upstream.requests.last?.headers["authorization"] == "Bearer sk-test-123")
            return models
        }
        #expect(models == ["gpt-4o-mini", "gpt-4o", "o4-mini"])
    }

    @Test func answerThatIsNotACompletionIsAProtocolError() async throws {
        _ = try await UpstreamHarness.run({ _ in .json("<html>gateway</html>") }) { harness in
            await #expect(throws: UpstreamError.protocolError("openai sent a body that is not a ChatCompletion")) {
                _ = try await provider(harness).complete(try providerRequest(Self.ask))
            }
        }
    }
}
