import AggregatorCore
import AggregatorProviders
import AggregatorWire
import Foundation
import Testing

/// Ollama's error statuses (a bare `{"error":"…"}` string body) before any chunk, whole and streamed.
@Suite struct OllamaErrorTests {
    static let cases: [StatusCase] = [
        StatusCase(status: 400, fixture: "ollama/error-400.json"),
        StatusCase(status: 401, fixture: "ollama/error-401.json"),
        StatusCase(status: 429, fixture: "ollama/error-429.json", retryAfter: "5"),
        StatusCase(status: 500, fixture: "ollama/error-500.json"),
        StatusCase(status: 503, fixture: "ollama/error-503.json"),
        StatusCase(status: 404, fixture: "ollama/error-404.json", type: "invalid_request_error", code: "model_not_found", param: "model"),
    ]

    static func request(streaming: Bool) throws -> ProviderRequest {
        try providerRequest(#"{"model":"llama3.2","messages":[{"role":"user","content":"hi"}],"stream":\#(streaming)}"#)
    }

    @Test(arguments: cases, [false, true])
    func errorStatusIsThrownWithTheUpstreamMessage(_ errorCase: StatusCase, streaming: Bool) async throws {
        let reply = try Replay.json(errorCase.fixture, status: errorCase.status, headers: errorCase.headers)
        let expected = try errorCase.expected()
        try await UpstreamHarness.run({ _ in reply }) { harness in
            let provider = OllamaProvider(http: harness.http, baseURL: harness.upstream.baseURL)
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
        let reply = FakeUpstream.Reply(parts: [.pause(.seconds(30)), .bytes(Array(try Fixture.text("ollama/chat-text.json").utf8))])
        try await UpstreamHarness.run(timeout: .milliseconds(300), { _ in reply }) { harness in
            let provider = OllamaProvider(http: harness.http, baseURL: harness.upstream.baseURL)
            await #expect(throws: UpstreamError.timeout) {
                _ = try await provider.complete(try Self.request(streaming: false))
            }
        }
    }
}
