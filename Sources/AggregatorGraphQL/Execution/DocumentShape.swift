import GraphQL

/// Counts over a parsed document that the limits bound before validation: aliases, fragment definitions and
/// spreads, and how deep each value literal nests. Validation prints a wrong value in its message in time that
/// doubles with each level of nesting, so value depth is refused here first.
///
/// Its recursion follows the document's nesting, which `DocumentScanner` already bounded.
struct DocumentShape {
    let limits: QueryLimits
    private var aliases = 0
    private var spreads = 0

    init(limits: QueryLimits) {
        self.limits = limits
    }

    static func check(_ document: Document, limits: QueryLimits) -> LimitExceeded? {
        var shape = DocumentShape(limits: limits)
        do {
            try shape.walk(document)
            return nil
        } catch {
            return error
        }
    }

    private mutating func walk(_ document: Document) throws(LimitExceeded) {
        var fragments = 0
        for definition in document.definitions {
            switch definition {
            case let operation as OperationDefinition:
                for variable in operation.variableDefinitions {
                    if let value = variable.defaultValue { try checkValue(value) }
                    try checkDirectives(variable.directives)
                }
                try checkDirectives(operation.directives)
                try walk(operation.selectionSet)
            case let fragment as FragmentDefinition:
                fragments += 1
                if fragments > limits.maxFragments { throw .tooManyFragments(limit: limits.maxFragments) }
                try checkDirectives(fragment.directives)
                try walk(fragment.selectionSet)
            default:
                continue  // type system definitions: validation refuses them in a request
            }
        }
    }

    private mutating func walk(_ set: SelectionSet) throws(LimitExceeded) {
        for selection in set.selections {
            switch selection {
            case let field as Field:
                if field.alias != nil {
                    aliases += 1
                    if aliases > limits.maxAliases { throw .tooManyAliases(limit: limits.maxAliases) }
                }
                for argument in field.arguments { try checkValue(argument.value) }
                try checkDirectives(field.directives)
                if let children = field.selectionSet { try walk(children) }
            case let inline as InlineFragment:
                try checkDirectives(inline.directives)
                try walk(inline.selectionSet)
            case let spread as FragmentSpread:
                spreads += 1
                if spreads > limits.maxFragmentSpreads { throw .tooManySpreads(limit: limits.maxFragmentSpreads) }
                try checkDirectives(spread.directives)
            default:
                continue
            }
        }
    }

    private func checkDirectives(_ directives: [Directive]) throws(LimitExceeded) {
        for directive in directives {
            for argument in directive.arguments { try checkValue(argument.value) }
        }
    }

    private func checkValue(_ value: any Value, depth: Int = 0) throws(LimitExceeded) {
        switch value {
        case let list as ListValue:
            guard depth < limits.maxValueDepth else { throw .valueTooDeep(limit: limits.maxValueDepth) }
            for element in list.values { try checkValue(element, depth: depth + 1) }
        case let object as ObjectValue:
            guard depth < limits.maxValueDepth else { throw .valueTooDeep(limit: limits.maxValueDepth) }
            for field in object.fields { try checkValue(field.value, depth: depth + 1) }
        default:
            return
        }
    }

    /// Whether a variable's value (from JSON) nests deeper than `limit`; walked with a stack of its own.
    static func variableTooDeep(_ value: Map, limit: Int) -> Bool {
        var pending: [(Map, Int)] = [(value, 0)]
        while let (next, depth) = pending.popLast() {
            switch next {
            case .array(let values):
                if depth >= limit { return true }
                pending += values.map { ($0, depth + 1) }
            case .dictionary(let members):
                if depth >= limit { return true }
                pending += members.values.map { ($0, depth + 1) }
            default:
                continue
            }
        }
        return false
    }
}
