import AggregatorCore
import AggregatorWire
import Foundation
import GraphQL

/// `providers` and `models`: what the catalog knows, for everyone.
enum CatalogResolvers {
    static func providers(_ c: GraphQLContext) async -> [ProviderValue] {
        var out = await c.services.catalog.health().map {
            ProviderValue(name: $0.name, enabled: true, healthy: $0.healthy, streaming: $0.capabilities.streaming, tools: $0.capabilities.tools)
        }
        // Providers this gateway knows but that are not configured are listed as off.
        for name in ModelCatalog.knownProviderNames.sorted() where !out.contains(where: { $0.name == name }) {
            out.append(ProviderValue(name: name, enabled: false, healthy: false, streaming: true, tools: true))
        }
        return out
    }

    static func models(_ c: GraphQLContext) async -> [ModelValue] {
        await c.services.catalog.models().map { ModelValue(id: $0.id, provider: $0.ownedBy) }
    }
}
