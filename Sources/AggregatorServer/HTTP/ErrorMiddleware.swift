import AggregatorCore
import AggregatorProviders
import AggregatorWire
import HTTPTypes
import Hummingbird

/// The one place errors become responses: `GatewayError` as the OpenAI error body, Hummingbird's own
/// errors (unknown route, wrong method) in the same format, anything else as a 500 that reveals nothing.
/// The Anthropic Messages API gets the same errors in Anthropic's body (`AnthropicErrors`), and Claude's own
/// refusal of a passed-through request as Claude sent it. Also stamps `x-request-id` on every response.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        let anthropic = AnthropicErrors.apply(to: request)
        func answer(_ error: GatewayError) -> Response {
            anthropic ? AnthropicErrors.response(error, requestID: context.requestID) : Self.response(error)
        }
        do {
            response = try await next(request, context)
        } catch let error as GatewayError {
            response = answer(error)
        } catch let refusal as ClaudeRefusal {
            response = anthropic ? AnthropicErrors.response(refusal) : Self.response(.upstream(refusal.error, provider: "claude"))
        } catch let error as HTTPError {
            response = answer(Self.gatewayError(status: error.status, message: error.body))
        } catch let error as any HTTPResponseError {
            response = answer(Self.gatewayError(status: error.status, message: nil))
        } catch {
            context.logger.error("unhandled error", metadata: ["error.type": "\(String(reflecting: type(of: error)))"])
            response = answer(.internalError())
        }
        response.headers[.requestID] = context.requestID
        return response
    }

    static func gatewayError(status: HTTPResponse.Status, message: String?) -> GatewayError {
        switch status {
        case .notFound:
            return GatewayError(status: 404, body: .init(message: "Unknown request URL.", type: "invalid_request_error", code: "unknown_url"))
        case .methodNotAllowed:
            return GatewayError(status: 405, body: .init(message: "Method not allowed.", type: "invalid_request_error", code: "method_not_allowed"))
        case .contentTooLarge:
            return GatewayError(status: 413, body: .init(message: "The request body is too large.", type: "invalid_request_error", code: "request_too_large"))
        default:
            let code = Int(status.code)
            return GatewayError(
                status: code,
                body: .init(message: message ?? status.reasonPhrase, type: code >= 500 ? "server_error" : "invalid_request_error", code: nil))
        }
    }

    static func response(_ error: GatewayError) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        for (name, value) in error.headers {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        return Response(
            status: .init(code: error.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: error.body.jsonBytes)))
    }
}

extension HTTPField.Name {
    static let requestID = HTTPField.Name("x-request-id")!
    static let aggregatorProvider = HTTPField.Name("x-aggregator-provider")!
    static let apiKey = HTTPField.Name("x-api-key")!
}
