import AggregatorCore
import GraphQL
import Logging

/// The front door of the GraphQL layer, independent of any transport: prepare a request (parse,
/// validate, limit), then execute it or subscribe to it as a principal.
public struct GraphQLAPI: Sendable {
    public let schema: GraphQLSchema
    public let services: GraphQLServices
    public let limits: QueryLimits
    let logger: Logger
    private let introspection = IntrospectionCache()

    public init(services: GraphQLServices, limits: QueryLimits = QueryLimits(), logger: Logger) throws {
        self.schema = try AggregatorSchema.make()
        self.services = services
        self.limits = limits
        self.logger = logger
    }

    public func prepare(_ request: GraphQLOperationRequest) -> Result<PreparedOperation, GraphQLRequestFailure> {
        guard let query = request.query, !query.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            return .failure(.malformed([Self.error("The request has no query.")]))
        }
        // Before the parser: its recursion and its cost follow the text.
        let bytes = query.utf8.count
        if bytes > limits.maxQueryBytes { return .failure(.malformed([LimitExceeded.tooLarge(bytes, limit: limits.maxQueryBytes).graphQLError])) }
        let scanner = DocumentScanner(maxTokens: limits.maxTokens, maxNesting: limits.maxBracketNesting)
        if let exceeded = scanner.check(query) { return .failure(.malformed([exceeded.graphQLError])) }
        let document: Document
        do {
            document = try parse(source: Source(body: query, name: "GraphQL request"))
        } catch let error as GraphQLError {
            return .failure(.malformed(Self.bounded([error])))
        } catch {
            return .failure(.malformed([Self.error("The query could not be parsed.")]))
        }
        // Before validation: it prints wrong values in its messages, in time that doubles with their nesting.
        if let exceeded = DocumentShape.check(document, limits: limits) { return .failure(.invalid([exceeded.graphQLError])) }
        let variables = request.variables ?? [:]
        if variables.values.contains(where: { DocumentShape.variableTooDeep($0, limit: limits.maxValueDepth) }) {
            return .failure(.invalid([LimitExceeded.valueTooDeep(limit: limits.maxValueDepth).graphQLError]))
        }
        let errors = validate(schema: schema, ast: document)
        guard errors.isEmpty else { return .failure(.invalid(Self.bounded(errors))) }

        let operations = document.definitions.compactMap { $0 as? OperationDefinition }
        // An empty name is no name: HTML forms and some clients send `operationName=` for a single operation.
        let operationName = request.operationName.flatMap { $0.isEmpty ? nil : $0 }
        let chosen = operationName.map { name in operations.first { $0.name?.value == name } } ?? (operations.count == 1 ? operations.first : nil)
        guard let operation = chosen else {
            let message =
                operationName.map { "Unknown operation named \"\(Self.clipped($0))\"." }
                ?? "Must provide operationName if the query contains several operations."
            return .failure(.invalid([Self.error(message)]))
        }
        // Before execution, which expands every fragment where it is spread.
        let measure = OperationShape(document: document, variables: variables).measure(operation.selectionSet)
        if measure.depth > limits.maxDepth {
            return .failure(.invalid([LimitExceeded.tooDeep(measure.depth, limit: limits.maxDepth).graphQLError]))
        }
        if measure.cost > limits.maxComplexity {
            return .failure(.invalid([LimitExceeded.tooComplex(measure.cost, limit: limits.maxComplexity).graphQLError]))
        }
        if operation.operation == .subscription, measure.rootFields != 1 {
            return .failure(.invalid([Self.error("A subscription must select exactly one root field.")]))
        }
        let cacheKey = IntrospectionCache.key(query: query, operation: operation, operationName: operation.name?.value, variables: variables)
        return .success(
            PreparedOperation(
                document: document, kind: operation.operation, operationName: operation.name?.value, variables: variables, cacheKey: cacheKey))
    }

    /// Runs a query or mutation.
    public func execute(_ operation: PreparedOperation, as principal: Principal) async -> GraphQLResult {
        guard let key = operation.cacheKey else { return await run(operation, root: (), principal: principal) }
        if let cached = introspection.result(for: key) { return cached }
        let result = await run(operation, root: (), principal: principal)
        introspection.store(result, for: key)
        return result
    }

    /// Starts a subscription: the events it will deliver, or the errors that stopped it.
    public func subscribe(_ operation: PreparedOperation, as principal: Principal) async -> Result<SubscriptionEvents, GraphQLRequestFailure> {
        let probe = SubscriptionProbe()
        let setup = await run(operation, root: probe, principal: principal)
        if let events = probe.captured { return .success(events) }
        return .failure(.invalid(setup.errors.isEmpty ? [Self.error("The subscription could not be started.")] : setup.errors))
    }

    /// The payload a subscriber gets for one of its events.
    public func result(of operation: PreparedOperation, event: any Sendable, as principal: Principal) async -> GraphQLResult {
        await run(operation, root: event, principal: principal)
    }

    private func run(_ operation: PreparedOperation, root: any Sendable, principal: Principal) async -> GraphQLResult {
        let context = GraphQLContext(principal: principal, services: services)
        let result: GraphQLResult
        do {
            result = try await GraphQL.execute(
                schema: schema, documentAST: operation.document, rootValue: root, context: context, variableValues: operation.variables,
                operationName: operation.operationName)
        } catch {
            logger.error("graphql execution failed", metadata: ["error.type": "\(String(reflecting: type(of: error)))"])
            return GraphQLResult(errors: [GraphQLAPIError.internalError.graphQLError])
        }
        var sanitized = result.sanitized { error in
            logger.error("graphql resolver failed", metadata: ["error.type": "\(String(reflecting: type(of: error)))"])
        }
        sanitized.errors = Self.bounded(sanitized.errors)
        return sanitized
    }

    /// Errors as a client gets them: at most `maxErrors`, each message at most `maxMessageLength` characters.
    /// GraphQLSwift's messages quote the input (a wrong value, an unknown name, an unexpected token), so an error
    /// would otherwise be as large as what provoked it.
    static func bounded(_ errors: [GraphQLError]) -> [GraphQLError] {
        var out = errors.prefix(maxErrors).map { error in
            let message = clipped(error.message)
            guard message != error.message else { return error }
            return GraphQLError(message: message, locations: error.locations, path: error.path, extensions: error.extensions)
        }
        if errors.count > maxErrors {
            out.append(error("\(errors.count - maxErrors) more errors were left out.", code: "TOO_MANY_ERRORS"))
        }
        return out
    }

    static let maxErrors = 20
    static let maxMessageLength = 300

    /// `text` cut to `maxMessageLength` characters, with an ellipsis where it was cut.
    static func clipped(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard scalars.count > maxMessageLength else { return text }
        return String(String.UnicodeScalarView(scalars.prefix(maxMessageLength - 1))) + "…"
    }

    static func error(_ message: String, code: String = "BAD_REQUEST") -> GraphQLError {
        GraphQLAPIError(code: code, message: message).graphQLError
    }
}
