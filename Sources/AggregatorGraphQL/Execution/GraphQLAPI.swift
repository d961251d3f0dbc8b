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
        guard query.utf8.count <= limits.maxQueryBytes else {
            return .failure(.malformed([Self.error("The query is longer than \(limits.maxQueryBytes) bytes.")]))
        }
        let document: Document
        do {
            document = try parse(source: Source(body: query, name: "GraphQL request"))
        } catch let error as GraphQLError {
            return .failure(.malformed([error]))
        } catch {
            return .failure(.malformed([Self.error("The query could not be parsed.")]))
        }
        let errors = validate(schema: schema, ast: document)
        guard errors.isEmpty else { return .failure(.invalid(errors)) }

        let operations = document.definitions.compactMap { $0 as? OperationDefinition }
        let chosen = request.operationName.map { name in operations.first { $0.name?.value == name } } ?? (operations.count == 1 ? operations.first : nil)
        guard let operation = chosen else {
            let message = request.operationName.map { "Unknown operation named \"\($0)\"." } ?? "Must provide operationName if the query contains several operations."
            return .failure(.invalid([Self.error(message)]))
        }
        let variables = request.variables ?? [:]
        var fragments: [String: FragmentDefinition] = [:]
        for case let fragment as FragmentDefinition in document.definitions { fragments[fragment.name.value] = fragment }
        let shape = OperationShape(fragments: fragments, variables: variables)
        let measure = shape.measure(operation.selectionSet)
        if measure.depth > limits.maxDepth {
            return .failure(.invalid([Self.error("The query is nested \(measure.depth) levels deep; at most \(limits.maxDepth) are allowed.", code: "QUERY_TOO_DEEP")]))
        }
        if measure.cost > limits.maxComplexity {
            return .failure(.invalid([Self.error("The query's complexity is \(measure.cost); at most \(limits.maxComplexity) is allowed. Ask for fewer fields or smaller pages.", code: "QUERY_TOO_COMPLEX")]))
        }
        if operation.operation == .subscription, shape.fields(of: operation.selectionSet).count != 1 {
            return .failure(.invalid([Self.error("A subscription must select exactly one root field.")]))
        }
        return .success(PreparedOperation(document: document, kind: operation.operation, operationName: operation.name?.value, variables: variables))
    }

    /// Runs a query or mutation.
    public func execute(_ operation: PreparedOperation, as principal: Principal) async -> GraphQLResult {
        await run(operation, root: (), principal: principal)
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
        return result.sanitized { error in
            logger.error("graphql resolver failed", metadata: ["error.type": "\(String(reflecting: type(of: error)))"])
        }
    }

    static func error(_ message: String, code: String = "BAD_REQUEST") -> GraphQLError {
        GraphQLAPIError(code: code, message: message).graphQLError
    }
}
