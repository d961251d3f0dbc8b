import AggregatorWire
import Foundation
import Synchronization

/// One place a request can be sent: a provider and its own model name.
public struct ResolvedTarget: Sendable {
    public var provider: any Provider
    public var model: String

    public init(provider: any Provider, model: String) {
        self.provider = provider
        self.model = model
    }

    public var id: String { "\(provider.name)/\(model)" }
}

public struct ProviderHealth: Sendable, Hashable {
    public var name: String
    public var healthy: Bool
    public var capabilities: ProviderCapabilities
    public var modelCount: Int
}

/// The providers that are on, their (cached) model lists, and SPEC §5's model resolution.
public final class ModelCatalog: Sendable {
    private struct CachedList {
        var models: [String]
        var healthy: Bool
        var fetchedAt: ContinuousClock.Instant
    }

    public let providers: [String: any Provider]
    private let order: [String]
    private let directory: Directory
    private let cacheTTL: Duration
    private let cache = Mutex<[String: CachedList]>([:])
    /// Accepted spellings of provider prefixes.
    private static let aliases = ["anthropic": "claude"]

    public init(providers: [any Provider], directory: Directory, cacheTTL: Duration = .seconds(60)) {
        self.providers = Dictionary(providers.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.order = providers.map(\.name)
        self.directory = directory
        self.cacheTTL = cacheTTL
    }

    /// The targets to try for a client's `model`, in order. Throws 404 `model_not_found` when nothing matches.
    public func resolve(_ model: String) async throws -> [ResolvedTarget] {
        if let route = directory.routes[model] {
            let targets = route.targets.compactMap(ModelTarget.init(parsing:)).compactMap { target in
                provider(named: target.provider).map { ResolvedTarget(provider: $0, model: target.model) }
            }
            if targets.isEmpty { throw GatewayError.modelNotFound(model) }
            return targets
        }
        if let target = ModelTarget(parsing: model), let provider = provider(named: target.provider) {
            return [ResolvedTarget(provider: provider, model: target.model)]
        }
        if let target = ModelTarget(parsing: model), Self.knownProviderNames.contains(Self.aliases[target.provider] ?? target.provider) {
            // A real provider prefix whose provider is not on.
            throw GatewayError.modelNotFound(model)
        }
        var owners: [ResolvedTarget] = []
        for name in order {
            if let provider = providers[name], await modelNames(of: name).contains(model) {
                owners.append(ResolvedTarget(provider: provider, model: model))
            }
        }
        if owners.count == 1 { return owners }
        throw GatewayError.modelNotFound(model)
    }

    public static let knownProviderNames: Set<String> = ["openai", "claude", "ollama", "stub"]

    private func provider(named name: String) -> (any Provider)? {
        providers[Self.aliases[name] ?? name]
    }

    /// Every model of every provider that is on (`provider/model`), then every route alias.
    public func models() async -> [ModelObject] {
        var out: [ModelObject] = []
        for name in order {
            for model in await modelNames(of: name) {
                out.append(ModelObject(id: "\(name)/\(model)", created: 0, ownedBy: name))
            }
        }
        for alias in directory.routes.keys.sorted() {
            out.append(ModelObject(id: alias, created: 0, ownedBy: "aggregator"))
        }
        return out
    }

    public func health() async -> [ProviderHealth] {
        var out: [ProviderHealth] = []
        for name in order {
            guard let provider = providers[name] else { continue }
            let models = await modelNames(of: name)
            let healthy = cache.withLock { $0[name]?.healthy ?? false }
            out.append(ProviderHealth(name: name, healthy: healthy, capabilities: provider.capabilities, modelCount: models.count))
        }
        return out
    }

    /// A provider's model names, from the cache while fresh; a provider that is down lists nothing.
    func modelNames(of name: String) async -> [String] {
        if let cached = cache.withLock({ $0[name] }), cached.fetchedAt.duration(to: .now) < cacheTTL {
            return cached.models
        }
        guard let provider = providers[name] else { return [] }
        let entry: CachedList
        do {
            entry = CachedList(models: try await provider.listModels(), healthy: true, fetchedAt: .now)
        } catch {
            // Retry a down provider sooner than a healthy one.
            entry = CachedList(models: [], healthy: false, fetchedAt: ContinuousClock.now - cacheTTL + .seconds(5))
        }
        cache.withLock { $0[name] = entry }
        return entry.models
    }
}
