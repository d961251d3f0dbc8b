import AggregatorCore
import AggregatorWire
import Testing

/// SPEC §5's table of upstream failures, as the client sees them.
@Suite struct UpstreamErrorMappingTests {
    struct Case: Sendable, CustomStringConvertible {
        var error: UpstreamError
        var status: Int
        var type: String
        var code: String?
        var retryAfter: String?
        var description: String { "\(error)" }
    }

    static let cases: [Case] = [
        Case(
            error: .status(status: 400, message: "bad temperature", type: "invalid_request_error", code: nil, param: "temperature", retryAfter: nil),
            status: 400, type: "invalid_request_error", code: nil),
        Case(
            error: .status(status: 401, message: "invalid x-api-key", type: "authentication_error", code: nil, param: nil, retryAfter: nil),
            status: 401, type: "authentication_error", code: nil),
        Case(
            error: .status(status: 429, message: "slow down", type: "rate_limit_error", code: nil, param: nil, retryAfter: "7"),
            status: 429, type: "rate_limit_exceeded", code: "rate_limit_exceeded", retryAfter: "7"),
        Case(
            error: .status(status: 529, message: "Overloaded", type: "overloaded_error", code: nil, param: nil, retryAfter: "3"),
            status: 503, type: "api_error", code: "upstream_overloaded", retryAfter: "3"),
        Case(
            error: .status(status: 503, message: "unavailable", type: nil, code: nil, param: nil, retryAfter: nil),
            status: 503, type: "api_error", code: "upstream_overloaded"),
        Case(
            error: .status(status: 500, message: "boom", type: "server_error", code: nil, param: nil, retryAfter: nil),
            status: 502, type: "api_error", code: "upstream_error"),
        Case(error: .connection("refused"), status: 502, type: "api_error", code: "upstream_error"),
        Case(error: .timeout, status: 504, type: "api_error", code: "upstream_timeout"),
    ]

    @Test(arguments: cases)
    func mapsAsTheSpecSays(c: Case) {
        let mapped = GatewayError.upstream(c.error, provider: "claude")
        #expect(mapped.status == c.status)
        #expect(mapped.body.type == c.type)
        #expect(mapped.body.code == c.code)
        #expect(mapped.headers["retry-after"] == c.retryAfter)
        #expect(mapped.headers["x-aggregator-provider"] == "claude")
    }

    @Test func upstreamMessageIsCarriedOverFor4xx() {
        let mapped = GatewayError.upstream(
            .status(status: 400, message: "max_tokens: too large", type: "invalid_request_error", code: nil, param: nil, retryAfter: nil),
            provider: "claude")
        #expect(mapped.body.message == "max_tokens: too large")
    }

    @Test func fallbackOnlyOnConnectionTimeout429And5xx() {
        #expect(UpstreamError.connection("x").allowsFallback)
        #expect(UpstreamError.timeout.allowsFallback)
        #expect(UpstreamError.status(status: 429, message: "", type: nil, code: nil, param: nil, retryAfter: nil).allowsFallback)
        #expect(UpstreamError.status(status: 500, message: "", type: nil, code: nil, param: nil, retryAfter: nil).allowsFallback)
        #expect(!UpstreamError.status(status: 400, message: "", type: nil, code: nil, param: nil, retryAfter: nil).allowsFallback)
        #expect(!UpstreamError.inStream(message: "x", type: "api_error").allowsFallback)
    }
}
