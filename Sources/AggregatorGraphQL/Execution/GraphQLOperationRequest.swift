import AggregatorWire
import Foundation
import GraphQL

/// One GraphQL request as clients send it (POST body, GET query string, WebSocket `subscribe` payload).
public struct GraphQLOperationRequest: Codable, Sendable {
    public var query: String?
    public var operationName: String?
    public var variables: [String: Map]?
    public var extensions: [String: Map]?

    public init(query: String?, operationName: String? = nil, variables: [String: Map]? = nil, extensions: [String: Map]? = nil) {
        self.query = query
        self.operationName = operationName
        self.variables = variables
        self.extensions = extensions
    }
}

/// A parsed, validated operation, ready to run.
public struct PreparedOperation: @unchecked Sendable {
    // `Document` is an immutable AST that GraphQLSwift does not mark Sendable.
    let document: Document
    public let kind: OperationType
    public let operationName: String?
    public let variables: [String: Map]
    /// Set when the answer depends on the document alone (introspection only): see `IntrospectionCache`.
    let cacheKey: String?
}

/// Why a request was not run. `malformed` is the client's fault before GraphQL even starts (missing
/// query, unparsable document): HTTP 400. `invalid` failed validation or the limits.
public enum GraphQLRequestFailure: Error, Sendable {
    case malformed([GraphQLError])
    case invalid([GraphQLError])

    public var errors: [GraphQLError] {
        switch self {
        case .malformed(let errors), .invalid(let errors): errors
        }
    }
}

/// JSON from GraphQL clients (POST bodies, `variables` in a GET, WebSocket messages): strict JSON, nested at most
/// `maxDepth` levels, before Foundation's decoder (which recurses once per level) sees it.
public enum GraphQLRequestJSON {
    /// A request's own object, its variables and an input object inside them need a handful of levels; values
    /// deeper than `QueryLimits.maxValueDepth` are refused by name once decoded.
    public static let maxDepth = 64

    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) -> T? {
        guard (try? JSONReader.validate(bytes, maxDepth: maxDepth)) != nil else { return nil }
        return try? JSONDecoder().decode(T.self, from: Data(bytes))
    }
}
