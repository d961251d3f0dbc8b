import AggregatorCore
import Foundation
import GraphQL

/// `me`, and the admin's `tenants`, `createTenant`, `rotateTenantKey`, `setTenantActive`. Every change is
/// put into this instance's directory at once; other instances see it on their next refresh.
enum TenantResolvers {
    /// The admin key belongs to no tenant; `me` shows it as this fixed pseudo-tenant.
    static let adminTenant = Tenant(
        id: UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)), name: "admin", active: true, keyPrefix: "admin",
        createdAt: Date(timeIntervalSince1970: 0), updatedAt: Date(timeIntervalSince1970: 0))

    static func me(_ c: GraphQLContext) -> Tenant {
        switch c.principal {
        case .admin: adminTenant
        case .tenant(let tenant): tenant
        }
    }

    static func tenants(_ c: GraphQLContext) async throws -> [Tenant] {
        try c.requireAdmin("tenants")
        return try await c.services.store.tenants()
    }

    static func createTenant(_ args: Map, _ c: GraphQLContext) async throws -> TenantWithKey {
        try c.requireAdmin("createTenant")
        let name = (args["name"].optionalString ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 200 else { throw GraphQLAPIError.badInput("name must be 1 to 200 characters.") }
        let key = APIKey.generate()
        let tenant = try await c.services.store.createTenant(name: name, keyHash: APIKey.hash(key), keyPrefix: APIKey.displayPrefix(key))
        c.services.directory.remember(TenantRecord(tenant: tenant, keyHash: APIKey.hash(key)))
        return TenantWithKey(tenant: tenant, apiKey: key)
    }

    static func rotateTenantKey(_ args: Map, _ c: GraphQLContext) async throws -> TenantWithKey {
        try c.requireAdmin("rotateTenantKey")
        let id = try tenantID(args)
        let key = APIKey.generate()
        guard let tenant = try await c.services.store.rotateTenantKey(id: id, keyHash: APIKey.hash(key), keyPrefix: APIKey.displayPrefix(key))
        else { throw GraphQLAPIError.notFound("No tenant with id '\(id.graphQLID)'.") }
        c.services.directory.remember(TenantRecord(tenant: tenant, keyHash: APIKey.hash(key)))
        return TenantWithKey(tenant: tenant, apiKey: key)
    }

    static func setTenantActive(_ args: Map, _ c: GraphQLContext) async throws -> Tenant {
        try c.requireAdmin("setTenantActive")
        let id = try tenantID(args)
        guard let active = args["active"].bool else { throw GraphQLAPIError.badInput("active is required.") }
        guard let tenant = try await c.services.store.setTenantActive(id: id, active: active) else {
            throw GraphQLAPIError.notFound("No tenant with id '\(id.graphQLID)'.")
        }
        c.services.directory.remember(tenant)
        return tenant
    }

    static func setTenantLimits(_ args: Map, _ c: GraphQLContext) async throws -> Tenant {
        try c.requireAdmin("setTenantLimits")
        let id = try tenantID(args)
        let input = args["limits"]
        func count(_ name: String) throws -> Int? {
            guard let value = input[name].int else { return nil }
            guard value >= 0 else { throw GraphQLAPIError.badInput("limits.\(name) must not be negative.") }
            return value
        }
        func budget(_ name: String) throws -> Money? {
            guard let text = input[name].optionalString else { return nil }
            let money = try DecimalScalar.money(.string(text), field: "limits.\(name)", maxFractionDigits: Money.fractionDigits)
            guard money >= .zero else { throw GraphQLAPIError.badInput("limits.\(name) must not be negative.") }
            return money
        }
        let limits = TenantLimits(
            requestsPerMinute: try count("requestsPerMinute"), tokensPerMinute: try count("tokensPerMinute"),
            dailyBudget: try budget("dailyBudget"), monthlyBudget: try budget("monthlyBudget"))
        guard let tenant = try await c.services.store.setTenantLimits(id: id, limits: limits) else {
            throw GraphQLAPIError.notFound("No tenant with id '\(id.graphQLID)'.")
        }
        c.services.directory.remember(tenant)
        return tenant
    }

    static func limitStatus(_ args: Map, _ c: GraphQLContext) async throws -> LimitStatusValue {
        let tenant: Tenant
        switch c.principal {
        case .tenant(let own):
            if let asked = args["tenantId"].optionalString, UUID(uuidString: asked) != own.id {
                throw GraphQLAPIError.notFound("No tenant with id '\(asked)'.")
            }
            tenant = c.services.directory.tenant(id: own.id) ?? own
        case .admin:
            guard let text = args["tenantId"].optionalString else { throw GraphQLAPIError.badInput("tenantId is required for the admin key.") }
            guard let id = UUID(uuidString: text), let found = try await c.services.store.tenant(id: id) else {
                throw GraphQLAPIError.notFound("No tenant with id '\(text)'.")
            }
            tenant = found
        }
        let usage = try await c.services.limiter?.usage(of: tenant) ?? LimitUsage()
        return LimitStatusValue(tenantID: tenant.id, limits: tenant.limits, usage: usage)
    }

    private static func tenantID(_ args: Map) throws -> UUID {
        let text = args["id"].optionalString ?? ""
        guard let id = UUID(uuidString: text) else { throw GraphQLAPIError.notFound("No tenant with id '\(text)'.") }
        return id
    }
}

/// `LimitStatus`: a tenant's limits and its counters now.
struct LimitStatusValue: Sendable {
    var tenantID: UUID
    var limits: TenantLimits
    var usage: LimitUsage
}
