import GraphQL

/// An error a resolver reports to the client, with its `extensions.code`.
public struct GraphQLAPIError: Error, CustomStringConvertible, Sendable, Equatable {
    public var code: String
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    public static func forbidden(_ message: String) -> GraphQLAPIError { .init(code: "FORBIDDEN", message: message) }
    public static func badInput(_ message: String) -> GraphQLAPIError { .init(code: "BAD_USER_INPUT", message: message) }
    public static func notFound(_ message: String) -> GraphQLAPIError { .init(code: "NOT_FOUND", message: message) }
    public static func unauthenticated(_ message: String) -> GraphQLAPIError { .init(code: "UNAUTHENTICATED", message: message) }
    public static let internalError = GraphQLAPIError(code: "INTERNAL_SERVER_ERROR", message: "Internal server error.")

    /// As a GraphQL error without location (request-level errors).
    public var graphQLError: GraphQLError {
        GraphQLError(message: message, locations: [], extensions: ["code": .string(code)])
    }
}

extension GraphQLResult {
    /// Gives every resolver error its `extensions.code` and hides the text of unexpected errors (a database
    /// error never reaches a client).
    func sanitized(onUnexpected: (any Error) -> Void) -> GraphQLResult {
        var out = self
        out.errors = errors.compactMap { error in
            guard let original = error.originalError else { return error }
            if original is SubscriptionProbe.Captured { return nil }
            let api: GraphQLAPIError
            if let known = original as? GraphQLAPIError {
                api = known
            } else if let graphQL = original as? GraphQLError {
                api = GraphQLAPIError(code: "BAD_USER_INPUT", message: graphQL.message)
            } else {
                onUnexpected(original)
                api = .internalError
            }
            return GraphQLError(message: api.message, locations: error.locations, path: error.path, extensions: ["code": .string(api.code)])
        }
        return out
    }
}
