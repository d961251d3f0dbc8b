import AggregatorCore
import Foundation
import PostgresNIO

extension PostgresStore {
    static let tenantColumns = """
        id, name, active, key_hash, key_prefix, created_at, updated_at, requests_per_minute, tokens_per_minute, daily_budget::text, \
        monthly_budget::text
        """

    static func tenantRecord(_ row: PostgresRandomAccessRow) throws -> TenantRecord {
        TenantRecord(
            tenant: Tenant(
                id: try row.uuid("id"), name: try row.string("name"), active: try row.bool("active"), keyPrefix: try row.string("key_prefix"),
                createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"),
                limits: TenantLimits(
                    requestsPerMinute: try row.value("requests_per_minute", as: Int?.self),
                    tokensPerMinute: try row.value("tokens_per_minute", as: Int?.self),
                    dailyBudget: try row.optionalMoney("daily_budget"), monthlyBudget: try row.optionalMoney("monthly_budget"))),
            keyHash: try row.string("key_hash"))
    }

    public func setTenantLimits(id: UUID, limits: TenantLimits) async throws -> Tenant? {
        try await query(
            """
            UPDATE tenants SET requests_per_minute = \(limits.requestsPerMinute), tokens_per_minute = \(limits.tokensPerMinute),
                daily_budget = \(limits.dailyBudget.map(NumericMoney.init))::numeric, monthly_budget = \(limits.monthlyBudget.map(NumericMoney.init))::numeric,
                updated_at = date_trunc('milliseconds', now())
            WHERE id = \(id)
            RETURNING \(unescaped: Self.tenantColumns)
            """
        ).first.map(Self.tenantRecord)?.tenant
    }

    // Timestamps come from the database's clock, which every instance shares (the key caches compare them).
    public func createTenant(name: String, keyHash: String, keyPrefix: String) async throws -> Tenant {
        let rows = try await query(
            """
            INSERT INTO tenants (name, key_hash, key_prefix, created_at, updated_at)
            VALUES (\(name), \(keyHash), \(keyPrefix), date_trunc('milliseconds', now()), date_trunc('milliseconds', now()))
            RETURNING \(unescaped: Self.tenantColumns)
            """)
        guard let row = rows.first else { throw PostgresStoreError.unexpectedValue(column: "tenants") }
        return try Self.tenantRecord(row).tenant
    }

    public func tenant(id: UUID) async throws -> Tenant? {
        try await query("SELECT \(unescaped: Self.tenantColumns) FROM tenants WHERE id = \(id)")
            .first.map(Self.tenantRecord)?.tenant
    }

    public func tenant(keyHash: String) async throws -> TenantRecord? {
        try await query("SELECT \(unescaped: Self.tenantColumns) FROM tenants WHERE key_hash = \(keyHash)")
            .first.map(Self.tenantRecord)
    }

    public func tenants() async throws -> [Tenant] {
        try await query("SELECT \(unescaped: Self.tenantColumns) FROM tenants ORDER BY created_at, id")
            .map { try Self.tenantRecord($0).tenant }
    }

    public func tenantRecords(updatedSince since: Date) async throws -> [TenantRecord] {
        try await query(
            """
            SELECT \(unescaped: Self.tenantColumns) FROM tenants
            WHERE updated_at >= \(since) ORDER BY updated_at
            """
        ).map(Self.tenantRecord)
    }

    public func setTenantActive(id: UUID, active: Bool) async throws -> Tenant? {
        try await query(
            """
            UPDATE tenants SET active = \(active), updated_at = date_trunc('milliseconds', now()) WHERE id = \(id)
            RETURNING \(unescaped: Self.tenantColumns)
            """
        ).first.map(Self.tenantRecord)?.tenant
    }

    public func rotateTenantKey(id: UUID, keyHash: String, keyPrefix: String) async throws -> Tenant? {
        try await query(
            """
            UPDATE tenants SET key_hash = \(keyHash), key_prefix = \(keyPrefix), updated_at = date_trunc('milliseconds', now())
            WHERE id = \(id)
            RETURNING \(unescaped: Self.tenantColumns)
            """
        ).first.map(Self.tenantRecord)?.tenant
    }
}
