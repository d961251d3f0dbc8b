import AggregatorGraphQL
import Foundation
import GraphQL
import HTTPTypes
import Hummingbird

/// GraphQL over HTTP responses: `application/json` (200 for every executed request) or, when the client
/// prefers it, `application/graphql-response+json` (request errors get a 4xx).
struct GraphQLResponse {
    static let graphQLResponseType = "application/graphql-response+json"

    /// Whether the client asked for `application/graphql-response+json` before `application/json`.
    static func prefersGraphQLResponse(_ request: Request) -> Bool {
        guard let accept = request.headers[.accept], let graphQL = accept.range(of: graphQLResponseType) else { return false }
        guard let json = accept.range(of: "application/json") else { return true }
        return graphQL.lowerBound < json.lowerBound
    }

    static func result(_ result: GraphQLResult, request: Request) -> Response {
        make(status: .ok, body: result, request: request)
    }

    /// A request that was not executed. A well-formed request that failed validation (422) is a 200 for
    /// `application/json`, as GraphQL over HTTP asks; every other status stands.
    static func failure(_ errors: [GraphQLError], status: HTTPResponse.Status, request: Request, headers: HTTPFields = [:]) -> Response {
        let legacyOK = status == .unprocessableContent && !prefersGraphQLResponse(request)
        return make(status: legacyOK ? .ok : status, body: GraphQLResult(errors: errors), request: request, headers: headers)
    }

    static func error(_ code: String, _ message: String, status: HTTPResponse.Status, request: Request, headers: HTTPFields = [:]) -> Response {
        failure([GraphQLAPIError(code: code, message: message).graphQLError], status: status, request: request, headers: headers)
    }

    private static func make(status: HTTPResponse.Status, body: GraphQLResult, request: Request, headers extra: HTTPFields = [:]) -> Response {
        var headers = extra
        headers[.contentType] = prefersGraphQLResponse(request) ? "\(graphQLResponseType); charset=utf-8" : "application/json; charset=utf-8"
        let data = (try? GraphQLJSONEncoder().encode(body)) ?? Data(#"{"errors":[{"message":"Internal server error."}]}"#.utf8)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
