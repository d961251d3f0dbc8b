import AggregatorWire

/// An error the gateway answers with: status, OpenAI error body and extra headers (SPEC §5's table lives
/// here, in one place).
public struct GatewayError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    public var body: APIErrorBody
    public var headers: [String: String]

    public init(status: Int, body: APIErrorBody, headers: [String: String] = [:]) {
        self.status = status
        self.body = body
        self.headers = headers
    }

    /// What a log line or the CLI shows: the message a client would read, and the status.
    public var description: String { "\(body.message) (HTTP \(status)\(body.code.map { ", \($0)" } ?? ""))" }

    public static func invalidAPIKey(_ message: String = "Incorrect API key provided.") -> GatewayError {
        GatewayError(status: 401, body: .init(message: message, type: "invalid_request_error", code: "invalid_api_key"))
    }

    public static let tenantInactive = GatewayError(
        status: 403, body: .init(message: "This API key belongs to an inactive tenant.", type: "permission_error", code: "tenant_inactive"))

    public static func forbidden(_ message: String = "This operation needs the admin key.") -> GatewayError {
        GatewayError(status: 403, body: .init(message: message, type: "permission_error", code: "forbidden"))
    }

    public static func badRequest(_ message: String, param: String? = nil, code: String? = nil) -> GatewayError {
        GatewayError(status: 400, body: .init(message: message, type: "invalid_request_error", param: param, code: code))
    }

    public static func modelNotFound(_ model: String) -> GatewayError {
        GatewayError(
            status: 404,
            body: .init(
                message: "The model `\(model)` does not exist or you do not have access to it.", type: "invalid_request_error",
                param: "model", code: "model_not_found"))
    }

    public static func notFound(_ message: String) -> GatewayError {
        GatewayError(status: 404, body: .init(message: message, type: "invalid_request_error", code: "not_found"))
    }

    public static func requestTooLarge(limit: Int) -> GatewayError {
        GatewayError(
            status: 413,
            body: .init(message: "The request body is larger than the \(limit) bytes allowed.", type: "invalid_request_error", code: "request_too_large"))
    }

    public static func serviceUnavailable(_ message: String) -> GatewayError {
        GatewayError(status: 503, body: .init(message: message, type: "api_error", code: "service_unavailable"))
    }

    public static func internalError(_ message: String = "The gateway failed to process the request.") -> GatewayError {
        GatewayError(status: 500, body: .init(message: message, type: "server_error", code: nil))
    }

    /// SPEC §5's mapping of upstream failures. The answer names the provider that failed.
    public static func upstream(_ error: UpstreamError, provider: String) -> GatewayError {
        var mapped = mapUpstream(error, provider: provider)
        mapped.headers["x-aggregator-provider"] = provider
        return mapped
    }

    private static func mapUpstream(_ error: UpstreamError, provider: String) -> GatewayError {
        switch error {
        case .status(let code, let message, let type, let upstreamCode, let param, let retryAfter):
            var headers: [String: String] = [:]
            if let retryAfter { headers["retry-after"] = retryAfter }
            let text = message.isEmpty ? "The \(provider) provider answered with status \(code)." : message
            if code == 529 || code == 503 || type == "overloaded_error" {
                return GatewayError(
                    status: 503, body: .init(message: text, type: "api_error", code: "upstream_overloaded"), headers: headers)
            }
            if code == 429 {
                return GatewayError(
                    status: 429, body: .init(message: text, type: "rate_limit_exceeded", param: param, code: "rate_limit_exceeded"),
                    headers: headers)
            }
            if (400..<500).contains(code) {
                return GatewayError(
                    status: code, body: .init(message: text, type: type ?? "invalid_request_error", param: param, code: upstreamCode),
                    headers: headers)
            }
            return GatewayError(status: 502, body: .init(message: text, type: "api_error", code: "upstream_error"))
        case .connection(let detail):
            return GatewayError(
                status: 502, body: .init(message: "The \(provider) provider could not be reached: \(detail)", type: "api_error", code: "upstream_error"))
        case .protocolError(let detail):
            return GatewayError(
                status: 502, body: .init(message: "The \(provider) provider sent an unreadable answer: \(detail)", type: "api_error", code: "upstream_error"))
        case .timeout:
            return GatewayError(
                status: 504, body: .init(message: "The \(provider) provider did not answer in time.", type: "api_error", code: "upstream_timeout"))
        case .inStream(let message, let type):
            return GatewayError(status: 502, body: .init(message: message, type: type, code: "upstream_error"))
        }
    }
}
