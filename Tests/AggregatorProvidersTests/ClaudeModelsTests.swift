import AggregatorCore
import AggregatorProviders
import Testing

/// `listModels()` (WIRE §2.6).
@Suite struct ClaudeModelsTests {
    @Test func followsPagesOfTheModelList() async throws {
        try await ClaudeHarness.run({ _ in .json("") }) { h in
            let upstream = h.upstream
            upstream.setScript { _ in
                let page = upstream.requests.count == 1 ? "claude/models_page1.json" : "claude/models_page2.json"
                return .json((try? Fixture.text(page)) ?? "")
            }
            let models = try await h.provider.listModels()
            #expect(models == ["claude-sonnet-4-5-20250929", "claude-opus-4-1-20250805", "claude-3-5-haiku-20241022"])
            #expect(h.upstream.requests.map(\.method) == ["GET", "GET"])
            #expect(h.upstream.requests.allSatisfy { $0.path == "/v1/models" && $0.headers["x-api-key"] == ClaudeHarness.apiKey })
        }
    }

    @Test func missingModelsEndpointFallsBackToKnownModels() async throws {
        try await ClaudeHarness.run(ClaudeReply.always(try ClaudeReply.json("error_404_not_found.json", status: 404))) { h in
            let models = try await h.provider.listModels()
            #expect(models.contains("claude-sonnet-4-5-20250929"))
            #expect(models.allSatisfy { $0.hasPrefix("claude-") })
        }
    }

    @Test func badKeyIsNotHiddenByTheFallback() async throws {
        try await ClaudeHarness.run(ClaudeReply.always(try ClaudeReply.json("error_401.json", status: 401))) { h in
            await #expect(throws: UpstreamError.status(status: 401, message: "invalid x-api-key", type: "authentication_error", code: nil, param: nil, retryAfter: nil)) {
                _ = try await h.provider.listModels()
            }
        }
    }
}
