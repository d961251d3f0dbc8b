import AggregatorCore
import Foundation
import PostgresNIO

extension PostgresStore {
    static func tenantRecord(_ row: PostgresRandomAccessRow) throws -> TenantRecord {
        TenantRecord(
            tenant: Tenant(
                id: try row.uuid("id"), name: try row.string("name"), active: try row.bool("active"), keyPrefix: try row.string("key_prefix"),
                createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at")),
            keyHash: try row.string("key_hash"))
    }

    // Timestamps come from the database's clock, which every instance shares (the key caches compare them).
    public func createTenant(name: String, keyHash: String, keyPrefix: String) async throws -> Tenant {
        let rows = try await query(
            """
            INSERT INTO tenants (name, key_hash, key_prefix, created_at, updated_at)
            VALUES (\(name), \(keyHash), \(keyPrefix), date_trunc('milliseconds', now()), date_trunc('milliseconds', now()))
            RETURNING id, name, active, key_hash, key_prefix, created_at, updated_at
            """)
        guard let row = rows.first else { throw PostgresStoreError.unexpectedValue(column: "tenants") }
        return try Self.tenantRecord(row).tenant
    }

    public func tenant(id: UUID) async throws -> Tenant? {
        try await query("SELECT id, name, active, key_hash, key_prefix, created_at, updated_at FROM tenants WHERE id = \(id)")
            .first.map(Self.tenantRecord)?.tenant
    }

    public func tenant(keyHash: String) async throws -> TenantRecord? {
        try await query("SELECT id, name, active, key_hash, key_prefix, created_at, updated_at FROM tenants WHERE key_hash = \(keyHash)")
            .first.map(Self.tenantRecord)
    }

    public func tenants() async throws -> [Tenant] {
        try await query("SELECT id, name, active, key_hash, key_prefix, created_at, updated_at FROM tenants ORDER BY created_at, id")
            .map { try Self.tenantRecord($0).tenant }
    }

    public func tenantRecords(updatedSince since: Date) async throws -> [TenantRecord] {
        try await query(
            """
            SELECT id, name, active, key_hash, key_prefix, created_at, updated_at FROM tenants
            WHERE updated_at >= \(since) ORDER BY updated_at
            """
        ).map(Self.tenantRecord)
    }

    public func setTenantActive(id: UUID, active: Bool) async throws -> Tenant? {
        try await query(
            """
            UPDATE tenants SET active = \(active), updated_at = date_trunc('milliseconds', now()) WHERE id = \(id)
            RETURNING id, name, active, key_hash, key_prefix, created_at, updated_at
            """
        ).first.map(Self.tenantRecord)?.tenant
    }

    public func rotateTenantKey(id: UUID, keyHash: String, keyPrefix: String) async throws -> Tenant? {
        try await query(
            """
            UPDATE tenants SET key_hash = \(keyHash), key_prefix = \(keyPrefix), updated_at = date_trunc('milliseconds', now())
            WHERE id = \(id)
            RETURNING id, name, active, key_hash, key_prefix, created_at, updated_at
            """
        ).first.map(Self.tenantRecord)?.tenant
    }
}
