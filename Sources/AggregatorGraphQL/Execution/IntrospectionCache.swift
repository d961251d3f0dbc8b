import Foundation
import GraphQL
import Synchronization

/// Answers to operations that select only introspection fields (`__schema`, `__type`, `__typename`), which depend
/// on the document and its variables alone: the schema never changes while the process runs, and nothing in them
/// is a tenant's. GraphiQL's introspection query costs GraphQLSwift about 60 ms of CPU to execute; every tool
/// that opens sends it, so it is executed once per distinct document.
final class IntrospectionCache: Sendable {
    /// Distinct documents kept; past that the cache starts over (tools send a handful of different ones).
    static let capacity = 32
    private let results = Mutex<[String: GraphQLResult]>([:])

    /// The key of an operation whose answer may be cached, or nil.
    static func key(query: String, operation: OperationDefinition, operationName: String?, variables: [String: Map]) -> String? {
        guard operation.operation == .query else { return nil }
        let introspective = operation.selectionSet.selections.allSatisfy { selection in
            guard let field = selection as? Field else { return false }
            return ["__schema", "__type", "__typename"].contains(field.name.value) && field.directives.isEmpty
        }
        guard introspective else { return nil }
        var key = query + "\u{0}" + (operationName ?? "")
        if !variables.isEmpty {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            guard let data = try? encoder.encode(variables) else { return nil }
            key += "\u{0}" + String(decoding: data, as: UTF8.self)
        }
        return key
    }

    func result(for key: String) -> GraphQLResult? {
        results.withLock { $0[key] }
    }

    func store(_ result: GraphQLResult, for key: String) {
        guard result.errors.isEmpty else { return }
        results.withLock { results in
            if results.count >= Self.capacity { results.removeAll() }
            results[key] = result
        }
    }
}
