import AggregatorCore
import AggregatorProviders
import AggregatorWire
import Foundation
import Testing

/// What an OpenAI-compatible upstream sends beyond the fields we type reaches the client unchanged: answer and
/// chunk members (`service_tier`, `obfuscation`), message members (`annotations`) and token details (reasoning
/// tokens, audio tokens), each written back after the typed members.
@Suite struct OpenAIPassThroughTests {
    func provider(_ harness: UpstreamHarness) -> OpenAIProvider {
        OpenAIProvider(http: harness.http, baseURL: harness.upstream.baseURL, apiKey: "sk-test")
    }

    @Test func answerKeepsAnnotationsServiceTierAndTokenDetails() async throws {
        let completion = try await UpstreamHarness.run({ _ in try! Replay.json("openai/completion-text.json") }) { harness in
            try await provider(harness).complete(try providerRequest(#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#))
        }
        #expect(completion.jsonString == """
            {"id":"chatcmpl-AbC5","object":"chat.completion","created":1730000005,"model":"gpt-4o-mini-2024-07-18",\
            "system_fingerprint":"fp_0aa8d3e20b","choices":[{"index":0,"message":{"role":"assistant","content":"Hello there!",\
            "refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":12,\
            "completion_tokens":3,"total_tokens":15,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},\
            "completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,\
            "rejected_prediction_tokens":0}},"service_tier":"default"}
            """)
    }

    @Test func chunksKeepTheirObfuscationAndUsageDetails() async throws {
        let (chunks, error) = try await UpstreamHarness.run({ _ in try! Replay.sse("openai/stream-text.sse") }) { harness in
            await drain(try await provider(harness).stream(try providerRequest(#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"stream":true}"#)))
        }
        #expect(error == nil)
        #expect(chunks.first?.extra == JSONObject(["obfuscation": .string("k2R1")]))
        var writer = JSONWriter()
        try #require(chunks.first).write(to: &writer, usageField: true)
        #expect(writer.string == """
            {"id":"chatcmpl-AbC1","object":"chat.completion.chunk","created":1730000000,"model":"gpt-4o-mini-2024-07-18",\
            "system_fingerprint":"fp_0aa8d3e20b","choices":[{"index":0,"delta":{"role":"assistant","content":""},\
            "logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"k2R1"}
            """)
        let usage = try #require(chunks.last?.usage)
        #expect(usage.extra["completion_tokens_details"]?["reasoning_tokens"] == .int(0))
    }
}
