import Foundation

public struct Tenant: Sendable, Hashable, Identifiable {
    public var id: UUID
    public var name: String
    public var active: Bool
    public var keyPrefix: String
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: UUID, name: String, active: Bool, keyPrefix: String, createdAt: Date, updatedAt: Date) {
        self.id = id
        self.name = name
        self.active = active
        self.keyPrefix = keyPrefix
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
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
