import AggregatorCore
import AggregatorProviders
import AggregatorWire
import Foundation
import Testing

/// Upstream error statuses, before any byte was streamed (WIRE §2.5).
@Suite struct ClaudeErrorTests {
    struct Case: Sendable, CustomStringConvertible {
        var status: Int
        var fixture: String
        var type: String
        var message: String
        var retryAfter: String?
        var description: String { "\(status) \(type)" }
    }

    static let cases: [Case] = [
        Case(status: 400, fixture: "error_400.json", type: "invalid_request_error", message: "messages.1.content.0.text: text content blocks must be non-empty"),
        Case(status: 401, fixture: "error_401.json", type: "authentication_error", message: "invalid x-api-key"),
        Case(status: 429, fixture: "error_429.json", type: "rate_limit_error", message: "This request would exceed the rate limit for your organization of 50 requests per minute.", retryAfter: "17"),
        Case(status: 500, fixture: "error_500.json", type: "api_error", message: "Internal server error"),
        Case(status: 529, fixture: "error_529.json", type: "overloaded_error", message: "Overloaded", retryAfter: "5"),
    ]

    static func reply(_ c: Case) throws -> FakeUpstream.Reply {
        try ClaudeReply.json(c.fixture, status: c.status, headers: c.retryAfter.map { ["retry-after": $0] } ?? [:])
    }

    static func expected(_ c: Case) -> UpstreamError {
        .status(status: c.status, message: c.message, type: c.type, code: nil, param: nil, retryAfter: c.retryAfter)
    }

    @Test(arguments: cases) func completeThrowsTheUpstreamStatus(_ c: Case) async throws {
        try await ClaudeHarness.run(ClaudeReply.always(try Self.reply(c))) { h in
            await #expect(throws: Self.expected(c)) { _ = try await h.complete(claudeChat()) }
        }
    }

    @Test(arguments: cases) func streamThrowsTheUpstreamStatusBeforeAnyChunk(_ c: Case) async throws {
        try await ClaudeHarness.run(ClaudeReply.always(try Self.reply(c))) { h in
            await #expect(throws: Self.expected(c)) {
                _ = try await h.openStream(claudeChat(stream: true))
            }
        }
    }

    @Test func retryableStatusesAllowFallback() {
        #expect(Self.cases.map { Self.expected($0).allowsFallback } == [false, false, true, true, true])
    }

    @Test func unreachableUpstreamFailsWithoutShowingTheKey() async throws {
        let clients = UpstreamClients(timeout: .seconds(1))
        let provider = ClaudeProvider(http: UpstreamHTTP(clients: clients, timeout: .seconds(1)), baseURL: "http://127.0.0.1:1", apiKey: ClaudeHarness.apiKey)
        let error = await #expect(throws: UpstreamError.self) {
            _ = try await provider.complete(ProviderRequest(chat: try ClaudeJSON.chat(claudeChat()), requestID: "r"))
        }
        try await clients.shutdown()
        #expect(error?.allowsFallback == true)
        #expect(!String(describing: error).contains(ClaudeHarness.apiKey))
    }
}
