import Foundation
import Logging
import Synchronization

/// The in-memory mirror of tenants (by key hash), prices and routes that the request path reads.
///
/// A request costs no store read in the steady state: `run` refreshes the mirror from the store every
/// `interval`, so a key deactivated, a price changed or a route moved on any instance is seen here within
/// about one interval. A key not yet in the mirror (created on another instance a moment ago) is looked up
/// once; unknown keys are remembered briefly so they cannot hammer the store.
///
/// Reads race: a refresh that read a tenant just before a mutation committed can finish after the mutation
/// updated the mirror. Every store read therefore takes a ticket before it starts, and data is applied only
/// when its ticket is newer than that of what the mirror holds (per tenant, for prices, for routes): a read
/// that began later saw at least as much, so stale data never overwrites fresh.
public final class Directory: Sendable {
    fileprivate struct State {
        var tenantsByHash: [String: Tenant] = [:]
        var hashByTenant: [UUID: String] = [:]
        var tenantsSeenUntil: Date?
        var unknownKeys: [String: ContinuousClock.Instant] = [:]
        var prices = PriceTable([])
        var storedRoutes: [String: ModelRoute] = [:]
        /// Configured routes overridden by stored ones, merged when they change rather than per request.
        var routes: [String: ModelRoute] = [:]
        var loaded = false
        /// The last ticket handed out, and the ticket of the read each part of the mirror came from.
        var lastTicket: UInt64 = 0
        var tenantTickets: [UUID: UInt64] = [:]
        var pricesTicket: UInt64 = 0
        var routesTicket: UInt64 = 0
        var changeListeners: [@Sendable () -> Void] = []

        mutating func ticket() -> UInt64 {
            lastTicket += 1
            return lastTicket
        }
    }

    private let store: any Store
    private let configuredRoutes: [String: ModelRoute]
    private let state = Mutex(State())
    private let logger: Logger
    public let interval: Duration

    public init(store: any Store, configuredRoutes: [ModelRoute], interval: Duration = .seconds(1), logger: Logger) {
        self.store = store
        self.configuredRoutes = Dictionary(configuredRoutes.map { ($0.alias, $0) }, uniquingKeysWith: { _, last in last })
        self.interval = interval
        self.logger = logger
        let configured = self.configuredRoutes
        state.withLock { $0.routes = configured }
    }

    /// Loads (then updates) the mirror from the store.
    public func refresh() async throws {
        let (since, ticket) = state.withLock { ($0.tenantsSeenUntil, $0.ticket()) }
        // Overlap the window by a second so rows written in the same instant are never missed.
        let records = try await store.tenantRecords(updatedSince: since?.addingTimeInterval(-1) ?? .distantPast)
        let prices = try await store.prices()
        let routes = try await store.routes()
        state.withLock { s in
            for record in records { s.apply(record, ticket: ticket) }
            if let newest = records.map(\.tenant.updatedAt).max() {
                s.tenantsSeenUntil = max(newest, s.tenantsSeenUntil ?? newest)
            }
            s.setPrices(prices, ticket: ticket)
            s.setStoredRoutes(routes, configured: configuredRoutes, ticket: ticket)
            s.loaded = true
        }
    }

    /// Refreshes every `interval` until cancelled.
    public func run() async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
            do {
                try await refresh()
            } catch {
                logger.warning("directory refresh failed", metadata: ["error": "\(String(describing: type(of: error)))"])
            }
        }
    }

    /// The tenant owning this key hash, or nil. Reads the store only on a miss.
    public func tenant(keyHash: String) async throws -> Tenant? {
        let cached: Tenant?? = state.withLock { s in
            if let t = s.tenantsByHash[keyHash] { return .some(t) }
            if let seen = s.unknownKeys[keyHash], seen.duration(to: .now) < interval { return .some(nil) }
            return nil
        }
        if let cached { return cached }
        let ticket = state.withLock { $0.ticket() }
        let record = try await store.tenant(keyHash: keyHash)
        state.withLock { s in
            if let record {
                s.apply(record, ticket: ticket)
            } else {
                if s.unknownKeys.count > 10_000 { s.unknownKeys.removeAll() }
                s.unknownKeys[keyHash] = .now
            }
        }
        return record?.tenant
    }

    /// Makes a change made through this instance visible at once (other instances see it on refresh): `record`
    /// is what the store returned from the change, so it is at least as new as any read begun before now.
    public func remember(_ record: TenantRecord) {
        state.withLock { s in s.apply(record, ticket: s.ticket()) }
        changed()
    }

    /// Called after each change made through this instance (scaled mode tells the other instances to re-read).
    public func onChange(_ listener: @escaping @Sendable () -> Void) {
        state.withLock { $0.changeListeners.append(listener) }
    }

    private func changed() {
        for listener in state.withLock({ $0.changeListeners }) { listener() }
    }

    /// `remember` for a change that kept the key (activation): the tenant as the store returned it.
    public func remember(_ tenant: Tenant) {
        state.withLock { s in
            guard let hash = s.hashByTenant[tenant.id] else { return }  // not mirrored: a lookup will read it
            s.apply(TenantRecord(tenant: tenant, keyHash: hash), ticket: s.ticket())
        }
        changed()
    }

    /// A mirrored tenant by id (nil when not mirrored yet: a tenant created on another instance a moment ago).
    public func tenant(id: UUID) -> Tenant? {
        state.withLock { s in s.hashByTenant[id].flatMap { s.tenantsByHash[$0] } }
    }

    public var prices: PriceTable { state.withLock { $0.prices } }

    /// Reads the price table again (after a change through this instance).
    public func reloadPrices() async throws {
        let ticket = state.withLock { $0.ticket() }
        let prices = try await store.prices()
        state.withLock { $0.setPrices(prices, ticket: ticket) }
        changed()
    }

    /// Routes in force: those stored (GraphQL) override those configured at start (`MODEL_ROUTES`).
    public var routes: [String: ModelRoute] {
        state.withLock { $0.routes }
    }

    /// Reads the stored routes again (after a change through this instance).
    public func reloadRoutes() async throws {
        let ticket = state.withLock { $0.ticket() }
        let routes = try await store.routes()
        let configured = configuredRoutes
        state.withLock { $0.setStoredRoutes(routes, configured: configured, ticket: ticket) }
        changed()
    }
}

extension Directory.State {
    fileprivate mutating func setPrices(_ prices: [ModelPrice], ticket: UInt64) {
        guard ticket > pricesTicket else { return }
        pricesTicket = ticket
        self.prices = PriceTable(prices)
    }

    fileprivate mutating func setStoredRoutes(_ routes: [ModelRoute], configured: [String: ModelRoute], ticket: UInt64) {
        guard ticket > routesTicket else { return }
        routesTicket = ticket
        storedRoutes = Dictionary(routes.map { ($0.alias, $0) }, uniquingKeysWith: { _, last in last })
        self.routes = configured.merging(storedRoutes) { _, stored in stored }
    }

    fileprivate mutating func apply(_ record: TenantRecord, ticket: UInt64) {
        guard ticket > tenantTickets[record.tenant.id, default: 0] else { return }
        tenantTickets[record.tenant.id] = ticket
        if let oldHash = hashByTenant[record.tenant.id], oldHash != record.keyHash {
            tenantsByHash[oldHash] = nil
        }
        tenantsByHash[record.keyHash] = record.tenant
        hashByTenant[record.tenant.id] = record.keyHash
        unknownKeys[record.keyHash] = nil
    }
}
