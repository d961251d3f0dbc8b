import AggregatorCore
import Foundation
import SQLiteNIO

extension SQLiteStore {
    static let tenantColumns = """
        id, name, active, key_hash, key_prefix, created_at, updated_at, requests_per_minute, tokens_per_minute, daily_budget_units, \
        monthly_budget_units
        """

    static func tenantRecord(_ row: SQLiteRow) throws -> TenantRecord {
        TenantRecord(
            tenant: Tenant(
                id: try row.uuid("id"), name: try row.string("name"), active: try row.bool("active"),
                keyPrefix: try row.string("key_prefix"), createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"),
                limits: TenantLimits(
                    requestsPerMinute: row.optionalInt("requests_per_minute"), tokensPerMinute: row.optionalInt("tokens_per_minute"),
                    dailyBudget: row.optionalMoney("daily_budget_units"), monthlyBudget: row.optionalMoney("monthly_budget_units"))),
            keyHash: try row.string("key_hash"))
    }

    public func createTenant(name: String, keyHash: String, keyPrefix: String) async throws -> Tenant {
        let now = Date(millis: Date().millis)
        let tenant = Tenant(id: UUID(), name: name, active: true, keyPrefix: keyPrefix, createdAt: now, updatedAt: now)
        _ = try await rows(
            "INSERT INTO tenants (id, name, active, key_hash, key_prefix, created_at, updated_at) VALUES (?, ?, 1, ?, ?, ?, ?)",
            [.text(tenant.id), .text(name), .text(keyHash), .text(keyPrefix), .date(now), .date(now)])
        return tenant
    }

    public func tenant(id: UUID) async throws -> Tenant? {
        try await rows("SELECT \(Self.tenantColumns) FROM tenants WHERE id = ?", [.text(id)]).first.map(Self.tenantRecord)?.tenant
    }

    public func tenant(keyHash: String) async throws -> TenantRecord? {
        try await rows("SELECT \(Self.tenantColumns) FROM tenants WHERE key_hash = ?", [.text(keyHash)]).first.map(Self.tenantRecord)
    }

    public func tenants() async throws -> [Tenant] {
        try await rows("SELECT \(Self.tenantColumns) FROM tenants ORDER BY created_at, rowid").map { try Self.tenantRecord($0).tenant }
    }

    public func tenantRecords(updatedSince since: Date) async throws -> [TenantRecord] {
        let from: Int64 = since == .distantPast ? Int64.min : since.millis
        return try await rows(
            "SELECT \(Self.tenantColumns) FROM tenants WHERE updated_at >= ? ORDER BY updated_at", [.integer(Int(from))]
        ).map(Self.tenantRecord)
    }

    public func setTenantActive(id: UUID, active: Bool) async throws -> Tenant? {
        try await updateTenant(id: id, set: "active = ?", [.integer(active ? 1 : 0)])
    }

    public func rotateTenantKey(id: UUID, keyHash: String, keyPrefix: String) async throws -> Tenant? {
        try await updateTenant(id: id, set: "key_hash = ?, key_prefix = ?", [.text(keyHash), .text(keyPrefix)])
    }

    public func setTenantLimits(id: UUID, limits: TenantLimits) async throws -> Tenant? {
        func optional(_ value: Int?) -> SQLiteData { value.map { .integer($0) } ?? .null }
        func units(_ money: Money?) -> SQLiteData { money.map { .integer(Int($0.units)) } ?? .null }
        return try await updateTenant(
            id: id, set: "requests_per_minute = ?, tokens_per_minute = ?, daily_budget_units = ?, monthly_budget_units = ?",
            [optional(limits.requestsPerMinute), optional(limits.tokensPerMinute), units(limits.dailyBudget), units(limits.monthlyBudget)])
    }

    private func updateTenant(id: UUID, set assignments: String, _ binds: [SQLiteData]) async throws -> Tenant? {
        try await transaction { db in
            _ = try await db.unlockedRows(
                "UPDATE tenants SET \(assignments), updated_at = ? WHERE id = ?", binds + [.date(Date()), .text(id)])
            return try await db.unlockedRows("SELECT \(Self.tenantColumns) FROM tenants WHERE id = ?", [.text(id)])
                .first.map(Self.tenantRecord)?.tenant
        }
    }
}
