import AggregatorCore
import AggregatorProviders
import AggregatorWire
import Foundation
import Testing

/// Upstream failures before any chunk, for whole and streamed calls alike.
@Suite struct OpenAIErrorTests {
    static let cases: [StatusCase] = [
        StatusCase(status: 400, fixture: "openai/error-400.json", type: "invalid_request_error", code: "context_length_exceeded", param: "messages"),
        StatusCase(status: 401, fixture: "openai/error-401.json", type: "invalid_request_error", code: "invalid_api_key"),
        StatusCase(status: 429, fixture: "openai/error-429.json", type: "tokens", code: "rate_limit_exceeded", retryAfter: "1"),
        StatusCase(status: 500, fixture: "openai/error-500.json", type: "server_error"),
        StatusCase(status: 503, fixture: "openai/error-503.json", type: "server_error", retryAfter: "20"),
    ]

    static func request(streaming: Bool) throws -> ProviderRequest {
        try providerRequest(#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"stream":\#(streaming)}"#)
    }

    @Test(arguments: cases, [false, true])
    func errorStatusIsThrownWithTheUpstreamDetails(_ errorCase: StatusCase, streaming: Bool) async throws {
        let reply = try Replay.json(errorCase.fixture, status: errorCase.status, headers: errorCase.headers)
        let expected = try errorCase.expected()
        try await UpstreamHarness.run({ _ in reply }) { harness in
            let provider = OpenAIProvider(http: harness.http, baseURL: harness.upstream.baseURL, apiKey: "sk-test")
            await #expect(throws: expected) {
                if streaming {
                    _ = try await provider.stream(try Self.request(streaming: true))
                } else {
                    _ = try await provider.complete(try Self.request(streaming: false))
                }
            }
        }
    }

    @Test func slowWholeAnswerTimesOut() async throws {
        let reply = FakeUpstream.Reply(parts: [.pause(.seconds(30)), .bytes(Array(try Fixture.text("openai/completion-text.json").utf8))])
        try await UpstreamHarness.run(timeout: .milliseconds(300), { _ in reply }) { harness in
            let provider = OpenAIProvider(http: harness.http, baseURL: harness.upstream.baseURL, apiKey: "sk-test")
            await #expect(throws: UpstreamError.timeout) {
                _ = try await provider.complete(try Self.request(streaming: false))
            }
        }
    }

    @Test func unreachableUpstreamIsAConnectionError() async throws {
        let clients = UpstreamClients(timeout: .seconds(2))
        let provider = OpenAIProvider(http: UpstreamHTTP(clients: clients, timeout: .seconds(2)), baseURL: "http://127.0.0.1:1", apiKey: "sk-test")
        var thrown: (any Error)?
        do { _ = try await provider.complete(try Self.request(streaming: false)) } catch { thrown = error }
        try await clients.shutdown()
        #expect(isConnectionError(thrown), "got \(String(describing: thrown))")
    }
}
