import GraphQL

/// Bounds on what one operation may ask for, checked before it runs.
public struct QueryLimits: Sendable {
    /// Deepest field nesting (introspection included: GraphiQL's own query needs about 13).
    public var maxDepth: Int
    /// Fields the operation may resolve, each list field's children counted `first` times.
    public var maxComplexity: Int
    /// Largest query text accepted.
    public var maxQueryBytes: Int

    public init(maxDepth: Int = 15, maxComplexity: Int = 5_000, maxQueryBytes: Int = 100_000) {
        self.maxDepth = maxDepth
        self.maxComplexity = maxComplexity
        self.maxQueryBytes = maxQueryBytes
    }
}

/// Walks an operation's selections (fragments expanded) to find its depth, its cost and its root fields.
struct OperationShape {
    let fragments: [String: FragmentDefinition]
    let variables: [String: Map]
    /// Children of a field with a `first` argument count this many times when `first` is not given.
    static let defaultPageSize = 20

    struct Measure {
        var depth = 0
        var cost = 0
    }

    func measure(_ set: SelectionSet, depth: Int = 1, visiting: Set<String> = []) -> Measure {
        var out = Measure()
        for field in fields(of: set, visiting: visiting) {
            var cost = 1
            var deepest = depth
            if let children = field.selectionSet {
                let inner = measure(children, depth: depth + 1, visiting: visiting)
                cost += multiplier(field) * inner.cost
                deepest = inner.depth
            }
            out.depth = max(out.depth, deepest)
            out.cost = out.cost &+ cost
            if out.cost > Int(Int32.max) { return out }
        }
        return out
    }

    /// The fields a selection set selects, through inline fragments and fragment spreads (cycles cut).
    func fields(of set: SelectionSet, visiting: Set<String> = []) -> [Field] {
        var out: [Field] = []
        for selection in set.selections {
            switch selection {
            case let field as Field:
                out.append(field)
            case let inline as InlineFragment:
                out += fields(of: inline.selectionSet, visiting: visiting)
            case let spread as FragmentSpread:
                let name = spread.name.value
                guard !visiting.contains(name), let fragment = fragments[name] else { continue }
                out += fields(of: fragment.selectionSet, visiting: visiting.union([name]))
            default:
                continue
            }
        }
        return out
    }

    private func multiplier(_ field: Field) -> Int {
        guard let argument = field.arguments.first(where: { $0.name.value == "first" }) else { return 1 }
        switch argument.value {
        case let literal as IntValue: return max(1, Int(literal.value) ?? Self.defaultPageSize)
        case let variable as Variable: return max(1, variables[variable.name.value]?.int ?? Self.defaultPageSize)
        default: return Self.defaultPageSize
        }
    }
}
