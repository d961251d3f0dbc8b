import AggregatorCore
import AggregatorGraphQL
import Foundation
import GraphQL
import HTTPTypes
import Hummingbird

/// `POST /graphql` and `GET /graphql` (GraphQL over HTTP): authenticate with the `/v1` keys, prepare,
/// execute as the caller, answer in GraphQL's own error format.
struct GraphQLHTTPHandler: Sendable {
    let api: GraphQLAPI
    let authenticator: Authenticator
    let maxBodyBytes: Int

    func post(_ request: Request, context: AppRequestContext) async throws -> Response {
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        guard contentType.hasPrefix("application/json") || contentType.hasPrefix("application/graphql-response+json") else {
            return GraphQLResponse.error(
                "UNSUPPORTED_MEDIA_TYPE", "Send the request as Content-Type: application/json.", status: .unsupportedMediaType, request: request)
        }
        guard let bytes = try await RequestBody.collectIfWithin(request, limit: maxBodyBytes) else {
            return GraphQLResponse.error(
                "REQUEST_TOO_LARGE", "The request body is larger than \(maxBodyBytes) bytes.", status: .contentTooLarge, request: request)
        }
        guard let operation = GraphQLRequestJSON.decode(GraphQLOperationRequest.self, from: bytes) else {
            return GraphQLResponse.error(
                "BAD_REQUEST", "The body must be a JSON object with a string 'query', an optional 'operationName' and an optional object 'variables'.",
                status: .badRequest, request: request)
        }
        return await handle(operation, request: request, allowMutations: true)
    }

    func get(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let parameters = Self.formParameters(request.uri.query) else {
            return GraphQLResponse.error("BAD_REQUEST", "The query string is not valid percent-encoding.", status: .badRequest, request: request)
        }
        var operation = GraphQLOperationRequest(query: parameters["query"], operationName: parameters["operationName"])
        if let text = parameters["variables"], !text.isEmpty {
            guard let variables = GraphQLRequestJSON.decode([String: Map].self, from: Array(text.utf8)) else {
                return GraphQLResponse.error("BAD_REQUEST", "'variables' must be a JSON object.", status: .badRequest, request: request)
            }
            operation.variables = variables
        }
        return await handle(operation, request: request, allowMutations: false)
    }

    /// A query string as HTML forms and HTTP clients (`requests`, `httpx`) encode it: `+` is a space, then
    /// percent-decoding. The first of repeated names wins. Nil when an escape is malformed.
    static func formParameters(_ query: String?) -> [String: String]? {
        var out: [String: String] = [:]
        for pair in (query ?? "").split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ part: Substring) -> String? { part.replacingOccurrences(of: "+", with: " ").removingPercentEncoding }
            guard let name = decode(parts[0]), let value = parts.count > 1 ? decode(parts[1]) : "" else { return nil }
            if out[name] == nil { out[name] = value }
        }
        return out
    }

    private func handle(_ operation: GraphQLOperationRequest, request: Request, allowMutations: Bool) async -> Response {
        let principal: Principal
        do {
            principal = try await authenticator.principal(authorization: request.headers[.authorization], apiKey: request.headers[.apiKey])
        } catch let error as GatewayError {
            let code = error.status == 401 ? "UNAUTHENTICATED" : error.status == 403 ? "FORBIDDEN" : "SERVICE_UNAVAILABLE"
            return GraphQLResponse.error(code, error.body.message, status: .init(code: error.status), request: request)
        } catch {
            return GraphQLResponse.error("INTERNAL_SERVER_ERROR", "Internal server error.", status: .internalServerError, request: request)
        }
        let prepared: PreparedOperation
        switch api.prepare(operation) {
        case .failure(.malformed(let errors)): return GraphQLResponse.failure(errors, status: .badRequest, request: request)
        case .failure(.invalid(let errors)): return GraphQLResponse.failure(errors, status: .unprocessableContent, request: request)
        case .success(let op): prepared = op
        }
        switch prepared.kind {
        case .mutation where !allowMutations:
            var headers = HTTPFields()
            headers[.allow] = "POST"
            return GraphQLResponse.error(
                "METHOD_NOT_ALLOWED", "Mutations must be sent with POST.", status: .methodNotAllowed, request: request, headers: headers)
        case .subscription:
            return GraphQLResponse.error(
                "BAD_REQUEST", "Subscriptions are served over WebSocket at /graphql (graphql-transport-ws or graphql-ws).", status: .badRequest,
                request: request)
        default:
            return GraphQLResponse.result(await api.execute(prepared, as: principal), request: request)
        }
    }
}
