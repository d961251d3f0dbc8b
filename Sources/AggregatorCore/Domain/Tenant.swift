import Foundation

public struct Tenant: Sendable, Hashable, Identifiable {
    public var id: UUID
    public var name: String
    public var active: Bool
    public var keyPrefix: String
    public var createdAt: Date
    public var updatedAt: Date
    public var limits: TenantLimits

    public init(
        id: UUID, name: String, active: Bool, keyPrefix: String, createdAt: Date, updatedAt: Date, limits: TenantLimits = TenantLimits()
    ) {
        self.id = id
        self.name = name
        self.active = active
        self.keyPrefix = keyPrefix
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.limits = limits
    }
}

/// A tenant's caps (SPEC §16); nil: no limit. Minutes, days and months are UTC.
public struct TenantLimits: Sendable, Hashable, Codable {
    public var requestsPerMinute: Int?
    /// Input plus output tokens.
    public var tokensPerMinute: Int?
    public var dailyBudget: Money?
    public var monthlyBudget: Money?

    public init(requestsPerMinute: Int? = nil, tokensPerMinute: Int? = nil, dailyBudget: Money? = nil, monthlyBudget: Money? = nil) {
        self.requestsPerMinute = requestsPerMinute
        self.tokensPerMinute = tokensPerMinute
        self.dailyBudget = dailyBudget
        self.monthlyBudget = monthlyBudget
    }

    /// No limit at all: such a tenant's requests skip the limiter entirely.
    public var isEmpty: Bool { requestsPerMinute == nil && tokensPerMinute == nil && dailyBudget == nil && monthlyBudget == nil }
    public var hasBudget: Bool { dailyBudget != nil || monthlyBudget != nil }
}

/// A tenant as the store holds it: with the hash of its current key.
public struct TenantRecord: Sendable, Hashable {
    public var tenant: Tenant
    public var keyHash: String

    public init(tenant: Tenant, keyHash: String) {
        self.tenant = tenant
        self.keyHash = keyHash
    }
}

/// Who is making a request.
public enum Principal: Sendable, Hashable {
    case admin
    case tenant(Tenant)

    public var tenantID: UUID? {
        if case .tenant(let t) = self { return t.id }
        return nil
    }

    public var isAdmin: Bool { self == .admin }
}
