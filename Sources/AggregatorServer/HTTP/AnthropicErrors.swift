import AggregatorCore
import AggregatorProviders
import AggregatorWire
import HTTPTypes
import Hummingbird

/// The Anthropic face of the gateway's errors (SPEC §15): the same failures as on `/v1/chat/completions`, with
/// Anthropic's body `{"type":"error","error":{type,message},"request_id"}`, its error types and its statuses (an
/// overloaded upstream is 529, as Anthropic answers it).
enum AnthropicErrors {
    /// Whether a request is answered in Anthropic's format: the Messages API, and the models list when asked
    /// with `anthropic-version`.
    static func apply(to request: Request) -> Bool {
        let path = request.uri.path
        if path.hasPrefix("/v1/messages") { return true }
        return path.hasPrefix("/v1/models") && request.headers[.anthropicVersion] != nil
    }

    /// The status and type a gateway error has on Anthropic's API.
    static func statusAndType(_ error: GatewayError) -> (Int, String) {
        switch error.status {
        case 400: (400, "invalid_request_error")
        case 401: (401, "authentication_error")
        case 403: (403, "permission_error")
        case 404: (404, "not_found_error")
        case 413: (413, "request_too_large")
        case 429: (429, "rate_limit_error")
        case 503 where error.body.code == "upstream_overloaded": (529, "overloaded_error")
        case 504: (504, "timeout_error")
        case 400..<500: (error.status, "invalid_request_error")
        default: (error.status, "api_error")
        }
    }

    static func response(_ error: GatewayError, requestID: String) -> Response {
        let (status, type) = statusAndType(error)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        for (name, value) in error.headers {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        let body = AnthropicMessagesAnswer.errorBody(type: type, message: error.body.message, requestID: requestID)
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// Claude's own refusal of a passed-through request, exactly as it came.
    static func response(_ refusal: ClaudeRefusal) -> Response {
        var headers = HTTPFields()
        for (name, value) in refusal.headers {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        headers[.aggregatorProvider] = "claude"
        return Response(status: .init(code: refusal.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: refusal.body)))
    }

    /// The `error` event a stream ends with when its upstream fails after it began.
    static func event(_ error: GatewayError) -> [UInt8] {
        AnthropicEventEncoder.error(type: statusAndType(error).1, message: error.body.message)
    }
}

extension HTTPField.Name {
    static let anthropicVersion = HTTPField.Name("anthropic-version")!
    static let anthropicBeta = HTTPField.Name("anthropic-beta")!
}
