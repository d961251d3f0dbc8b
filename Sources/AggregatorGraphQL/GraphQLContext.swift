import AggregatorCore
import Foundation

/// What the resolvers reach: the store protocols, the in-memory directory, the model catalog, the event
/// bus and the job actions. Built once by the server; never a concrete store.
public struct GraphQLServices: Sendable {
    public var store: any Store
    public var jobStore: any JobStore
    public var directory: Directory
    public var catalog: ModelCatalog
    public var bus: any EventBus
    public var jobs: JobActions
    /// Events a subscription may hold unread before it is cut off.
    public var subscriptionBufferSize: Int
    /// The tenants' limit counters (`limitStatus`).
    public var limiter: (any Limiter)?

    public init(
        store: any Store, jobStore: any JobStore, directory: Directory, catalog: ModelCatalog, bus: any EventBus, jobs: JobActions,
        subscriptionBufferSize: Int = 256, limiter: (any Limiter)? = nil
    ) {
        self.limiter = limiter
        self.store = store
        self.jobStore = jobStore
        self.directory = directory
        self.catalog = catalog
        self.bus = bus
        self.jobs = jobs
        self.subscriptionBufferSize = subscriptionBufferSize
    }
}

/// Creating and cancelling async jobs, done by the server's job service (which queues and publishes).
public struct JobActions: Sendable {
    public var create: @Sendable (_ tenantID: UUID, _ type: JobType, _ model: String, _ input: String) async throws -> Job
    public var cancel: @Sendable (_ id: UUID, _ tenantID: UUID?) async throws -> Job?

    public init(
        create: @escaping @Sendable (UUID, JobType, String, String) async throws -> Job,
        cancel: @escaping @Sendable (UUID, UUID?) async throws -> Job?
    ) {
        self.create = create
        self.cancel = cancel
    }
}

/// The per-operation context every resolver gets: who asks, and the services.
public struct GraphQLContext: Sendable {
    public let principal: Principal
    public let services: GraphQLServices

    public init(principal: Principal, services: GraphQLServices) {
        self.principal = principal
        self.services = services
    }

    /// The tenant whose rows this caller may see; nil for the admin (all tenants).
    var scopeTenantID: UUID? { principal.tenantID }

    func requireAdmin(_ what: String) throws {
        guard principal.isAdmin else { throw GraphQLAPIError.forbidden("\(what) needs the admin key.") }
    }

    func visible(tenantID: UUID) -> Bool {
        guard let own = principal.tenantID else { return true }
        return own == tenantID
    }
}

extension GraphQLContext {
    /// Unwraps the context the executor hands to a resolver.
    static func from(_ value: any Sendable) throws -> GraphQLContext {
        guard let context = value as? GraphQLContext else { throw GraphQLAPIError.internalError }
        return context
    }
}
