import GraphQL

/// Builds an object type's fields in order, each read from a typed source value.
struct FieldBuilder<Source: Sendable> {
    private(set) var fields: GraphQLFieldMap = [:]

    mutating func add(
        _ name: String, _ type: any GraphQLOutputType, description: String? = nil, _ read: @escaping @Sendable (Source) -> (any Sendable)?
    ) {
        fields[name] = GraphQLField(
            type: type, description: description,
            resolve: { source, _, _, _ in
                guard let value = source as? Source else { throw GraphQLAPIError.internalError }
                return read(value)
            })
    }
}

/// Builds a root type's fields: each with arguments and an async resolver that gets the caller's context.
struct RootFieldBuilder {
    private(set) var fields: GraphQLFieldMap = [:]

    mutating func add(
        _ name: String, _ type: any GraphQLOutputType, description: String? = nil, args: GraphQLArgumentConfigMap = [:],
        _ resolve: @escaping @Sendable (_ args: Map, _ context: GraphQLContext) async throws -> (any Sendable)?
    ) {
        fields[name] = GraphQLField(
            type: type, description: description, args: args,
            resolve: { _, args, context, _ in try await resolve(args, GraphQLContext.from(context)) })
    }

    /// A subscription field: `subscribe` gives the event stream, each event is the field's value.
    mutating func addSubscription(
        _ name: String, _ type: any GraphQLOutputType, description: String? = nil, args: GraphQLArgumentConfigMap = [:],
        _ subscribe: @escaping @Sendable (_ args: Map, _ context: GraphQLContext) throws -> SubscriptionEvents
    ) {
        fields[name] = GraphQLField(
            type: type, description: description, args: args,
            resolve: { source, args, context, _ in
                // A probe run captures the arguments for the transport; an event run resolves to the event itself.
                if let probe = source as? SubscriptionProbe {
                    probe.capture(try subscribe(args, GraphQLContext.from(context)))
                    throw SubscriptionProbe.Captured()
                }
                return source
            })
    }
}

extension Map {
    /// The argument's string value, or nil when null or absent.
    var optionalString: String? {
        if case .string(let s) = self { return s }
        return nil
    }
}
