import GraphQL

/// An operation's depth, cost and root fields, fragments expanded. Each fragment is measured once, dependencies
/// first, and a spread adds its fragment's measure: linear in the document however often fragments spread each
/// other (30 fragments spreading the one before twice would expand to 2^30 fields).
struct OperationShape {
    /// Costs are counted up to here and no further, so no sum or product can overflow.
    static let costCeiling = Int(Int32.max)
    /// Children of a field with a `first` argument count this many times when `first` is not given.
    static let defaultPageSize = 20

    struct Measure {
        /// Levels of fields, the set's own fields being level 1.
        var depth = 0
        var cost = 0
        /// Fields selected at the set's own level (through inline fragments and spreads).
        var rootFields = 0
    }

    let variables: [String: Map]
    private var fragments: [String: Measure] = [:]

    /// Measures every fragment of `document`. Fragments in a cycle, or spreading an unknown fragment, measure
    /// as nothing: validation has already refused such a document.
    init(document: Document, variables: [String: Map]) {
        self.variables = variables
        var definitions: [String: FragmentDefinition] = [:]
        for case let fragment as FragmentDefinition in document.definitions { definitions[fragment.name.value] = fragment }
        // Kahn's algorithm: a fragment is measured once every fragment it spreads has been.
        var waitingOn: [String: Set<String>] = [:]
        var dependents: [String: [String]] = [:]
        for (name, definition) in definitions {
            let needs = Self.spreadNames(in: definition.selectionSet).filter { definitions[$0] != nil }
            waitingOn[name] = needs
            for needed in needs { dependents[needed, default: []].append(name) }
        }
        var ready = waitingOn.filter(\.value.isEmpty).map(\.key)
        while let name = ready.popLast(), let definition = definitions[name] {
            fragments[name] = measure(definition.selectionSet)
            for dependent in dependents[name] ?? [] {
                waitingOn[dependent]?.remove(name)
                if waitingOn[dependent]?.isEmpty == true { ready.append(dependent) }
            }
        }
    }

    func measure(_ set: SelectionSet) -> Measure {
        var out = Measure()
        for selection in set.selections {
            let part: Measure
            switch selection {
            case let field as Field:
                let inner = field.selectionSet.map(measure) ?? Measure()
                let (product, overflow) = multiplier(field).multipliedReportingOverflow(by: inner.cost)
                part = Measure(depth: inner.depth + 1, cost: overflow ? Self.costCeiling : product + 1, rootFields: 1)
            case let inline as InlineFragment:
                part = measure(inline.selectionSet)
            case let spread as FragmentSpread:
                part = fragments[spread.name.value] ?? Measure()
            default:
                continue
            }
            out.depth = max(out.depth, part.depth)
            out.cost = min(Self.costCeiling, out.cost + min(part.cost, Self.costCeiling))
            out.rootFields = min(Self.costCeiling, out.rootFields + part.rootFields)
        }
        return out
    }

    private static func spreadNames(in set: SelectionSet) -> Set<String> {
        var names: Set<String> = []
        for selection in set.selections {
            switch selection {
            case let field as Field:
                if let children = field.selectionSet { names.formUnion(spreadNames(in: children)) }
            case let inline as InlineFragment:
                names.formUnion(spreadNames(in: inline.selectionSet))
            case let spread as FragmentSpread:
                names.insert(spread.name.value)
            default:
                continue
            }
        }
        return names
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
