import GraphQL

// GraphQLSwift declares `__InputValue.isDeprecated: Boolean!` and `deprecationReason` but resolves them by
// reflection, and its argument and input-field definitions store only `deprecationReason`: any client whose
// introspection asks for deprecated input values (graphql-js `inputValueDeprecation: true`, Python gql's default)
// got "Cannot return null for non-nullable field __InputValue.isDeprecated". Its default resolver reads a source
// that is `KeySubscriptable` by key before reflecting on it, so these answer every field the default resolver is
// asked for (`defaultValue` has a resolver of its own).

extension GraphQLArgumentDefinition: @retroactive KeySubscriptable {
    public subscript(key: String) -> (any Sendable)? {
        inputValueField(key, name: name, description: description, type: type, deprecationReason: deprecationReason)
    }
}

extension InputObjectFieldDefinition: @retroactive KeySubscriptable {
    public subscript(key: String) -> (any Sendable)? {
        inputValueField(key, name: name, description: description, type: type, deprecationReason: deprecationReason)
    }
}

private func inputValueField(
    _ key: String, name: String, description: String?, type: any GraphQLInputType, deprecationReason: String?
) -> (any Sendable)? {
    switch key {
    case "name": name
    case "description": description
    case "type": type
    case "isDeprecated": deprecationReason != nil
    case "deprecationReason": deprecationReason
    default: nil
    }
}
