import Foundation

/// Persistent state of the gateway. One implementation per run mode (SQLite embedded, PostgreSQL scaled);
/// both pass the same contract tests.
public protocol Store: Sendable {
    /// Applies pending migrations; returns how many were applied.
    @discardableResult
    func migrate() async throws -> Int
    /// Cheap round trip, for readiness.
    func ping() async throws

    // Tenants
    func createTenant(name: String, keyHash: String, keyPrefix: String) async throws -> Tenant
    func tenant(id: UUID) async throws -> Tenant?
    func tenant(keyHash: String) async throws -> TenantRecord?
    func tenants() async throws -> [Tenant]
    /// Every tenant (with its key hash) updated at or after `since`, for the in-memory key cache.
    func tenantRecords(updatedSince since: Date) async throws -> [TenantRecord]
    func setTenantActive(id: UUID, active: Bool) async throws -> Tenant?
    func rotateTenantKey(id: UUID, keyHash: String, keyPrefix: String) async throws -> Tenant?
    /// Replaces all four limits; nil when there is no such tenant.
    func setTenantLimits(id: UUID, limits: TenantLimits) async throws -> Tenant?

    // Prices
    func prices() async throws -> [ModelPrice]
    func upsertPrice(_ price: ModelPrice) async throws -> ModelPrice
    func deletePrice(provider: String, model: String) async throws -> Bool

    // Routes
    func routes() async throws -> [ModelRoute]
    func setRoute(_ route: ModelRoute) async throws -> ModelRoute
    func deleteRoute(alias: String) async throws -> Bool

    // Metering
    /// Writes job and usage rows of finished generations in one transaction (a background write may take
    /// several). A generation whose job id is already stored is skipped, so a retried batch, or the part of it
    /// that was not written, is written exactly once.
    ///
    /// `urgency` says whether the rows may wait for idle CPU (see `WriteUrgency`); a store may ignore it.
    func record(_ generations: [Generation], urgency: WriteUrgency) async throws
    func job(id: UUID) async throws -> Job?
    func usageRecords(tenantID: UUID?, limit: Int) async throws -> [UsageRecord]

    func close() async throws
}

/// How soon a batch of metering rows must be written.
public enum WriteUrgency: Sendable {
    /// Few rows are waiting: the store may write them with CPU the requests leave over, so the write never
    /// delays a request (the embedded store writes them on a thread of Linux's idle scheduling class while the
    /// machine has idle CPU).
    case background
    /// A backlog built up, or a caller waits for the rows: write them now, at normal priority.
    case normal
}

extension Store {
    /// Writes the rows at normal priority.
    public func record(_ generations: [Generation]) async throws {
        try await record(generations, urgency: .normal)
    }
}
