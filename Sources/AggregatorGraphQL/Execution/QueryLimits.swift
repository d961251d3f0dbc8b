import GraphQL

/// Bounds on what one operation may ask for. Each is checked before the work it protects: the text's size,
/// token count and bracket nesting before the parser (which recurses once per level) sees it; aliases,
/// fragments, spreads and value nesting before validation (which prints values in its messages, in time that
/// doubles with each level); depth and complexity, with every fragment costed once, before execution.
public struct QueryLimits: Sendable, Equatable {
    /// Deepest field nesting, fragments expanded (introspection included: GraphiQL's own query needs about 13).
    public var maxDepth: Int
    /// Fields the operation may resolve, each list field's children counted `first` times.
    public var maxComplexity: Int
    /// Largest query text accepted.
    public var maxQueryBytes: Int
    /// Lexical tokens in the query text (graphql-js' full introspection query has about 330).
    public var maxTokens: Int
    /// Deepest nesting of a list or input object value, in an argument literal, a default or a variable.
    public var maxValueDepth: Int
    /// Aliased fields in the document.
    public var maxAliases: Int
    /// Fragment definitions in the document.
    public var maxFragments: Int
    /// Fragment spreads (`...Name`) in the document.
    public var maxFragmentSpreads: Int

    public init(
        maxDepth: Int = 15, maxComplexity: Int = 5_000, maxQueryBytes: Int = 100_000, maxTokens: Int = 10_000, maxValueDepth: Int = 5,
        maxAliases: Int = 100, maxFragments: Int = 100, maxFragmentSpreads: Int = 500
    ) {
        self.maxDepth = maxDepth
        self.maxComplexity = maxComplexity
        self.maxQueryBytes = maxQueryBytes
        self.maxTokens = maxTokens
        self.maxValueDepth = maxValueDepth
        self.maxAliases = maxAliases
        self.maxFragments = maxFragments
        self.maxFragmentSpreads = maxFragmentSpreads
    }

    /// The deepest bracket nesting a query within the other limits can have: its selections (one brace each),
    /// an argument list, and a value. Deeper text is refused before it is parsed.
    var maxBracketNesting: Int { maxDepth + 1 + maxValueDepth }
}

/// A limit a request went over: the GraphQL error it is answered with names the limit in `extensions.code`.
struct LimitExceeded: Error, Equatable {
    var code: String
    var message: String

    static func tooLarge(_ bytes: Int, limit: Int) -> LimitExceeded {
        .init(code: "QUERY_TOO_LARGE", message: "The query is \(bytes) bytes long; at most \(limit) are allowed.")
    }

    static func tooManyTokens(limit: Int) -> LimitExceeded {
        .init(code: "QUERY_TOO_MANY_TOKENS", message: "The query has more than \(limit) tokens.")
    }

    static func nestedTooDeep(limit: Int) -> LimitExceeded {
        .init(code: "QUERY_TOO_DEEP", message: "The query nests brackets more than \(limit) levels deep.")
    }

    static func tooDeep(_ depth: Int, limit: Int) -> LimitExceeded {
        .init(code: "QUERY_TOO_DEEP", message: "The query is nested \(depth) levels deep; at most \(limit) are allowed.")
    }

    static func valueTooDeep(limit: Int) -> LimitExceeded {
        .init(code: "VALUE_TOO_DEEP", message: "A value in the request nests lists or objects more than \(limit) levels deep.")
    }

    static func tooManyAliases(limit: Int) -> LimitExceeded {
        .init(code: "QUERY_TOO_MANY_ALIASES", message: "The query has more than \(limit) aliases.")
    }

    static func tooManyFragments(limit: Int) -> LimitExceeded {
        .init(code: "QUERY_TOO_MANY_FRAGMENTS", message: "The query defines more than \(limit) fragments.")
    }

    static func tooManySpreads(limit: Int) -> LimitExceeded {
        .init(code: "QUERY_TOO_MANY_FRAGMENT_SPREADS", message: "The query spreads fragments more than \(limit) times.")
    }

    static func tooComplex(_ cost: Int, limit: Int) -> LimitExceeded {
        let shown = cost >= OperationShape.costCeiling ? "over \(OperationShape.costCeiling)" : "\(cost)"
        return .init(
            code: "QUERY_TOO_COMPLEX",
            message: "The query's complexity is \(shown); at most \(limit) is allowed. Ask for fewer fields or smaller pages.")
    }

    var graphQLError: GraphQLError { GraphQLAPIError(code: code, message: message).graphQLError }
}
