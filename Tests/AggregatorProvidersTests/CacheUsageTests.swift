import AggregatorCore
import AggregatorProviders
import AggregatorWire
import Foundation
import Testing

/// Cached prompt tokens as each provider reports them, in the usage the gateway meters (SPEC §7): OpenAI's
/// `prompt_tokens_details.cached_tokens`, Anthropic's cache reads and writes from `message_start` and
/// `message_delta`. The client's usage stays OpenAI's: `prompt_tokens` counts every prompt token.
@Suite struct CacheUsageTests {
    static let ask = #"{"model":"gpt-4o","messages":[{"role":"user","content":"When does it renew?"}]}"#

    func openAI(_ harness: UpstreamHarness) -> OpenAIProvider {
        OpenAIProvider(http: harness.http, baseURL: harness.upstream.baseURL + "/v1", apiKey: "sk-test-123")
    }

    @Test func openAIAnswerWithCachedTokens() async throws {
        let completion = try await UpstreamHarness.run({ _ in try! Replay.json("openai/completion-cached.json") }) { harness in
            try await openAI(harness).complete(try providerRequest(Self.ask))
        }
        let usage = try #require(completion.usage)
        #expect(TokenCounts(usage) == TokenCounts(tokensIn: 2_006, tokensOut: 300, cacheRead: 1_920, cacheWrite: 0))
        var writer = JSONWriter()
        usage.write(to: &writer)
        #expect(writer.string.hasPrefix(#"{"prompt_tokens":2006,"completion_tokens":300,"total_tokens":2306,"prompt_tokens_details":{"cached_tokens":1920,"audio_tokens":0}"#))
    }

    @Test func openAIStreamWithCachedTokens() async throws {
        let ask = #"{"model":"gpt-4o","messages":[{"role":"user","content":"When?"}],"stream":true,"stream_options":{"include_usage":true}}"#
        let (chunks, error) = try await UpstreamHarness.run({ _ in try! Replay.sse("openai/stream-cached.sse") }) { harness in
            await drain(try await openAI(harness).stream(try providerRequest(ask)))
        }
        #expect(error == nil)
        #expect(chunks.count == 5)
        let usage = try #require(chunks.last?.usage)
        #expect(TokenCounts(usage) == TokenCounts(tokensIn: 2_006, tokensOut: 9, cacheRead: 1_920, cacheWrite: 0))
        #expect(!chunks.contains { $0.usageSoFar != nil })
    }

    @Test func claudeAgentWritesTheCacheOnTheFirstTurnAndReadsItOnTheSecond() async throws {
        let turns = ["stream_cache_write_turn.sse", "stream_cache_read_turn.sse"]
        let script: FakeUpstream.Script = { request in
            // The second turn is the one with the assistant's first answer in its history.
            try! ClaudeReply.sse(request.bodyText.contains(#""role":"assistant""#) ? turns[1] : turns[0])
        }
        try await ClaudeHarness.run(script) { h in
            let first = try await h.stream(claudeChat("Fix the date test.", stream: true))
            // Anthropic's input_tokens leaves the cache out: 9 fresh + 3210 written.
            #expect(first.first?.usageSoFar.map(TokenCounts.init) == TokenCounts(tokensIn: 3_219, tokensOut: 1, cacheRead: 0, cacheWrite: 3_210))
            let firstUsage = try #require(first.last?.usage)
            #expect(TokenCounts(firstUsage) == TokenCounts(tokensIn: 3_219, tokensOut: 27, cacheRead: 0, cacheWrite: 3_210))
            #expect((firstUsage.promptTokens, firstUsage.cachedTokens) == (3_219, 0))

            let history = #"{"model":"claude-sonnet-4-5","stream":true,"messages":[{"role":"user","content":"Fix the date test."},"#
                + #"{"role":"assistant","content":"I'll read the file first, then fix the test."},{"role":"user","content":"Again."}]}"#
            let second = try await h.stream(history)
            let secondUsage = try #require(second.last?.usage)
            // message_delta repeats no input counts here: message_start's stay.
            #expect(TokenCounts(secondUsage) == TokenCounts(tokensIn: 3_276, tokensOut: 41, cacheRead: 3_210, cacheWrite: 52))
            #expect((secondUsage.promptTokens, secondUsage.cachedTokens) == (3_276, 3_210))
            var writer = JSONWriter()
            secondUsage.write(to: &writer)
            #expect(writer.string == #"{"prompt_tokens":3276,"completion_tokens":41,"total_tokens":3317,"prompt_tokens_details":{"cached_tokens":3210}}"#)
        }
    }

    @Test func claudeAnswerWithCacheReadsAndWrites() async throws {
        try await ClaudeHarness.run(ClaudeReply.always(try ClaudeReply.json("response_cache_read.json"))) { h in
            let usage = try #require(try await h.complete(claudeChat()).usage)
            #expect(TokenCounts(usage) == TokenCounts(tokensIn: 23 + 64 + 4_096, tokensOut: 15, cacheRead: 4_096, cacheWrite: 64))
        }
    }
}
